"""Issue 7: retention and config mistakes at the command line."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.app import App
from tracker.cli import cli
from tracker.config import config_from_mapping

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Old chip story</title><link>https://a.example/old</link>
<description>old summary</description><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;old body&lt;/p&gt;</content:encoded>
<pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>
<item><title>New chip story</title><link>https://a.example/new</link>
<description>new summary</description><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;new body&lt;/p&gt;</content:encoded>
<pubDate>Mon, 27 Jan 2025 10:00:00 GMT</pubDate></item></channel></rss>"""


def test_retention_deletes_old_bodies_keeps_stories_and_never_reimports(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, encoding="utf-8")
    config = config_from_mapping(
        {
            "database": "t.db",
            "feeds": [{"url": feed.as_uri()}],
            "topics": [{"slug": "chips", "name": "Chips", "keywords": ["chip"]}],
            "retention_days": 14,
            "site": {"output_dir": "site"},
        },
        tmp_path / "config.yaml",
    )
    now = [datetime(2025, 1, 27, 12, tzinfo=UTC)]
    with App(config, clock=lambda: now[0]) as app:
        first = app.run()
        assert first.fetch.new_entries == 2 and first.pruned == 1
        day_page = (tmp_path / "site" / "days" / "2025-01-06.html").read_bytes()
        stories = app.store.all_story_ids()
        timeline = app.topic_stories("chips")
        rows = dict(app.store.db.execute("SELECT link, content_html FROM entries").fetchall())
        assert rows["https://a.example/old"] == ""
        assert "new body" in rows["https://a.example/new"]
        # The feed still lists the old entry: it is not imported again, its body stays gone.
        feed.write_text(FEED.replace("<title>T</title>", "<title>T2</title>"), encoding="utf-8")
        now[0] += timedelta(days=2)
        second = app.run()
        assert second.fetch.fetched == 1 and second.fetch.new_entries == 0
        assert app.store.count("entries") == 2
        old = app.store.db.execute(
            "SELECT content_html, pruned_at FROM entries WHERE link = 'https://a.example/old'"
        ).fetchone()
        assert old[0] == "" and old[1] is not None
        assert app.store.all_story_ids() == stories
        assert [s.id for s in app.topic_stories("chips")] == [s.id for s in timeline]
        assert (tmp_path / "site" / "days" / "2025-01-06.html").read_bytes() == day_page
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_no_retention_keeps_everything(tmp_path: Path) -> None:
    config = config_from_mapping({"database": "t.db"}, tmp_path / "config.yaml")
    assert config.retention_days is None
    with App(config) as app:
        assert app.prune() == 0


CONFIG_MISTAKES = [
    ("colour: blue\n", "config.yaml: colour: unknown key"),
    ("retention_days: soon\n", "config.yaml: retention_days: expected an integer"),
    ("retention_days: 0\n", "config.yaml: retention_days: expected an integer of at least 1"),
    ("digest: {timeline_days: x}\n", "config.yaml: digest.timeline_days: expected an integer"),
    ("schedule: {fetch: '61 * * * *'}\n", "config.yaml: schedule.fetch: bad cron expression"),
    ("timezone: Mars/Olympus\n", "config.yaml: timezone: "),
    (
        "topics: [{slug: a, name: A, keywords: [x]}, {slug: a, name: B, keywords: [y]}]\n",
        "config.yaml: topics[1].slug: duplicate slug 'a'",
    ),
]


@pytest.mark.parametrize(("text", "message"), CONFIG_MISTAKES)
@pytest.mark.parametrize("command", ["run", "fetch", "schedule"])
def test_config_mistakes_fail_before_anything_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text("database: t.db\n" + text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", "config.yaml", command])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {message}"), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # nothing touched


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "Error: Invalid value for '--config'"),  # click: exit 2
        (lambda p: p.write_bytes(b"timezone: \xff\n"), "Error: config.yaml: "),
        (lambda p: None, "Error: config.yaml: cannot read: no such file or directory"),
    ],
    ids=["a-folder", "not-utf8", "missing"],
)
def test_unreadable_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: object, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    make(tmp_path / "config.yaml")  # type: ignore[operator]
    result = CliRunner().invoke(cli, ["--config", "config.yaml", "run"])
    assert result.exit_code == (2 if "Invalid value" in message else 1)
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "tracker.db").exists()


def test_config_without_read_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text("database: t.db\n", encoding="utf-8")

    def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # Root reads any file whatever its mode, so the refusal is simulated at the read.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    result = CliRunner().invoke(cli, ["--config", "config.yaml", "run"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: config.yaml: cannot read: permission denied")
