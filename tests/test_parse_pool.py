"""Issue 8, ingest: feeds committed in groups (Store.batched, parse_pool.Commits) and what the
parse workers hand back (parse_pool.Ahead: entries as store.entry_values rows)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tracker import parse_pool
from tracker.errors import StoreError
from tracker.models import Entry, Feed
from tracker.rows import entry_values
from tracker.store import Store

NOW = datetime(2025, 1, 7, 12, tzinfo=UTC)


def _entry(n: int, feed_url: str = "https://f.example/feed") -> Entry:
    return Entry(
        id=f"e{n:04}",
        feed_url=feed_url,
        link=f"https://f.example/{n}",
        title=f"Story {n}",
        summary=f"Text {n}",
        published=NOW - timedelta(hours=n),
    )


def _store(tmp_path: Path, feeds: int = 3) -> Store:
    store = Store(tmp_path / "tracker.db")
    for f in range(feeds):
        store.add_feed(
            f"https://f{f}.example/feed", title="", outlet="", category="", source="cli", now=NOW
        )
    return store


def _stored_elsewhere(path: Path) -> list[str]:
    """Entry ids another connection sees: what was committed."""
    with sqlite3.connect(path) as other:
        return [row[0] for row in other.execute("SELECT id FROM entries ORDER BY id")]


# --- Commits: when ---------------------------------------------------------------------------


def _feed(n: int) -> Feed:
    return Feed(url=f"https://f{n}.example/feed", outlet="", title="")


def test_commits_come_every_so_many_feeds_entries_or_seconds() -> None:
    commits: list[int] = []
    progress: list[str] = []
    clock = [0.0]
    groups = parse_pool.Commits(
        lambda: commits.append(len(progress)),
        lambda feed: progress.append(feed.url),
        feeds=3,
        entries=100,
        seconds=1.0,
        clock=lambda: clock[0],
    )
    for n in range(7):
        groups.stored(_feed(n), 10)
    assert len(commits) == 2 and len(progress) == 6  # after feeds 3 and 6
    groups.stored(_feed(7), 100)  # enough entries
    assert len(commits) == 3 and len(progress) == 8
    groups.stored(_feed(8), 0)
    clock[0] = 1.5  # the first feed not committed is a second and a half old
    groups.stored(_feed(9), 0)
    assert len(commits) == 4
    groups.flush()
    groups.flush()  # nothing left: no empty commit
    assert len(commits) == 4
    assert progress == [_feed(n).url for n in range(10)]  # every feed once, in order


def test_progress_is_called_only_once_a_feed_is_committed() -> None:
    committed = [0]
    seen: list[int] = []
    groups = parse_pool.Commits(
        lambda: committed.__setitem__(0, committed[0] + 1),
        lambda feed: seen.append(committed[0]),
        feeds=2,
    )
    groups.stored(_feed(0), 1)
    assert seen == []
    groups.stored(_feed(1), 1)
    assert seen == [1, 1]


# --- Store.batched ---------------------------------------------------------------------------


def test_batched_commits_when_told_and_at_the_end(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = tmp_path / "tracker.db"
    with store.batched() as commit:
        with store.transaction():
            store.add_entries([_entry(1, "https://f0.example/feed")], NOW)
        assert _stored_elsewhere(path) == []  # a kill now would lose it, and its fetch state
        commit()
        assert _stored_elsewhere(path) == ["e0001"]
        with store.transaction():
            store.add_entries([_entry(2, "https://f1.example/feed")], NOW)
    assert _stored_elsewhere(path) == ["e0001", "e0002"]
    assert store.search("story")  # indexed as ever
    assert {e.id for e in store.search("story")} == {"e0001", "e0002"}


def test_an_error_keeps_the_feeds_before_it_and_drops_its_own(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = tmp_path / "tracker.db"
    with pytest.raises(RuntimeError), store.batched():
        with store.transaction():
            store.add_entries([_entry(1, "https://f0.example/feed")], NOW)
        with store.transaction():
            store.add_entries([_entry(2, "https://f1.example/feed")], NOW)
            raise RuntimeError("boom")
    assert _stored_elsewhere(path) == ["e0001"]
    assert [e.id for e in store.search("story")] == ["e0001"]
    assert not store.db.conn.in_transaction


def test_batched_restores_the_checkpoint_cache_and_temp_store_settings(tmp_path: Path) -> None:
    store = _store(tmp_path)
    conn = store.db.conn
    names = ("wal_autocheckpoint", "cache_size", "temp_store")
    before = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names]
    with store.batched():
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 10_000
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -65_536
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # memory
    assert [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names] == before


@pytest.mark.parametrize("batched", [False, True])
def test_add_entry_values_stores_and_returns_only_the_new_in_order(
    tmp_path: Path, batched: bool
) -> None:
    store = _store(tmp_path)
    feed = "https://f0.example/feed"
    store.add_entries([_entry(2, feed), _entry(4, feed)], NOW)
    rows = [entry_values(_entry(n, feed)) for n in (1, 2, 3, 3, 4, 5)]
    with store.batched() if batched else contextlib.nullcontext():
        assert [v[0] for v in store.add_entry_values(rows, NOW)] == ["e0001", "e0003", "e0005"]
        assert [v[0] for v in store.add_entry_values(rows, NOW)] == []  # all known now
        assert store.add_entry_values([], NOW) == []
    assert store.count("entries") == 5
    _fts_sound(store)
    assert len(store.search("story")) == 5


def _fts_sound(store: Store) -> None:
    """SQLite's own check of the full-text index against the entries (raises if unsound)."""
    store.db.conn.execute("INSERT INTO entries_fts(entries_fts) VALUES ('integrity-check')")


def test_batched_indexes_the_entries_of_each_commit_once(tmp_path: Path) -> None:
    """The full-text index of a batch's new entries is written at each commit, one statement
    for many feeds; another process finds them once committed."""
    store = _store(tmp_path)
    path = tmp_path / "tracker.db"
    with store.batched() as commit:
        for n, feed in enumerate(("f0", "f1", "f2")):
            with store.transaction():
                store.add_entries([_entry(n, f"https://{feed}.example/feed")], NOW)
        commit()
        with store.transaction():
            store.add_entries([_entry(7, "https://f0.example/feed")], NOW)
    _fts_sound(store)
    assert {e.id for e in store.search("story")} == {"e0000", "e0001", "e0002", "e0007"}
    other = Store(path)
    assert {e.id for e in other.search("story")} == {"e0000", "e0001", "e0002", "e0007"}
    other.close()


@pytest.mark.parametrize("change", ["move", "prune"])
def test_batched_indexes_new_entries_before_anything_changes_them(
    tmp_path: Path, change: str
) -> None:
    """A feed moved (its entries follow) or bodies pruned inside a batch: the index's update
    trigger must find the rows it replaces indexed already, or SQLite finds it corrupt."""
    store = _store(tmp_path)
    with store.batched():
        with store.transaction():
            store.add_entries([_entry(5, "https://f2.example/feed")], NOW)
            if change == "move":
                store.move_feed("https://f2.example/feed", "https://f2.example/moved", NOW)
            else:
                assert store.prune_bodies(NOW + timedelta(days=1), NOW) == 1
        with store.transaction():
            store.add_entries([_entry(6, "https://f1.example/feed")], NOW)
    _fts_sound(store)
    assert {e.id for e in store.search("story")} == {"e0005", "e0006"}


@pytest.mark.parametrize("seed", range(6))
def test_random_batches_leave_the_index_as_entry_by_entry_storing_does(
    tmp_path: Path, seed: int
) -> None:
    """Random feeds' worth of entries (old and new), moves, prunes, commits and failing feeds
    inside ``batched``; the same steps one transaction each on another database. The entries
    and every search agree, and SQLite finds both indexes sound."""
    import random

    rng = random.Random(seed)
    batch, plain = Store(tmp_path / "batch.db"), Store(tmp_path / "plain.db")
    urls = [f"https://f{n}.example/feed" for n in range(4)]
    for store in (batch, plain):
        for url in urls:
            store.add_feed(url, title="", outlet="", category="", source="cli", now=NOW)
    steps: list[tuple[str, Any]] = []
    for _ in range(40):
        kind = rng.choice(["add"] * 6 + ["move", "prune", "commit", "fail"])
        feed = rng.randrange(4)
        if kind in ("add", "fail"):
            steps.append((kind, (feed, sorted(rng.sample(range(60), rng.randint(0, 6))))))
        elif kind == "move":
            steps.append((kind, (feed, f"https://f{feed}.example/feed{rng.randrange(1000)}")))
        else:
            steps.append((kind, rng.randrange(40)))

    def run(store: Store, commit: Callable[[], None]) -> None:
        for kind, arg in steps:
            if kind == "commit":
                commit()
                continue
            try:
                with store.transaction():
                    if kind in ("add", "fail"):
                        feed, numbers = arg
                        url = store.resolve(urls[feed])
                        store.add_entries([_entry(n, url) for n in numbers], NOW)
                        if kind == "fail":
                            raise RuntimeError("a feed fails half way")
                    elif kind == "move":
                        feed, new = arg
                        store.move_feed(store.resolve(urls[feed]), new, NOW)
                    else:
                        store.prune_bodies(NOW - timedelta(hours=arg), NOW)
            except RuntimeError:
                pass

    def committed_and_indexed() -> None:
        commit()
        with sqlite3.connect(tmp_path / "batch.db") as other:  # what a reader finds now
            indexed = other.execute(
                "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'story'"
            ).fetchone()[0]
            assert indexed == other.execute("SELECT count(*) FROM entries").fetchone()[0]

    with batch.batched() as commit:
        run(batch, committed_and_indexed)
    run(plain, lambda: None)
    for store in (batch, plain):
        _fts_sound(store)
    rows = "SELECT id, feed_url, title, content_html FROM entries ORDER BY id"
    assert batch.db.execute(rows).fetchall() == plain.db.execute(rows).fetchall()
    for word in ("story", "text", *(str(n) for n in range(60))):
        assert [e.id for e in batch.search(word, 100)] == [e.id for e in plain.search(word, 100)]


def test_a_batch_whose_index_cannot_be_written_keeps_no_unindexed_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    path = tmp_path / "tracker.db"
    with pytest.raises(StoreError, match="cannot write database"), store.batched() as commit:
        with store.transaction():
            store.add_entries([_entry(1, "https://f0.example/feed")], NOW)
        commit()
        with store.transaction():
            store.add_entries([_entry(2, "https://f1.example/feed")], NOW)
        monkeypatch.setattr("tracker.store._INDEX_NEW_ENTRIES", "INSERT INTO nowhere VALUES (?)")
        commit()
    assert not store.db.conn.in_transaction
    assert _stored_elsewhere(path) == ["e0001"]
    monkeypatch.undo()
    _fts_sound(store)
    assert [e.id for e in store.search("story")] == ["e0001"]


def test_batched_inside_a_transaction_leaves_it_to_the_caller(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = tmp_path / "tracker.db"
    with store.transaction():
        with store.batched() as commit:
            store.add_entries([_entry(1, "https://f0.example/feed")], NOW)
            commit()
        assert _stored_elsewhere(path) == []  # the caller's transaction decides
    assert _stored_elsewhere(path) == ["e0001"]


def test_a_database_error_inside_is_a_store_error_and_keeps_what_came_before(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    with pytest.raises(StoreError, match="cannot write database"), store.batched():
        with store.transaction():
            store.add_entries([_entry(1, "https://f0.example/feed")], NOW)
        store.db.conn.execute("INSERT INTO no_such_table VALUES (1)")
    assert _stored_elsewhere(tmp_path / "tracker.db") == ["e0001"]


# --- what workers hand back ------------------------------------------------------------------


def test_worker_rows_are_the_stores_rows() -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    entries = [
        _entry(1),
        Entry(
            id="x",
            feed_url="https://f.example/feed",
            link="",
            title="T",
            summary="",
            published=datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=east),
            updated=datetime(2025, 1, 3, tzinfo=UTC),
            guid="g",
            author="A",
            outlet="O",
            content_html="<p>x</p>",
        ),
    ]
    assert [parse_pool.entry_values(e) for e in entries] == [entry_values(e) for e in entries]
    assert [parse_pool.entry_values(e, "X") for e in entries] == [
        entry_values(e, "X") for e in entries
    ]
    assert [entry_values(e, "X")[8] for e in entries] == ["X", "O"]  # only where there is none
    naive = Entry(
        id="n", feed_url="f", link="", title="", summary="", published=datetime(2025, 1, 1)
    )
    with pytest.raises(ValueError):
        parse_pool.entry_values(naive)


def test_worker_known_ids_are_the_stores(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_entries([_entry(n, "https://f0.example/feed") for n in range(0, 1400, 2)], NOW)
    store.db.conn.commit()
    asked = [f"e{n:04}" for n in range(1300)] + ["nope", "e0002"]
    known = parse_pool.KnownIds(tmp_path / "tracker.db")
    assert known(asked) == store.known_ids(asked)
    assert len(known(asked)) == 650
    assert known([]) == set()


def test_workers_hand_back_rows_that_store_like_entries(tmp_path: Path) -> None:
    from tracker.models import Fetched

    body = (
        b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Site</title>"
        b"<link>https://site.example/</link><item><title>One</title>"
        b"<link>https://site.example/1</link><pubDate>Mon, 06 Jan 2025 10:00:00 +0000</pubDate>"
        b"<description>&lt;p&gt;Hello&lt;/p&gt;</description></item></channel></rss>"
    )
    fetched = Fetched(url="https://site.example/feed", status=200, body=body)
    store = Store(tmp_path / "tracker.db")
    ahead = parse_pool._parse(fetched, fetched.url, NOW, "", tmp_path / "tracker.db", fetched.url)
    assert isinstance(ahead, parse_pool.Ahead)
    assert ahead.parsed.title == "Site" and ahead.parsed.entries == ()
    (row,) = ahead.values
    assert row[0] and row[2] == "https://site.example/1"
    assert row[8] == "Site"  # the outlet, from the feed's title on a first fetch
    assert row[9] == "2025-01-06T10:00:00+00:00"
    store.close()
    message = parse_pool._parse(
        Fetched(url=fetched.url, status=200, body=b"<html></html>"),
        fetched.url,
        NOW,
        "",
        tmp_path / "tracker.db",
        fetched.url,
    )
    assert isinstance(message, str) and "not a feed" in message


# --- App.fetch -------------------------------------------------------------------------------


def _rss_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for f in range(count):
        items = "".join(
            f"<item><title>Story {f}-{i}</title><link>https://s{f}.example/{i}</link>"
            f"<pubDate>Mon, 06 Jan 2025 {i:02}:00:00 +0000</pubDate></item>"
            for i in range(5)
        )
        body = (
            f"<rss version='2.0'><channel><title>Feed {f}</title>{items}</channel></rss>"
            if f != 7
            else "<html><body>not a feed</body></html>"
        )
        path = folder / f"feed{f:02}.xml"
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("workers", [0, 2])
def test_fetch_reports_progress_once_each_feed_is_committed(tmp_path: Path, workers: int) -> None:
    from tracker.app import App
    from tracker.config import config_from_mapping

    files = _rss_files(tmp_path / "feeds", 40)
    db = tmp_path / "tracker.db"
    data = {
        "database": str(db),
        "feeds": [{"url": p.as_uri()} for p in files],
        "site": {"output_dir": str(tmp_path / "site")},
    }
    done: list[str] = []

    def progress(feed: Feed) -> None:
        with sqlite3.connect(db) as other:
            (fetched,) = other.execute(
                "SELECT last_fetched FROM feeds WHERE url = ?", [feed.url]
            ).fetchone()
        assert fetched is not None  # committed, as a killed run would keep it
        done.append(feed.url)

    with App(config_from_mapping(data, tmp_path / "config.yaml"), clock=lambda: NOW) as app:
        app.parse_workers = workers
        report = app.fetch(all_feeds=True, progress=progress)
        assert done == sorted(p.as_uri() for p in files)  # every feed once, in order
        assert report.new_entries == 39 * 5 and len(report.failed) == 1
        assert app.store.count("entries") == 195
        assert not app.store.db.conn.in_transaction
