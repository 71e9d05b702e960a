"""App-level story tests: ids stay stable whether the pipeline runs hourly or replays once.

The entries are the bundled demo corpus (examples/technews-jan2025), parsed once; each run
stores a slice of them with a fixed clock and calls ``App.cluster``, as ``tracker run`` does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker import fetch, parse
from tracker.app import App
from tracker.demo import CORPUS, corpus_feeds, demo_config
from tracker.models import Entry
from tracker.resources import examples_dir

WEEK_START = datetime(2025, 1, 20, tzinfo=UTC)
WEEK = timedelta(days=7)


def _corpus_entries() -> list[Entry]:
    corpus = examples_dir() / CORPUS
    feeds = corpus_feeds(corpus)
    seen: dict[str, Entry] = {}
    for day_dir in sorted(p for p in (corpus / "feeds").iterdir() if p.is_dir()):
        now = datetime.fromisoformat(day_dir.name + "T23:59:59+00:00")
        for path in sorted(day_dir.glob("*.xml")):
            url, outlet, _ = feeds[path.stem]
            parsed = parse.parse_feed(fetch.read_file(str(path)), feed_url=url, now=now)
            for e in parsed.entries:
                seen.setdefault(e.id, e if e.outlet else replace(e, outlet=outlet or parsed.title))
    return [e for e in seen.values() if WEEK_START <= e.published < WEEK_START + WEEK]


@pytest.fixture(scope="module")
def week() -> list[Entry]:
    return _corpus_entries()


class Clock:
    def __init__(self) -> None:
        self.now = WEEK_START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[App, Clock]]:
    config, _ = demo_config(tmp_path, examples_dir() / CORPUS)
    clock = Clock()
    with App(config, clock=clock) as app:
        app.sync_feeds()
        yield app, clock


def _store(app: App, entries: Sequence[Entry], now: datetime) -> None:
    with app.store.transaction():
        app.store.add_entries(entries, now)


def _stories(app: App) -> dict[str, frozenset[str]]:
    ids = app.store.all_story_ids()
    return {s: frozenset(m.entry_id for m in ms) for s, ms in app.store.members(ids).items()}


def test_hourly_runs_make_the_same_stories_as_one_replay(
    week: list[Entry], app: tuple[App, Clock], tmp_path: Path
) -> None:
    hourly, clock = app
    for hour in range(7 * 24):
        start = WEEK_START + timedelta(hours=hour)
        clock.now = start + timedelta(hours=1)
        _store(hourly, [e for e in week if start <= e.published < clock.now], clock.now)
        hourly.cluster()
    (tmp_path / "once").mkdir()
    config, _ = demo_config(tmp_path / "once", examples_dir() / CORPUS)
    with App(config, clock=lambda: WEEK_START + WEEK) as once:
        once.sync_feeds()
        _store(once, week, WEEK_START + WEEK)
        once.cluster()
        assert _stories(hourly) == _stories(once)
        assert len(_stories(once)) < len(week)  # stories did form
        assert [s.headline for s in hourly.store.stories(hourly.store.all_story_ids())] == [
            s.headline for s in once.store.stories(once.store.all_story_ids())
        ]
