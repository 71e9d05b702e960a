"""Issue 7: one lock per database (no overlapping runs), logging and exit statuses."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tracker import logs, schedule
from tracker.cli import cli
from tracker.config import load_config
from tracker.errors import BusyError, StoreError
from tracker.lock import DatabaseLock, holder, lock_path

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Chip maker ships a new GPU</title><link>https://a.example/1</link>
<pubDate>Mon, 27 Jan 2025 10:00:00 GMT</pubDate></item></channel></rss>"""


def make_config(root: Path, feeds: list[str]) -> Path:
    config = root / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": "tracker.db",
                "feeds": [{"url": u} for u in feeds],
                "site": {"output_dir": "site"},
            }
        ),
        encoding="utf-8",
    )
    return config


def good_feed(root: Path) -> str:
    path = root / "feed.xml"
    path.write_bytes(FEED)
    return path.as_uri()


# --- the lock ------------------------------------------------------------------------------------


def test_second_holder_is_refused_at_once_and_named(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    with DatabaseLock(db):
        assert f"pid={__import__('os').getpid()}" in lock_path(db).read_text()
        with pytest.raises(BusyError) as info, DatabaseLock(db):
            pass
    assert "another tracker run is using the database (pid " in str(info.value)
    assert "--wait" in str(info.value)
    assert isinstance(info.value, StoreError)
    with DatabaseLock(db):  # released: free again
        pass
    assert holder(lock_path(db)) == ""  # a released lock names nobody


def test_lock_is_reentrant_per_object(tmp_path: Path) -> None:
    lock = DatabaseLock(tmp_path / "tracker.db")
    with lock, lock:
        assert lock.held
    assert not lock.held


def test_waiting_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    first = DatabaseLock(db)
    first.acquire()
    got = threading.Event()

    def second() -> None:
        with DatabaseLock(db, wait=60):
            got.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not got.wait(0.3)  # still held by the first
    first.release()
    thread.join(30)
    assert got.is_set()


def test_a_wait_can_be_cancelled(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    cancel = threading.Event()
    cancel.set()
    with DatabaseLock(db), pytest.raises(BusyError), DatabaseLock(db, wait=3600, cancel=cancel):
        pass


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="database folder does not exist"):
        DatabaseLock(tmp_path / "nope" / "tracker.db").acquire()


def test_stale_lock_file_of_a_dead_process_does_not_block(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    lock_path(db).write_text("pid=999999 started=2025-01-01T00:00:00+00:00 command=tracker\n")
    with DatabaseLock(db):
        pass


def test_cli_run_while_locked_exits_3_and_waits_with_wait(tmp_path: Path) -> None:
    config = make_config(tmp_path, [good_feed(tmp_path)])
    db = tmp_path / "tracker.db"
    command = [sys.executable, "-m", "tracker", "--config", str(config)]
    with DatabaseLock(db):
        busy = subprocess.run([*command, "run"], capture_output=True, text=True, timeout=120)
        assert busy.returncode == 3, busy.stderr
        assert busy.stderr.startswith("Error: another tracker run is using the database (pid ")
        fetch = subprocess.run([*command, "fetch"], capture_output=True, text=True, timeout=120)
        assert fetch.returncode == 3
        waiting = subprocess.Popen(
            [*command, "--wait", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=2)  # blocked while we hold the lock
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert not db.with_name("tracker.db-journal").exists()


def test_scheduler_job_skips_its_turn_when_the_lock_stays_busy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(make_config(tmp_path, [good_feed(tmp_path)]))
    schedule.stopping.set()  # as after SIGTERM: a waiting job gives up at once
    try:
        with DatabaseLock(config.database), caplog.at_level(logging.INFO, "tracker"):
            logging.getLogger("tracker").propagate = True
            schedule.run_job(config, schedule.fetch_job)
    finally:
        schedule.stopping.clear()
    assert "fetch_job skipped: another tracker run is using the database" in caplog.text
    schedule.run_job(config, schedule.fetch_job)  # free again: it runs


def test_scheduler_job_survives_a_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(make_config(tmp_path, []))

    def broken(app: object) -> str:
        raise RuntimeError("boom")

    logging.getLogger("tracker").propagate = True
    with caplog.at_level(logging.INFO, "tracker"):
        schedule.run_job(config, broken)
    assert "broken crashed" in caplog.text and "boom" in caplog.text


# --- logging and exit statuses ------------------------------------------------------------------


def test_under_cron_a_good_run_is_silent(tmp_path: Path) -> None:
    config = make_config(tmp_path, [good_feed(tmp_path)])
    result = CliRunner().invoke(cli, ["--config", str(config), "run"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""


def test_verbose_logs_one_line_per_feed_and_quiet_prints_nothing(tmp_path: Path) -> None:
    bad = (tmp_path / "missing.xml").as_uri()
    config = make_config(tmp_path, [good_feed(tmp_path), bad])
    result = CliRunner().invoke(cli, ["--config", str(config), "--verbose", "fetch", "--all"])
    assert result.exit_code == 0, result.output
    assert "fetched 1, not modified 0, failed 1" in result.stdout
    lines = result.stderr.splitlines()
    assert any("DEBUG tracker.app: fetched file://" in x and "1 new entries" in x for x in lines)
    assert any("DEBUG tracker.app: failed: cannot read file" in x for x in lines)
    quiet = CliRunner().invoke(cli, ["--config", str(config), "-q", "fetch", "--all"])
    assert quiet.exit_code == 0
    assert quiet.stdout == "" and quiet.stderr == ""


def test_every_feed_failing_exits_4(tmp_path: Path) -> None:
    config = make_config(tmp_path, [(tmp_path / "a.xml").as_uri(), (tmp_path / "b.xml").as_uri()])
    for args in (["run"], ["fetch", "--all"], ["-q", "fetch", "--all"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 4, (args, result.output)
        assert "Error: every feed failed (2)" in result.stderr


def test_no_feeds_due_is_not_a_failure(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    assert CliRunner().invoke(cli, ["--config", str(config), "run"]).exit_code == 0


def test_verbose_and_quiet_exclude_each_other(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-v", "-q", "--config", str(tmp_path / "c.yaml"), "run"])
    assert result.exit_code == 2


def test_help_documents_exit_statuses() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "3  another run holds the database lock" in result.output
    assert "4  every feed failed" in result.output
    assert "--wait" in result.output and "--quiet" in result.output


def test_log_lines_never_span_lines() -> None:
    out = StringIO()
    logger = logs.setup(logs.NORMAL, interactive=False, stream=out)
    logger.warning("feed said: %s", "line one\nline two\r\nthree")
    try:
        raise ValueError("x")
    except ValueError:
        logger.exception("crashed")
    text = out.getvalue()
    assert text.count("\n") == 2, text
    assert logs.level_for(logs.NORMAL, interactive=False) == logging.WARNING
    assert logs.level_for(logs.NORMAL, interactive=False, daemon=True) == logging.INFO
    assert logs.level_for(logs.QUIET, interactive=True) == logging.ERROR
    assert logs.level_for(logs.VERBOSE, interactive=False) == logging.DEBUG


@pytest.mark.parametrize(
    "args",
    [
        ["site"],
        ["feeds", "add", "--no-check", "https://b.example/feed.xml"],
        ["feeds", "remove", "https://c.example/feed.xml"],
        ["feeds", "import", "subscriptions.opml"],
    ],
)
def test_commands_that_write_wait_for_the_lock_too(tmp_path: Path, args: list[str]) -> None:
    config = make_config(tmp_path, ["https://a.example/feed.xml"])
    (tmp_path / "subscriptions.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline type="rss" text="B" xmlUrl="https://b.example/feed.xml"/></body></opml>',
        encoding="utf-8",
    )
    args = [str(tmp_path / a) if a.endswith(".opml") else a for a in args]
    runner = CliRunner()
    added = ["feeds", "add", "--no-check", "https://c.example/feed.xml"]
    assert runner.invoke(cli, ["--config", str(config), *added]).exit_code == 0
    db = tmp_path / "tracker.db"
    before = db.read_bytes()
    with DatabaseLock(db):
        busy = runner.invoke(cli, ["--config", str(config), *args])
        assert busy.exit_code == 3, busy.output
        assert "another tracker run is using the database" in busy.output
    assert db.read_bytes() == before  # nothing was written while the lock was held
    done = runner.invoke(cli, ["--config", str(config), *args])
    assert done.exit_code == 0, done.output
