"""A non-editable install (the built wheel) run from another folder renders the same pages."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("tracker-*.whl")
    return built


def test_the_wheel_carries_templates_corpus_and_default_config(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.name for p in (ROOT / "templates").iterdir() if p.is_file()}
    assert {f"tracker/templates/{t}" for t in templates} <= names
    assert "tracker/default-config.yaml" in names
    assert "tracker/examples/technews-jan2025/feeds.tsv" in names
    assert "tracker/examples/technews-jan2025/PROVENANCE.md" in names


def test_the_installed_demo_matches_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import tracker.resources as r; print(r.templates_dir())"
    where = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(site / "tracker" / "templates")
    for name, cwd, extra in (("installed", tmp_path, env), ("checkout", ROOT, dict(os.environ))):
        subprocess.run(
            [sys.executable, "-m", "tracker", "demo", "--out", str(tmp_path / name)],
            cwd=cwd,
            env=extra,
            capture_output=True,
            check=True,
        )
    for page in ("index.html", "days/2025-01-27.html", "topics/deepseek.html", "archive.html"):
        assert (tmp_path / "installed" / page).read_bytes() == (
            tmp_path / "checkout" / page
        ).read_bytes()
