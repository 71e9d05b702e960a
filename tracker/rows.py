"""Entries as the database stores them, without the store's heavy imports.

    Entry --entry_values--> a row of the entries table (first_seen left to the store)
    ids --known_among(conn)--> the ids the database already holds

tracker.store builds on these, and so do the parse workers (tracker.parse_pool), which do
not import tracker.store: sqlite-utils and the numpy it brings were half of a worker's
start-up (about 0.15 s of CPU each; issue 8). Standard library and tracker.models only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker.models import Entry

#: Where ``entry_values`` has the id and the publication time.
VALUE_ID, VALUE_PUBLISHED = 0, 9


def ts(value: datetime) -> str:
    """A datetime as stored: UTC, second precision, ISO 8601."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def entry_values(e: Entry, outlet: str = "") -> tuple[Any, ...]:
    """An entry as ``Store.add_entry_values`` takes it: the entries table's columns in the
    store's insert order, first_seen left out (the time it is stored); ``outlet`` for an
    entry without one."""
    updated = ts(e.updated) if e.updated else None
    return (e.id, e.feed_url, e.link, e.guid, e.title, e.summary, e.content_html, e.author,
            e.outlet or outlet, ts(e.published), updated)  # fmt: skip


def known_among(conn: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
    """Which of these entry ids the database holds (one query, however many ids)."""
    sql = "SELECT id FROM entries WHERE id IN (SELECT value FROM json_each(?))"
    return {row[0] for row in conn.execute(sql, [json.dumps(list(ids))])}


class KnownIds:
    """``known_among`` through a read-only connection of its own to a database file, for
    parse workers in other processes: called like ``Store.known_ids``."""

    def __init__(self, path: Path) -> None:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        self.conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)

    def __call__(self, ids: Sequence[str]) -> set[str]:
        return known_among(self.conn, ids)
