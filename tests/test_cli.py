"""The command line: help everywhere, instant help, exit codes and Error: lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracker.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out.extend(all_commands(command, (*prefix, name)))
    return out


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    if not isinstance(command, click.Group):
        assert "Example" in result.output


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from tracker.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'sklearn', 'numpy', 'scipy', 'feedparser', 'httpx', 'jinja2',\n"
        "         'sqlite_utils', 'apscheduler'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_config_mistake_is_an_error_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.yaml").write_text("feeds:\n  - url: 3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["feeds", "list"], env={"TRACKER_CONFIG": None})
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: config.yaml: feeds[0].url: expected a string"


def test_missing_config_names_the_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.yaml"), "fetch"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'nope.yaml'}: cannot read")


def test_config_comes_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["topics", "list"], env={"TRACKER_CONFIG": str(config)})
    assert result.exit_code == 1
    assert "timezone: unknown time zone 'Mars/Olympus'" in result.stderr


@pytest.mark.parametrize(
    "args", [["nope"], ["digest", "--date", "27/01/2025"], ["fetch", "--bogus"]]
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert CliRunner().invoke(cli, args).exit_code == 2


def test_unknown_topic_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("topics: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "topics", "show", "nope"])
    assert result.exit_code == 1 and "no such topic: nope" in result.stderr


def test_topics_list_json_reads_the_config(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "topics:\n  - {slug: chips, name: Chips, keywords: [chip]}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "topics", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"slug": "chips", "name": "Chips", "stories": 0}]
    assert (tmp_path / "tracker.db").exists()
