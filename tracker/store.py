"""The only module with SQL: one SQLite file through sqlite-utils, returning models, never rows.

Tables (documented for people in docs/schema.md):

    feeds          one row per feed, with its fetch state
    entries        one row per article (id from the canonical link); entries_fts indexes it
    story_entries  which story each entry belongs to, and its similarity when it joined
    stories        one row per story: headline, link, summary, first and last seen, counts
    topic_stories  which stories each topic follows, and the terms that matched

Schema changes are named migration functions (sqlite_utils.Migrations), applied at open.
Times are stored as ISO 8601 text in UTC with second precision, so they sort as text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from tracker.errors import StoreError
from tracker.models import Assignment, Entry, Feed, Member, Story
from tracker.rows import entry_values, known_among, ts

migrations = Migrations("tracker")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE feeds (
            url TEXT PRIMARY KEY,
            outlet TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            site_url TEXT NOT NULL DEFAULT '',
            aggregator INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT 'config',
            status TEXT NOT NULL DEFAULT 'active',
            etag TEXT, last_modified TEXT, body_hash TEXT,
            last_fetched TEXT, next_fetch TEXT,
            last_error TEXT, error_count INTEGER NOT NULL DEFAULT 0, error_since TEXT,
            added_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE entries (
            id TEXT PRIMARY KEY,
            feed_url TEXT NOT NULL REFERENCES feeds(url) ON UPDATE CASCADE,
            link TEXT NOT NULL, guid TEXT,
            title TEXT NOT NULL, summary TEXT NOT NULL, content_html TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT '', outlet TEXT NOT NULL DEFAULT '',
            published TEXT NOT NULL, updated TEXT, first_seen TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX entries_published ON entries(published)")
    db.execute("CREATE INDEX entries_feed ON entries(feed_url)")
    db.table("entries").enable_fts(["title", "summary"], fts_version="FTS5", create_triggers=True)
    db.execute(
        """
        CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            headline TEXT NOT NULL, link TEXT NOT NULL, summary TEXT NOT NULL,
            first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            n_entries INTEGER NOT NULL, n_outlets INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX stories_last_seen ON stories(last_seen)")
    db.execute(
        """
        CREATE TABLE story_entries (
            entry_id TEXT PRIMARY KEY REFERENCES entries(id),
            story_id TEXT NOT NULL,
            similarity REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX story_entries_story ON story_entries(story_id)")
    db.execute(
        """
        CREATE TABLE topic_stories (
            topic TEXT NOT NULL,
            story_id TEXT NOT NULL REFERENCES stories(id),
            matched TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (topic, story_id)
        )"""
    )
    db.execute("CREATE INDEX topic_stories_story ON topic_stories(story_id)")


@migrations()
def m003_story_explanations(db: sqlite_utils.Database) -> None:
    # Issue 4, "why grouped": the terms a story's members share, and what each entry shared
    # with its story when it joined. JSON lists of strings.
    db.execute("ALTER TABLE stories ADD COLUMN shared_terms TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE story_entries ADD COLUMN joined_terms TEXT NOT NULL DEFAULT '[]'")


@migrations()
def m002_fetch_state(db: sqlite_utils.Database) -> None:
    """Issue 3: learned interval, ttl, last success, moves (and the URLs a feed moved from)."""
    for column in (
        "category TEXT NOT NULL DEFAULT ''",
        "last_success TEXT",
        "interval_seconds INTEGER",
        "ttl_minutes INTEGER",
        "moved_from TEXT",
        "moved_at TEXT",
    ):
        db.execute(f"ALTER TABLE feeds ADD COLUMN {column}")
    # Every URL a feed was known by before a permanent redirect, so that config.yaml or an
    # OPML file still naming the old URL finds the feed instead of adding it again.
    db.execute(
        """
        CREATE TABLE feed_aliases (
            url TEXT PRIMARY KEY,
            feed_url TEXT NOT NULL REFERENCES feeds(url) ON UPDATE CASCADE,
            moved_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX feed_aliases_feed ON feed_aliases(feed_url)")


@migrations()
def m007_retention(db: sqlite_utils.Database) -> None:
    """Issue 7: when retention deleted an entry's body. The row itself stays, as the record
    that the entry was seen, so a feed still listing it does not bring it back."""
    db.execute("ALTER TABLE entries ADD COLUMN pruned_at TEXT")


@migrations()
def m008_site_pages(db: sqlite_utils.Database) -> None:
    """Issue 8: what each page of a site folder was last built from, so a rebuild renders only
    pages whose inputs changed. ``fingerprint`` hashes the inputs; ``data`` keeps what other
    pages need from it (a story's search row, a day's digest); ``sort`` orders search rows."""
    db.execute(
        """
        CREATE TABLE site_pages (
            site TEXT NOT NULL,
            path TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            sort REAL NOT NULL DEFAULT 0,
            data BLOB,
            PRIMARY KEY (site, path)
        ) WITHOUT ROWID"""
    )
    # Small settings the program keeps for itself, e.g. the hash of the topic definitions the
    # stored matches were made with; and the stories saved since topics were last matched.
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE topics_pending (story_id TEXT PRIMARY KEY)")


@migrations()
def m009_site_scale(db: sqlite_utils.Database) -> None:
    """Issue 8, a year of digests: what lets a site rebuild skip what did not change.

    ``day_names``: each day's name counts for emerging terms (``tracker.trends.DayNames`` as
    JSON) and a hash of the texts they were counted from; and the day's emerging terms with a
    hash of everything they came from. A cache, counted again when stale.
    ``story_changes``: every write to a story or to its topics, in order (triggers), so a
    rebuild reads the stories changed since its last one instead of scanning them all.
    The index on ``site_pages`` reads one month of search rows.
    """
    db.execute(
        "CREATE TABLE day_names (day TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, data TEXT,"
        " emerging_key TEXT, emerging TEXT)"
    )
    db.execute(
        "CREATE TABLE story_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, story_id TEXT NOT NULL)"
    )
    for name, event, row in (
        ("stories_insert", "INSERT ON stories", "new.id"),
        ("stories_update", "UPDATE ON stories", "new.id"),
        ("topic_stories_insert", "INSERT ON topic_stories", "new.story_id"),
        ("topic_stories_delete", "DELETE ON topic_stories", "old.story_id"),
    ):
        db.execute(
            f"CREATE TRIGGER story_changes_{name} AFTER {event} BEGIN"
            f" INSERT INTO story_changes (story_id) VALUES ({row}); END"
        )
    db.execute("CREATE INDEX site_pages_sort ON site_pages(site, kind, sort)")


@migrations()
def m010_ingest_fts_in_bulk(db: sqlite_utils.Database) -> None:
    """Issue 8, ingest: ``add_entries`` indexes its new rows in one statement, not one trigger
    call per row (storing about 1.6x faster). While ``entries_fts_bulk`` holds a row, which it
    does only inside add_entries' own transaction, the insert trigger stands aside; any
    other insert into ``entries`` is indexed by the trigger as before."""
    db.execute("CREATE TABLE entries_fts_bulk (active INTEGER NOT NULL)")
    db.execute('DROP TRIGGER "entries_ai"')
    db.execute(
        'CREATE TRIGGER "entries_ai" AFTER INSERT ON "entries"'
        " WHEN NOT EXISTS (SELECT 1 FROM entries_fts_bulk) BEGIN"
        ' INSERT INTO "entries_fts" (rowid, "title", "summary")'
        ' VALUES (new.rowid, new."title", new."summary"); END'
    )


@migrations()
def m011_cluster_tokens(db: sqlite_utils.Database) -> None:
    """Issue 8, clustering: each recent entry's tokens, so that a run tokenises only its new
    entries, not the window and IDF background it re-reads (``cluster.DocTokens``)."""
    db.execute(
        "CREATE TABLE cluster_tokens (entry_id TEXT PRIMARY KEY, published TEXT NOT NULL,"
        " key TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, entity TEXT NOT NULL,"
        " words TEXT NOT NULL, service INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX cluster_tokens_published ON cluster_tokens(published)")


@migrations()
def m012_feed_identity(db: sqlite_utils.Database) -> None:
    """The URL each feed was added with, which a permanent redirect leaves as it is: entries
    without a link are named by it and their guid (``parse.entry_id``), so a feed that moved
    no longer stores them again under new ids. A feed that moved before this is given the
    oldest URL that redirects to it."""
    db.execute("ALTER TABLE feeds ADD COLUMN id_url TEXT")
    db.execute(
        "UPDATE feeds SET id_url = COALESCE(CASE WHEN moved_from IS NOT NULL THEN"
        " (SELECT a.url FROM feed_aliases a WHERE a.feed_url = feeds.url"
        "  ORDER BY a.moved_at, a.url LIMIT 1) END, url)"
    )


# What SQLite says -> what a person can do about it (issue 7: faults get a clear error).
_SQLITE_PROBLEMS = (
    ("readonly", "the database is read-only (check permissions of the file and its folder)"),
    ("locked", "the database is locked by another program (try again later)"),
    ("busy", "the database is locked by another program (try again later)"),
    ("disk is full", "the disk is full (free some space; nothing stored was lost)"),
    ("disk i/o error", "disk i/o error (check the disk; nothing stored was lost)"),
    ("not a database", "the file is not a tracker database or is corrupt"),
    ("malformed", "the database file is corrupt (restore a backup or move it aside)"),
    ("unable to open", "cannot open the database file (check the folder and permissions)"),
)


def explain(error: sqlite3.Error) -> str:
    """A person's reading of a SQLite error, or the error's own text."""
    text = str(error).lower()
    for needle, problem in _SQLITE_PROBLEMS:
        if needle in text:
            return problem
    return str(error)


def _in_chunks(values: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """``values`` in slices SQLite accepts as parameters, each with its ``?,?,…`` marks."""
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        yield chunk, ",".join("?" * len(chunk))


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _req_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Store:
    """A tracker database. Open with ``Store(path)``; ``Store(None)`` is in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # Inside ``batched`` new entries wait for the full-text index until the next commit;
        # ``_fts_from`` is the largest rowid before the first of them (None: none waits).
        self._batched = False
        self._fts_from: int | None = None
        try:
            if path is None:
                self.db = sqlite_utils.Database(memory=True)
            else:
                if not path.parent.is_dir():
                    raise StoreError(f"database folder does not exist: {path.parent}")
                conn = sqlite3.connect(str(path), timeout=30)
                self.db = sqlite_utils.Database(conn)
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            migrations.apply(self.db)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open database {path}: {explain(e)}") from e

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        try:
            with self.db.atomic():
                yield
        except sqlite3.OperationalError as e:
            raise StoreError(f"cannot write database {self.path}: {explain(e)}") from e
        except sqlite3.DatabaseError as e:  # corrupt: "database disk image is malformed"
            raise StoreError(f"cannot use database {self.path}: {explain(e)}") from e

    @contextmanager
    def batched(self) -> Iterator[Callable[[], None]]:
        """Issue 8: the transactions inside commit in groups, not one by one (App.fetch).

        Gives a function that commits what was written so far; the rest commits at the end.
        Each ``transaction`` inside is a savepoint, whole or not there at all, so a commit
        never holds half of one. On an error the writes before it are committed, then the
        error goes on. What was committed survives a killed process, as before (WAL,
        synchronous=NORMAL); a kill loses the feeds written since the last commit, whose
        fetch state was not recorded either: the next run fetches them again. Meanwhile the
        WAL is checkpointed every 40 MB instead of 4 MB and up to 64 MB of pages are cached
        (with parse workers reading, about 0.5 s less CPU in the storing process for 50,000
        entries), the savepoints' journals are kept in memory, not in temporary files (a
        feed's pages: storing the bundled corpus took half the time), and new entries enter
        the full-text index at each commit (``_index_waiting``). Inside a transaction
        already, the function does nothing and the caller's transaction decides.
        """
        conn = self.db.conn
        if conn.in_transaction:
            yield lambda: None
            return
        checkpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        temp_store = conn.execute("PRAGMA temp_store").fetchone()[0]

        def commit() -> None:
            try:
                if conn.in_transaction:
                    self._index_waiting()
                    conn.execute("COMMIT")
                conn.execute("BEGIN")
            except sqlite3.DatabaseError as e:
                raise StoreError(f"cannot write database {self.path}: {explain(e)}") from e

        conn.execute(f"PRAGMA wal_autocheckpoint={max(checkpoint, 10_000)}")
        conn.execute(f"PRAGMA cache_size={min(cache, -65_536)}")
        conn.execute("PRAGMA temp_store=MEMORY")  # each feed's savepoint journal
        self._batched = True
        try:
            conn.execute("BEGIN")
            try:
                yield commit
            finally:
                if conn.in_transaction:  # an error keeps what was written before it
                    try:
                        self._index_waiting()
                    except BaseException:
                        conn.execute("ROLLBACK")  # never entries without their index
                        raise
                    conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot write database {self.path}: {explain(e)}") from e
        finally:
            self._batched, self._fts_from = False, None
            conn.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
            conn.execute(f"PRAGMA cache_size={cache}")
            conn.execute(f"PRAGMA temp_store={temp_store}")

    def _index_waiting(self) -> None:
        """Put the entries stored since the last commit of a batch into the full-text index.

        Issue 8: one statement per commit, not per feed (FTS5 writes its pending terms out at
        every savepoint, so indexing feed by feed cost three times as much). Called before
        each commit of ``batched`` and before anything updates or deletes entries (the
        index's triggers must find the old row indexed).
        """
        if self._fts_from is not None:
            self.db.conn.execute(_INDEX_NEW_ENTRIES, [self._fts_from])
            self._fts_from = None

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # --- feeds ----------------------------------------------------------------------------

    def upsert_feed(
        self,
        url: str,
        *,
        outlet: str,
        title: str,
        aggregator: bool,
        source: str,
        now: datetime,
        category: str = "",
    ) -> bool:
        """Add a feed, or refresh its configured names; True when it was new.

        A URL that a permanent redirect moved refreshes the feed it moved to. A ``config``
        source takes the feed over (config.yaml wins, see README "Where feeds come from").
        """
        url = self.resolve(url)
        existing = self.get_feed(url)
        if existing is None:
            self.db.execute(
                "INSERT INTO feeds (url, outlet, title, aggregator, source, added_at, category,"
                " id_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [url, outlet, title, int(aggregator), source, ts(now), category, url],
            )
            return True
        self.db.execute(
            "UPDATE feeds SET outlet = :outlet,"
            " title = CASE WHEN :title != '' THEN :title ELSE title END, aggregator = :agg,"
            " status = CASE WHEN status = 'removed' THEN 'active' ELSE status END,"
            " category = CASE WHEN :category != '' THEN :category ELSE category END,"
            " source = CASE WHEN :source = 'config' THEN 'config' ELSE source END"
            " WHERE url = :url",
            {
                "outlet": outlet or existing.outlet,
                "title": title,
                "agg": int(aggregator),
                "category": category,
                "source": source,
                "url": url,
            },
        )
        return False

    def add_feed(
        self, url: str, *, title: str, outlet: str, category: str, source: str, now: datetime
    ) -> str:
        """Add a feed from OPML or the command line without touching a known one.

        Returns "added", "reactivated" (it was removed or gone) or "known". A known feed's
        names and category are left as they are: the first to add a feed owns it, and
        config.yaml owns its feeds whatever came first.
        """
        url = self.resolve(url)
        existing = self.get_feed(url)
        if existing is None:
            self.db.execute(
                "INSERT INTO feeds (url, outlet, title, source, added_at, category, id_url)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [url, outlet, title, source, ts(now), category, url],
            )
            return "added"
        if existing.status in ("removed", "gone"):
            self.db.execute(
                "UPDATE feeds SET status = 'active', next_fetch = NULL, error_count = 0,"
                " error_since = NULL, last_error = NULL WHERE url = ?",
                [url],
            )
            return "reactivated"
        return "known"

    def resolve(self, url: str) -> str:
        """The URL a feed is stored under now, following permanent moves."""
        for _ in range(100):  # alias rows cannot form a cycle, but never loop forever
            row = self.db.execute(
                "SELECT feed_url FROM feed_aliases WHERE url = ?", [url]
            ).fetchone()
            if row is None or row[0] == url:
                return url
            url = row[0]
        return url

    def retire_config_feeds(self, listed: Iterable[str]) -> list[str]:
        """Mark removed the feeds config.yaml owned but no longer lists; return their URLs."""
        keep = {self.resolve(u) for u in listed}
        rows = self.db.execute(
            "SELECT url FROM feeds WHERE source = 'config' AND status != 'removed' ORDER BY url"
        ).fetchall()
        gone = [r[0] for r in rows if r[0] not in keep]
        for url in gone:
            self.db.execute("UPDATE feeds SET status = 'removed' WHERE url = ?", [url])
        return gone

    def published_of(self, ids: Sequence[str]) -> list[datetime]:
        """When the stored entries with these ids were published (as first stored)."""
        out: list[datetime] = []
        for chunk, marks in _in_chunks(ids):
            cursor = self.db.execute(f"SELECT published FROM entries WHERE id IN ({marks})", chunk)
            out.extend(_req_dt(row[0]) for row in cursor)
        return out

    def remove_feed(self, url: str) -> bool:
        """Forget a feed and its fetch state; its entries stay (stories keep their members)."""
        url = self.resolve(url)
        with self.transaction():
            if self.get_feed(url) is None:
                return False
            self.db.execute("UPDATE feeds SET status = 'removed' WHERE url = ?", [url])
        return True

    def get_feed(self, url: str) -> Feed | None:
        rows = self._rows("SELECT * FROM feeds WHERE url = ?", [url])
        return _feed(rows[0]) if rows else None

    def feeds(self, *, include_removed: bool = False) -> list[Feed]:
        where = "" if include_removed else "WHERE status != 'removed'"
        return [_feed(r) for r in self._rows(f"SELECT * FROM feeds {where} ORDER BY url")]

    def due_feeds(self, now: datetime) -> list[Feed]:
        rows = self._rows(
            "SELECT * FROM feeds WHERE status = 'active'"
            " AND (next_fetch IS NULL OR next_fetch <= ?) ORDER BY url",
            [ts(now)],
        )
        return [_feed(r) for r in rows]

    def record_fetch(
        self,
        url: str,
        *,
        now: datetime,
        next_fetch: datetime,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        title: str = "",
        site_url: str = "",
        warning: str | None = None,
        interval_seconds: int | None = None,
        parsed: bool = False,
        ttl_minutes: int | None = None,
    ) -> None:
        """A successful fetch: store validators, clear (or note) the error.

        ``interval_seconds`` None keeps the learned interval; ``ttl_minutes`` is stored only
        when the body was ``parsed`` (a 304 says nothing about the ttl).
        """
        self.db.execute(
            """UPDATE feeds SET etag = ?, last_modified = ?, body_hash = COALESCE(?, body_hash),
               last_fetched = ?, next_fetch = ?, last_success = ?,
               title = CASE WHEN title = '' THEN ? ELSE title END,
               site_url = CASE WHEN ? != '' THEN ? ELSE site_url END,
               last_error = ?, error_count = 0, error_since = NULL,
               interval_seconds = COALESCE(?, interval_seconds),
               ttl_minutes = CASE WHEN ? THEN ? ELSE ttl_minutes END
               WHERE url = ?""",
            [
                etag,
                last_modified,
                body_hash,
                ts(now),
                ts(next_fetch),
                ts(now),
                title,
                site_url,
                site_url,
                warning,
                interval_seconds,
                int(parsed),
                ttl_minutes,
                url,
            ],
        )

    def record_error(
        self, url: str, message: str, *, now: datetime, next_fetch: datetime, gone: bool = False
    ) -> None:
        """A failed fetch or parse: the feed keeps its entries and is tried again later."""
        self.db.execute(
            """UPDATE feeds SET last_error = ?, error_count = error_count + 1,
               error_since = COALESCE(error_since, ?), last_fetched = ?, next_fetch = ?,
               status = CASE WHEN ? THEN 'gone' ELSE status END
               WHERE url = ?""",
            [message, ts(now), ts(now), ts(next_fetch), int(gone), url],
        )

    def move_feed(self, old: str, new: str, now: datetime | None = None) -> str:
        """A permanent redirect: the feed (and its entries) now live at ``new``.

        Returns "moved", or "merged" when ``new`` is already a feed: the old row is then kept
        for its entries, marked moved and no longer fetched. Either way ``old`` becomes an
        alias of ``new``.
        """
        if old == new:
            return "moved"
        self._index_waiting()  # entries follow the feed: their index rows must be there
        when = ts(now) if now is not None else ts(datetime.now(UTC))
        self.db.execute("DELETE FROM feed_aliases WHERE url = ?", [new])
        if self.get_feed(new) is not None:
            self.db.execute(
                "UPDATE feeds SET status = 'moved', moved_at = ?, next_fetch = NULL WHERE url = ?",
                [when, old],
            )
            self.db.execute("UPDATE feed_aliases SET feed_url = ? WHERE feed_url = ?", [new, old])
            outcome = "merged"
        else:
            # Entries and aliases follow through ON UPDATE CASCADE.
            self.db.execute(
                "UPDATE feeds SET url = ?, moved_from = ?, moved_at = ?,"
                " id_url = COALESCE(id_url, url) WHERE url = ?",
                [new, old, when, old],
            )
            outcome = "moved"
        self.db.execute(
            "INSERT OR REPLACE INTO feed_aliases (url, feed_url, moved_at) VALUES (?, ?, ?)",
            [old, new, when],
        )
        return outcome

    # --- entries --------------------------------------------------------------------------

    def add_entries(self, entries: Sequence[Entry], now: datetime) -> list[str]:
        """Store entries not seen before (by id); return the new ids. Known ids are kept."""
        return [row[0] for row in self.add_entry_values([entry_values(e) for e in entries], now)]

    def add_entry_values(
        self, values: Sequence[tuple[Any, ...]], now: datetime
    ) -> list[tuple[Any, ...]]:
        """``add_entries`` for entries given as ``entry_values`` (parse workers make them,
        issue 8); returns the values of the entries stored, in order."""
        if not values:
            return []
        fresh: dict[str, tuple[Any, ...]] = {}
        for v in values:
            fresh.setdefault(v[0], v)
        # Issue 8: one prepared statement for all rows (sqlite-utils' insert_all spent more
        # time building its queries than SQLite spent storing), then the full-text index
        # of the new rows in one statement, the insert trigger standing aside (m010); in a
        # ``batched`` run, one statement for all the feeds of a commit (_index_waiting).
        # Known ids are ignored by the INSERT; only when it skipped some are the stored
        # ones looked up (new rows get rowids above every earlier one).
        seen = ts(now)
        rows = [(*v, seen) for v in fresh.values()]
        with self.db.atomic():
            conn = self.db.conn
            last = conn.execute("SELECT max(rowid) FROM entries").fetchone()[0] or 0
            conn.execute("INSERT INTO entries_fts_bulk VALUES (1)")
            stored = conn.executemany(_INSERT_ENTRY, rows).rowcount
            conn.execute("DELETE FROM entries_fts_bulk")
            if stored < len(rows):
                cursor = conn.execute("SELECT id FROM entries WHERE rowid > ?", [last])
                new = {row[0] for row in cursor}
                fresh = {key: v for key, v in fresh.items() if key in new}
            if fresh and not self._batched:
                conn.execute(_INDEX_NEW_ENTRIES, [last])
            elif fresh and self._fts_from is None:
                self._fts_from = last  # indexed at the batch's next commit
        return list(fresh.values())

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these entry ids are stored (ingest skips cleaning those again)."""
        return self._known_ids(ids)

    def _known_ids(self, ids: Sequence[str]) -> set[str]:
        return known_among(self.db.conn, ids)

    def count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])

    def unclustered(self) -> list[tuple[Entry, bool]]:
        """Entries not yet in a story, oldest first, each with its feed's aggregator flag."""
        rows = self._rows(
            """SELECT e.*, f.aggregator AS _aggregator FROM entries e
               LEFT JOIN story_entries se ON se.entry_id = e.id
               LEFT JOIN feeds f ON f.url = e.feed_url
               WHERE se.entry_id IS NULL ORDER BY e.published, e.id"""
        )
        return [(_entry(r), bool(r["_aggregator"])) for r in rows]

    def clustered_since(self, since: datetime) -> list[tuple[Entry, bool, str]]:
        """Entries in stories published at or after ``since``, with aggregator flag and story."""
        rows = self._rows(
            """SELECT e.*, f.aggregator AS _aggregator, se.story_id AS _story FROM entries e
               JOIN story_entries se ON se.entry_id = e.id
               LEFT JOIN feeds f ON f.url = e.feed_url
               WHERE e.published >= ? ORDER BY e.published, e.id""",
            [ts(since)],
        )
        return [(_entry(r), bool(r["_aggregator"]), r["_story"]) for r in rows]

    def cluster_tokens(self, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """Stored clustering tokens by entry id: (key, title, summary, entity, words, service)."""
        out: dict[str, tuple[Any, ...]] = {}
        for chunk, marks in _in_chunks(ids):
            cursor = self.db.execute(
                "SELECT entry_id, key, title, summary, entity, words, service"
                f" FROM cluster_tokens WHERE entry_id IN ({marks})",
                chunk,
            )
            out.update((row[0], tuple(row[1:])) for row in cursor)
        return out

    def save_cluster_tokens(
        self, rows: Iterable[tuple[str, datetime, tuple[Any, ...]]], published_before: datetime
    ) -> None:
        """Keep (entry id, published, tokens) rows and drop those published before the cutoff."""
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO cluster_tokens"
            " (entry_id, published, key, title, summary, entity, words, service)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((entry_id, ts(published), *tokens) for entry_id, published, tokens in rows),
        )
        self.db.execute("DELETE FROM cluster_tokens WHERE published < ?", [ts(published_before)])

    def cluster_window(self, since: datetime) -> list[tuple[Any, ...]]:
        """What clustering reads of the entries in stories published at or after ``since``,
        oldest first: (id, title, summary, published, outlet, aggregator flag, link, story id,
        kept tokens as ``cluster_tokens`` returns them, or None). One query, and none of the
        columns clustering does not read (``clustered_since`` reads every one; issue 8)."""
        cursor = self.db.execute(
            """SELECT e.id, e.title, e.summary, e.published, e.outlet, f.aggregator, e.link,
                      se.story_id, t.key, t.title, t.summary, t.entity, t.words, t.service
               FROM entries e
               JOIN story_entries se ON se.entry_id = e.id
               LEFT JOIN feeds f ON f.url = e.feed_url
               LEFT JOIN cluster_tokens t ON t.entry_id = e.id
               WHERE e.published >= ? ORDER BY e.published, e.id""",
            [ts(since)],
        )
        parse = datetime.fromisoformat
        return [
            (*r[:3], parse(r[3]), r[4], bool(r[5]), *r[6:8], None if r[8] is None else r[8:])
            for r in cursor.fetchall()
        ]

    def search(self, query: str, limit: int = 50) -> list[Entry]:
        """Full-text search (FTS5 syntax), best matches first."""
        try:
            rows = self._rows(
                """SELECT e.* FROM entries_fts JOIN entries e ON e.rowid = entries_fts.rowid
                   WHERE entries_fts MATCH ? ORDER BY entries_fts.rank, e.published DESC LIMIT ?""",
                [query, limit],
            )
        except sqlite3.OperationalError as e:
            raise StoreError(f"bad search query: {query!r}") from e
        return [_entry(r) for r in rows]

    def prune_bodies(self, published_before: datetime, now: datetime) -> int:
        """Retention: delete the bodies of entries published before the cutoff; return how many.

        Title, link, summary and story membership stay, so stories, topic timelines and
        digests are unchanged, and the kept row stops the entry being imported again.
        """
        self._index_waiting()
        cursor = self.db.execute(
            "UPDATE entries SET content_html = '', pruned_at = ?"
            " WHERE published < ? AND pruned_at IS NULL",
            [ts(now), ts(published_before)],
        )
        return max(cursor.rowcount, 0)

    # --- stories --------------------------------------------------------------------------

    def save_assignments(self, assignments: Sequence[Assignment]) -> None:
        self.db.table("story_entries").insert_all(
            (
                {
                    "entry_id": a.entry_id,
                    "story_id": a.story_id,
                    "similarity": a.similarity,
                    "joined_terms": json.dumps(list(a.terms)),
                }
                for a in assignments
            ),
            pk="entry_id",
            ignore=True,
        )

    def save_story(self, story: Story) -> None:
        """Write a story's summary row (its members live in story_entries)."""
        self.db.table("stories").upsert(
            {
                "id": story.id,
                "headline": story.headline,
                "link": story.link,
                "summary": story.summary,
                "first_seen": ts(story.first_seen),
                "last_seen": ts(story.last_seen),
                "n_entries": len(story.members),
                "n_outlets": len(story.outlets),
                "shared_terms": json.dumps(list(story.why)),
            },
            pk="id",
        )
        # Issue 8: topics are re-matched only for stories saved since the last matching.
        self.db.execute("INSERT OR IGNORE INTO topics_pending VALUES (?)", [story.id])

    def save_stories(self, stories: Sequence[Story]) -> None:
        """``save_story`` for each, in order, as two statements run many times: the same
        upsert sqlite-utils makes (so the same triggers fire in the same order), without
        its per-call look-ups of the table's columns (App.cluster saves a run's stories)."""
        self.db.conn.executemany(
            "INSERT INTO stories (id, headline, link, summary, first_seen, last_seen,"
            " n_entries, n_outlets, shared_terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET headline = excluded.headline,"
            " link = excluded.link, summary = excluded.summary,"
            " first_seen = excluded.first_seen, last_seen = excluded.last_seen,"
            " n_entries = excluded.n_entries, n_outlets = excluded.n_outlets,"
            " shared_terms = excluded.shared_terms",
            [
                (
                    s.id,
                    s.headline,
                    s.link,
                    s.summary,
                    ts(s.first_seen),
                    ts(s.last_seen),
                    len(s.members),
                    len(s.outlets),
                    json.dumps(list(s.why)),
                )
                for s in stories
            ],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO topics_pending VALUES (?)", [(s.id,) for s in stories]
        )

    def members(self, story_ids: Iterable[str]) -> dict[str, list[Member]]:
        """The members of each story, oldest first."""
        out: dict[str, list[Member]] = {}
        ids = sorted(set(story_ids))
        for chunk, marks in _in_chunks(ids):
            rows = self._rows(
                f"""SELECT se.story_id, se.similarity, se.joined_terms,
                       e.id, e.title, e.link, e.outlet,
                       e.published, e.summary, COALESCE(f.aggregator, 0) AS aggregator
                    FROM story_entries se JOIN entries e ON e.id = se.entry_id
                    LEFT JOIN feeds f ON f.url = e.feed_url
                    WHERE se.story_id IN ({marks}) ORDER BY e.published, e.id""",
                chunk,
            )
            for r in rows:
                out.setdefault(r["story_id"], []).append(
                    Member(
                        entry_id=r["id"],
                        title=r["title"],
                        link=r["link"],
                        outlet=r["outlet"],
                        published=_req_dt(r["published"]),
                        summary=r["summary"],
                        similarity=r["similarity"],
                        aggregator=bool(r["aggregator"]),
                        terms=tuple(json.loads(r["joined_terms"] or "[]")),
                    )
                )
        return out

    def story_ids_between(self, start: datetime, end: datetime) -> list[str]:
        """Stories with a member published in [start, end)."""
        cursor = self.db.execute(
            """SELECT DISTINCT se.story_id FROM story_entries se
               JOIN entries e ON e.id = se.entry_id
               WHERE e.published >= ? AND e.published < ? ORDER BY se.story_id""",
            [ts(start), ts(end)],
        )
        return [row[0] for row in cursor]

    def all_story_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM stories ORDER BY id")]

    def stories(self, story_ids: Iterable[str]) -> list[Story]:
        """Full stories (members and topics), in the order of the ids given."""
        ids = list(dict.fromkeys(story_ids))
        members = self.members(ids)
        topics = self.topics_of(ids)
        rows: dict[str, dict[str, Any]] = {}
        for chunk, marks in _in_chunks(ids):
            for r in self._rows(f"SELECT * FROM stories WHERE id IN ({marks})", chunk):
                rows[r["id"]] = r
        return [
            Story(
                id=i,
                headline=rows[i]["headline"],
                link=rows[i]["link"],
                summary=rows[i]["summary"],
                first_seen=_req_dt(rows[i]["first_seen"]),
                last_seen=_req_dt(rows[i]["last_seen"]),
                members=tuple(members.get(i, ())),
                topics=tuple(topics.get(i, ())),
                why=tuple(json.loads(rows[i].get("shared_terms") or "[]")),
            )
            for i in ids
            if i in rows
        ]

    def published_range(self) -> tuple[datetime, datetime] | None:
        row = self.db.execute("SELECT min(published), max(published) FROM entries").fetchone()
        if row[0] is None:
            return None
        return _req_dt(row[0]), _req_dt(row[1])

    # --- topics ---------------------------------------------------------------------------

    def set_topic_stories(self, topic: str, matches: dict[str, str]) -> None:
        """Replace the stories a topic follows (story id -> matched terms)."""
        self.db.execute("DELETE FROM topic_stories WHERE topic = ?", [topic])
        self.db.table("topic_stories").insert_all(
            ({"topic": topic, "story_id": s, "matched": m} for s, m in sorted(matches.items())),
            pk=("topic", "story_id"),
        )

    def drop_topics_except(self, slugs: Iterable[str]) -> None:
        keep = list(slugs)
        marks = ",".join("?" * len(keep)) or "''"
        self.db.execute(f"DELETE FROM topic_stories WHERE topic NOT IN ({marks})", keep)

    def topics_of(self, story_ids: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        ids = list(story_ids)
        for chunk, marks in _in_chunks(ids):
            rows = self.db.execute(
                f"SELECT story_id, topic FROM topic_stories WHERE story_id IN ({marks})"
                " ORDER BY topic",
                chunk,
            )
            for story_id, topic in rows:
                out.setdefault(story_id, []).append(topic)
        return out

    def topics_pending(self) -> list[str]:
        """Stories saved since topics were last matched (``clear_topics_pending``)."""
        return [r[0] for r in self.db.execute("SELECT story_id FROM topics_pending ORDER BY 1")]

    def clear_topics_pending(self) -> None:
        self.db.execute("DELETE FROM topics_pending")

    def set_story_topics(
        self, story_ids: Sequence[str], matches: dict[str, dict[str, str]]
    ) -> None:
        """Replace the topics of just these stories (topic slug -> {story id: matched terms})."""
        for chunk, marks in _in_chunks(story_ids):
            self.db.execute(f"DELETE FROM topic_stories WHERE story_id IN ({marks})", chunk)
        self.db.table("topic_stories").insert_all(
            (
                {"topic": slug, "story_id": s, "matched": m}
                for slug, found in sorted(matches.items())
                for s, m in sorted(found.items())
            ),
            pk=("topic", "story_id"),
        )

    def topic_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT topic, count(*) FROM topic_stories GROUP BY topic")
        return {topic: int(n) for topic, n in rows}

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def story_fingerprint_rows(self) -> Iterator[tuple[Any, ...]]:
        """Per story, in id order: id, first_seen and what its page is built from (issue 8)."""
        return iter(
            self.db.execute(
                """SELECT s.id, s.first_seen, s.headline, s.link, s.summary, s.last_seen,
                       s.n_entries, s.n_outlets, s.shared_terms,
                       (SELECT group_concat(topic, ',') FROM
                          (SELECT topic FROM topic_stories t WHERE t.story_id = s.id
                           ORDER BY topic)) AS topics
                   FROM stories s ORDER BY s.id"""
            )
        )

    def member_times(self, story_ids: Sequence[str]) -> Iterator[str]:
        """The published times (ISO text) of the members of these stories."""
        for chunk, marks in _in_chunks(story_ids):
            cursor = self.db.execute(
                f"""SELECT DISTINCT substr(e.published, 1, 13) FROM story_entries se
                    JOIN entries e ON e.id = se.entry_id WHERE se.story_id IN ({marks})""",
                chunk,
            )
            for row in cursor:
                yield str(row[0])

    def site_records(self, site: str, kind: str) -> dict[str, tuple[str, str]]:
        """path -> (key, fingerprint) of the recorded pages of one kind."""
        cursor = self.db.execute(
            "SELECT path, key, fingerprint FROM site_pages INDEXED BY site_pages_sort"
            " WHERE site = ? AND kind = ?",
            [site, kind],
        )
        return {path: (key, fp) for path, key, fp in cursor}

    def site_data(self, site: str, kind: str) -> Iterator[tuple[str, Any]]:
        """(key, data) of the recorded pages of one kind, by ``sort`` descending then key."""
        cursor = self.db.execute(
            "SELECT key, data FROM site_pages INDEXED BY site_pages_sort"
            " WHERE site = ? AND kind = ? ORDER BY sort DESC, key",
            [site, kind],
        )
        return iter(cursor)

    def save_site_records(
        self, site: str, rows: Iterable[tuple[str, str, str, str, float, Any]]
    ) -> None:
        """Upsert (path, kind, key, fingerprint, sort, data) records of a site folder."""
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO site_pages (site, path, kind, key, fingerprint, sort, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(site, *row) for row in rows],
        )

    def drop_site_records(self, site: str, paths: Sequence[str]) -> None:
        for chunk, marks in _in_chunks(paths):
            self.db.execute(
                f"DELETE FROM site_pages WHERE site = ? AND path IN ({marks})", [site, *chunk]
            )

    def topic_story_ids(self, topic: str) -> list[str]:
        cursor = self.db.execute(
            """SELECT ts.story_id FROM topic_stories ts JOIN stories s ON s.id = ts.story_id
               WHERE ts.topic = ? ORDER BY s.last_seen DESC, s.id""",
            [topic],
        )
        return [row[0] for row in cursor]

    def topic_story_ids_between(self, topic: str, start: datetime, end: datetime) -> list[str]:
        """A topic's stories with a member published in [start, end), by id (issue 8)."""
        cursor = self.db.execute(
            """SELECT DISTINCT se.story_id FROM entries e
               JOIN story_entries se ON se.entry_id = e.id
               JOIN topic_stories ts ON ts.story_id = se.story_id AND ts.topic = ?
               WHERE e.published >= ? AND e.published < ? ORDER BY se.story_id""",
            [topic, ts(start), ts(end)],
        )
        return [row[0] for row in cursor]

    def clustered_texts(self, start: datetime, end: datetime) -> list[tuple[str, str, str, str]]:
        """(id, outlet, title, summary) of the entries in a story published in [start, end)."""
        cursor = self.db.execute(
            """SELECT e.id, e.outlet, e.title, e.summary FROM entries e
               JOIN story_entries se ON se.entry_id = e.id
               WHERE e.published >= ? AND e.published < ? ORDER BY e.id""",
            [ts(start), ts(end)],
        )
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in cursor]

    def day_names(self, day: date) -> tuple[str, str] | None:
        """The cached (fingerprint, JSON) name counts of a day (``m009_day_names``)."""
        row = self.db.execute(
            "SELECT fingerprint, data FROM day_names WHERE day = ?", [day.isoformat()]
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def save_day_names(self, day: date, fingerprint: str, data: str) -> None:
        self.db.execute(
            "INSERT INTO day_names (day, fingerprint, data) VALUES (?, ?, ?) ON CONFLICT (day)"
            " DO UPDATE SET fingerprint = excluded.fingerprint, data = excluded.data",
            [day.isoformat(), fingerprint, data],
        )

    def day_emerging(self, day: date) -> tuple[str, str] | None:
        """The cached (key, JSON) emerging terms of a day."""
        row = self.db.execute(
            "SELECT emerging_key, emerging FROM day_names WHERE day = ?", [day.isoformat()]
        ).fetchone()
        return None if row is None or row[0] is None else (str(row[0]), str(row[1]))

    def save_day_emerging(self, day: date, key: str, data: str) -> None:
        self.db.execute(
            "INSERT INTO day_names (day, fingerprint, emerging_key, emerging) VALUES (?, '', ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET emerging_key = excluded.emerging_key,"
            " emerging = excluded.emerging",
            [day.isoformat(), key, data],
        )

    def story_change_seq(self) -> int:
        """The number of the latest change to a story or its topics (``story_changes``)."""
        row = self.db.execute("SELECT max(seq) FROM story_changes").fetchone()
        return int(row[0] or 0)

    def stories_changed_since(self, seq: int) -> list[str]:
        """The stories written (or whose topics changed) after change ``seq``, by id."""
        cursor = self.db.execute(
            "SELECT DISTINCT story_id FROM story_changes WHERE seq > ? ORDER BY story_id", [seq]
        )
        return [row[0] for row in cursor]

    def forget_story_changes(self, upto: int) -> None:
        """Drop the changes every site has read (up to and including ``upto``)."""
        self.db.execute("DELETE FROM story_changes WHERE seq <= ?", [upto])

    def story_fingerprint_rows_of(self, story_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """``story_fingerprint_rows`` of just these stories, in id order."""
        out: list[tuple[Any, ...]] = []
        for chunk, marks in _in_chunks(sorted(story_ids)):
            out += self.db.execute(
                f"""SELECT s.id, s.first_seen, s.headline, s.link, s.summary, s.last_seen,
                       s.n_entries, s.n_outlets, s.shared_terms,
                       (SELECT group_concat(topic, ',') FROM
                          (SELECT topic FROM topic_stories t WHERE t.story_id = s.id
                           ORDER BY topic)) AS topics
                   FROM stories s WHERE s.id IN ({marks}) ORDER BY s.id""",
                chunk,
            ).fetchall()
        out.sort(key=lambda row: str(row[0]))
        return out

    def site_records_of(self, site: str, paths: Sequence[str]) -> dict[str, tuple[str, float]]:
        """path -> (fingerprint, sort) of these recorded pages."""
        out: dict[str, tuple[str, float]] = {}
        for chunk, marks in _in_chunks(paths):
            cursor = self.db.execute(
                "SELECT path, fingerprint, sort FROM site_pages"
                f" WHERE site = ? AND path IN ({marks})",
                [site, *chunk],
            )
            out.update((path, (fp, float(sort))) for path, fp, sort in cursor)
        return out

    def site_data_between(
        self, site: str, kind: str, low: float, high: float
    ) -> Iterator[tuple[str, Any]]:
        """``site_data`` of the records whose ``sort`` is in [low, high)."""
        cursor = self.db.execute(
            "SELECT key, data FROM site_pages INDEXED BY site_pages_sort"
            " WHERE site = ? AND kind = ? AND sort >= ? AND sort < ? ORDER BY sort DESC, key",
            [site, kind, low, high],
        )
        return iter(cursor)

    def site_state(self, site: str) -> str | None:
        """The data of a site folder's own record (path "")."""
        row = self.db.execute(
            "SELECT data FROM site_pages WHERE site = ? AND path = ''", [site]
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def site_paths(self, site: str, folder: str) -> list[str]:
        """The recorded paths under ``folder`` (e.g. ``stories/``) of a site folder, sorted."""
        cursor = self.db.execute(
            "SELECT path FROM site_pages WHERE site = ? AND path >= ? AND path < ? ORDER BY path",
            [site, folder, folder[:-1] + chr(ord(folder[-1]) + 1)],
        )
        return [row[0] for row in cursor]

    def site_change_seqs(self) -> list[int]:
        """The last story change each site folder's build read (``meta`` ``site_seq:*``)."""
        cursor = self.db.execute("SELECT value FROM meta WHERE key LIKE 'site\\_seq:%' ESCAPE '\\'")
        return [int(row[0]) for row in cursor]


def _feed(r: dict[str, Any]) -> Feed:
    return Feed(
        url=r["url"],
        outlet=r["outlet"],
        title=r["title"],
        site_url=r["site_url"],
        aggregator=bool(r["aggregator"]),
        status=r["status"],
        etag=r["etag"],
        last_modified=r["last_modified"],
        body_hash=r["body_hash"],
        last_fetched=_dt(r["last_fetched"]),
        next_fetch=_dt(r["next_fetch"]),
        last_error=r["last_error"],
        error_count=r["error_count"],
        error_since=_dt(r["error_since"]),
        source=r["source"],
        category=r.get("category") or "",
        last_success=_dt(r.get("last_success")),
        interval_seconds=r.get("interval_seconds"),
        ttl_minutes=r.get("ttl_minutes"),
        moved_from=r.get("moved_from"),
        moved_at=_dt(r.get("moved_at")),
        id_url=r.get("id_url"),
    )


_INSERT_ENTRY = (
    "INSERT OR IGNORE INTO entries (id, feed_url, link, guid, title, summary, content_html,"
    " author, outlet, published, updated, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


# New rows get rowids above the largest before them: SQLite's choice short of 2**63 rows.
_INDEX_NEW_ENTRIES = (
    "INSERT INTO entries_fts (rowid, title, summary)"
    " SELECT rowid, title, summary FROM entries WHERE rowid > ? ORDER BY rowid"
)


def _entry_values(e: Entry, first_seen: str) -> tuple[Any, ...]:
    """_entry_row's values in _INSERT_ENTRY's order."""
    return (*entry_values(e), first_seen)


def _entry_row(e: Entry, now: datetime) -> dict[str, Any]:
    return {
        "id": e.id,
        "feed_url": e.feed_url,
        "link": e.link,
        "guid": e.guid,
        "title": e.title,
        "summary": e.summary,
        "content_html": e.content_html,
        "author": e.author,
        "outlet": e.outlet,
        "published": ts(e.published),
        "updated": ts(e.updated) if e.updated else None,
        "first_seen": ts(now),
    }


def _entry(r: dict[str, Any]) -> Entry:
    return Entry(
        id=r["id"],
        feed_url=r["feed_url"],
        link=r["link"],
        guid=r["guid"],
        title=r["title"],
        summary=r["summary"],
        content_html=r["content_html"],
        author=r["author"],
        outlet=r["outlet"],
        published=_req_dt(r["published"]),
        updated=_dt(r["updated"]),
    )
