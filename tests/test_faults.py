"""Issue 7: disk and database faults give a clear error, lose nothing, and heal.

Kinds tried: a read-only database file, a read-only database folder, a database another
connection holds a write lock on, a full disk (a 1 MiB tmpfs when we may mount one; SQLite's
max_page_count always), a corrupt database file, and a site write that fails midway.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from tracker import site as site_module
from tracker.app import App
from tracker.cli import cli
from tracker.config import load_config
from tracker.errors import StoreError, TrackerError
from tracker.store import Store

CORPUS = Path(__file__).parent.parent / "examples" / "technews-jan2025" / "feeds" / "2025-01-27"
ROOT = os.geteuid() == 0


def make_config(root: Path, names: list[str], *, db_dir: Path | None = None) -> Path:
    feeds = []
    for name in names:
        shutil.copyfile(CORPUS / name, root / name)
        feeds.append({"url": (root / name).as_uri()})
    config = root / "config.yaml"
    database = str((db_dir or root) / "tracker.db")
    config.write_text(
        yaml.safe_dump(
            {"database": database, "feeds": feeds, "site": {"output_dir": str(root / "site")}}
        ),
        encoding="utf-8",
    )
    return config


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args, "run"])


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        conn.close()


def add_feed(config: Path, name: str) -> None:
    """Follow one more corpus feed, so the next run has something to write."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    shutil.copyfile(CORPUS / name, config.parent / name)
    data["feeds"].append({"url": (config.parent / name).as_uri()})
    config.write_text(yaml.safe_dump(data), encoding="utf-8")


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable, even for root (the immutable attribute), then restore it."""
    if ROOT:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("chattr +i is not supported here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, int]:
    config = make_config(tmp_path, ["ars-technica.xml", "bbc-technology.xml"])
    assert run(config).exit_code == 0
    before = count(tmp_path / "tracker.db")
    assert before > 0
    add_feed(config, "the-verge.xml")
    return config, before


def test_read_only_database_file(tmp_path: Path, stored: tuple[Path, int]) -> None:
    config, before = stored
    db = tmp_path / "tracker.db"
    with read_only(db):
        result = run(config)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: cannot ")
        assert "read-only" in result.stderr
        assert count(db) == before
    assert run(config).exit_code == 0  # the fault is gone: the next run works
    assert count(db) > before


def test_read_only_database_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    config = make_config(tmp_path, ["ars-technica.xml"], db_dir=folder)
    assert run(config).exit_code == 0
    before = count(folder / "tracker.db")
    add_feed(config, "the-verge.xml")
    with read_only(folder):
        result = run(config)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: cannot ")
        assert "read-only" in result.stderr or "permissions" in result.stderr
    assert count(folder / "tracker.db") == before
    assert run(config).exit_code == 0
    assert count(folder / "tracker.db") > before


def test_database_locked_by_another_program(
    tmp_path: Path, stored: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, before = stored
    db = tmp_path / "tracker.db"
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        "tracker.store.sqlite3.connect", lambda path, timeout=0: real_connect(path, timeout=0.2)
    )
    other = real_connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a write lock, as a long write by another program
    try:
        result = run(config)
        assert result.exit_code == 1, result.output
        assert "the database is locked by another program" in result.stderr
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert count(db) == before
    assert run(config).exit_code == 0
    assert count(db) > before


def test_database_full_by_max_page_count(
    tmp_path: Path, stored: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk is full as far as SQLite can tell: no page may be added."""
    config, before = stored
    db = tmp_path / "tracker.db"
    real_connect = sqlite3.connect

    def full(path: str, timeout: float = 30) -> sqlite3.Connection:
        conn = real_connect(path, timeout=timeout)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    with monkeypatch.context() as m:
        m.setattr("tracker.store.sqlite3.connect", full)
        result = run(config)
    assert result.exit_code == 1, result.output
    assert "the disk is full" in result.stderr
    assert count(db) == before
    assert run(config).exit_code == 0
    assert count(db) > before


def test_full_disk_on_a_tiny_filesystem(tmp_path: Path) -> None:
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        config = make_config(tmp_path, ["ars-technica.xml"], db_dir=mnt)
        assert run(config).exit_code == 0
        before = count(mnt / "tracker.db")
        names = ["bbc-technology.xml", "the-verge.xml", "zdnet.xml", "wired.xml"]
        for name in names:
            add_feed(config, name)
        (mnt / "ballast").write_bytes(b"\0" * (mnt.stat().st_size or 1))
        with contextlib.suppress(OSError), (mnt / "ballast2").open("wb") as f:  # fill the rest
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        result = run(config)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ")
        assert "full" in result.stderr or "disk" in result.stderr, result.stderr
        (mnt / "ballast").unlink()
        (mnt / "ballast2").unlink()
        assert count(mnt / "tracker.db") == before  # the failed run committed nothing
        assert run(config).exit_code == 0, run(config).output
        assert count(mnt / "tracker.db") > before
        conn = sqlite3.connect(mnt / "tracker.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_corrupt_database_file(tmp_path: Path, stored: tuple[Path, int]) -> None:
    config, before = stored
    db = tmp_path / "tracker.db"
    good = db.read_bytes()
    db.write_bytes(b"this is not an sqlite database at all" * 200)
    garbage = db.read_bytes()
    result = run(config)
    assert result.exit_code == 1, result.output
    assert "not a tracker database or is corrupt" in result.stderr
    assert db.read_bytes() == garbage  # what is there is not overwritten
    db.write_bytes(good)  # restored from a backup
    assert run(config).exit_code == 0
    assert count(db) > before


def test_corrupt_pages_inside_a_database(tmp_path: Path, stored: tuple[Path, int]) -> None:
    config, _ = stored
    db = tmp_path / "tracker.db"
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # keep the header and schema page
        data[offset : offset + 64] = b"\xff" * 64
    db.write_bytes(bytes(data))
    result = run(config)
    assert result.exit_code in (1, 4), result.output  # a clear error, never a traceback
    assert result.stderr.startswith("Error: ")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_store_error_messages_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "x.db").write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="not a tracker database or is corrupt"):
        Store(tmp_path / "x.db")
    with pytest.raises(StoreError, match="database folder does not exist"):
        Store(tmp_path / "nope" / "x.db")


def test_site_write_failure_never_leaves_a_half_written_page(
    tmp_path: Path, stored: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, _ = stored
    config = load_config(config_path)
    out = config.site.output_dir
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_replace = os.replace
    calls = 0

    def failing_replace(src: str, dst: str) -> None:
        nonlocal calls
        calls += 1
        if calls > 3:  # a few pages go, then the disk fails
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(site_module.os, "replace", failing_replace)
    with App(config) as app:
        app.fetch(all_feeds=True)
        app.cluster()
        app.update_topics()
        with pytest.raises(TrackerError, match="cannot write page"):
            app.build_site()
    monkeypatch.undo()
    after = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in after if p.name.endswith(".tmp")]  # no temp file left behind
    for path in after:  # every page is an old one or a whole new one
        if path in before and path.read_bytes() != before[path]:
            assert path.read_bytes().rstrip().endswith((b"</html>", b"</feed>", b"</opml>", b";"))
        if path.suffix == ".html":
            assert path.read_bytes().rstrip().endswith(b"</html>"), path
    with App(config) as app:
        report = app.build_site()
    assert report.written
