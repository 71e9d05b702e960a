"""The store: migrations, idempotent writes, FTS, stories and topics, on real SQLite files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker.errors import StoreError
from tracker.models import Assignment, Entry, Story
from tracker.store import Store, migrations

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
FEED = "https://example.com/feed.xml"


def entry(i: int, title: str = "", hours: int = 0) -> Entry:
    return Entry(
        id=f"e{i:03}",
        feed_url=FEED,
        link=f"https://example.com/{i}",
        title=title or f"Title {i}",
        summary=f"Summary {i}",
        published=NOW - timedelta(hours=hours),
        outlet="Example",
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "t.db")
    with s.transaction():
        s.upsert_feed(FEED, outlet="Example", title="", aggregator=False, source="config", now=NOW)
    return s


def test_migrations_on_empty_database_create_every_table(store: Store) -> None:
    names = set(store.db.table_names())
    assert {"feeds", "entries", "entries_fts", "stories", "story_entries", "topic_stories"} <= names
    applied = [m.name for m in migrations.applied(store.db)]
    assert applied[0] == "m001_initial" and "m003_story_explanations" in applied


def test_reopening_applies_nothing_twice_and_uses_wal(tmp_path: Path) -> None:
    Store(tmp_path / "t.db").close()
    s = Store(tmp_path / "t.db")
    assert len(migrations.applied(s.db)) == len(migrations._migrations)
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_m012_gives_each_feed_the_url_it_was_added_with(tmp_path: Path) -> None:
    """Feeds are named for their linkless entries' ids by the URL they were added with; a
    database from before m012 gets it back from the redirects it recorded."""
    path = tmp_path / "t.db"
    s = Store(path)
    with s.transaction():
        for url in ("https://a.example/feed", "https://b.example/old", "https://c.example/x"):
            s.upsert_feed(url, outlet="", title="", aggregator=False, source="config", now=NOW)
        s.move_feed("https://b.example/old", "https://b.example/mid", NOW)
        s.move_feed("https://b.example/mid", "https://b.example/new", NOW + timedelta(days=1))
    assert s.get_feed("https://b.example/new").identity == "https://b.example/old"  # type: ignore[union-attr]
    # The same database as m011 left it.
    s.db.execute("UPDATE feeds SET id_url = NULL")
    s.db.execute("ALTER TABLE feeds DROP COLUMN id_url")
    s.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm012_feed_identity'")
    s.db.conn.commit()
    s.close()
    s = Store(path)
    got = {f.url: f.identity for f in s.feeds()}
    assert got == {
        "https://a.example/feed": "https://a.example/feed",
        "https://b.example/new": "https://b.example/old",  # the oldest redirect to it
        "https://c.example/x": "https://c.example/x",
    }
    s.close()


def test_adding_the_same_entries_twice_stores_them_once(store: Store) -> None:
    with store.transaction():
        assert store.add_entries([entry(1), entry(2)], NOW) == ["e001", "e002"]
    with store.transaction():
        assert store.add_entries([entry(2), entry(3), entry(3)], NOW) == ["e003"]
    assert store.count("entries") == 3


def test_full_text_search_finds_titles(store: Store) -> None:
    with store.transaction():
        store.add_entries([entry(1, "DeepSeek shakes Nvidia"), entry(2, "Apple Mail")], NOW)
    assert [e.id for e in store.search("deepseek")] == ["e001"]
    with pytest.raises(StoreError, match="bad search query"):
        store.search('"unbalanced')


def test_stories_round_trip_with_members_and_topics(store: Store) -> None:
    with store.transaction():
        store.add_entries([entry(1, hours=2), entry(2, hours=1)], NOW)
        store.save_assignments([Assignment("e001", "se001", 1.0), Assignment("e002", "se001", 0.4)])
        members = store.members(["se001"])["se001"]
        store.save_story(
            Story(
                "se001",
                "Title 1",
                "https://example.com/1",
                "s",
                members[0].published,
                members[-1].published,
                tuple(members),
            )
        )
        store.set_topic_stories("deepseek", {"se001": "DeepSeek"})
    [story] = store.stories(["se001"])
    assert [m.entry_id for m in story.members] == ["e001", "e002"]
    assert story.topics == ("deepseek",)
    assert story.outlets == ("Example",)
    assert store.unclustered() == []
    assert store.story_ids_between(NOW - timedelta(hours=3), NOW) == ["se001"]


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_entries([entry(1)], NOW)
        raise RuntimeError("boom")
    assert store.count("entries") == 0


def test_errors_are_counted_and_cleared(store: Store) -> None:
    with store.transaction():
        store.record_error(FEED, "HTTP 500", now=NOW, next_fetch=NOW + timedelta(minutes=15))
        store.record_error(FEED, "HTTP 500", now=NOW, next_fetch=NOW + timedelta(minutes=30))
    feed = store.get_feed(FEED)
    assert feed is not None and feed.error_count == 2 and feed.error_since == NOW
    assert store.due_feeds(NOW) == []
    with store.transaction():
        store.record_fetch(
            FEED, now=NOW, next_fetch=NOW, etag='"x"', last_modified=None, body_hash="h"
        )
    feed = store.get_feed(FEED)
    assert feed is not None and feed.error_count == 0 and feed.etag == '"x"'
    assert [f.url for f in store.due_feeds(NOW)] == [FEED]


def test_a_moved_feed_keeps_its_entries(store: Store) -> None:
    with store.transaction():
        store.add_entries([entry(1)], NOW)
        store.move_feed(FEED, "https://example.com/new.xml")
    assert store.get_feed(FEED) is None
    [row] = store.db.execute("SELECT feed_url FROM entries").fetchall()
    assert row[0] == "https://example.com/new.xml"


def test_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="database folder does not exist"):
        Store(tmp_path / "nope" / "t.db")


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        Store(bad)
    assert isinstance(StoreError("x"), Exception) and sqlite3 is not None
