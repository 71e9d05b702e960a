"""Issue 8: the site rebuild renders only changed pages, with the bytes of a full build; topic
matching re-runs only for changed stories, with the results of a full matching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tracker.app import App
from tracker.config import config_from_mapping
from tracker.models import Assignment, Entry, Member, Story

OUTLETS = ["Ars Technica", "The Verge", "Wired", "BBC"]
WORDS = ["chip", "Nvidia", "cloud", "court", "battery", "phone", "privacy", "kernel", "patch"]
TOPICS = [
    {"slug": "nvidia", "name": "Nvidia", "keywords": ["Nvidia"]},
    {"slug": "privacy", "name": "Privacy", "keywords": ["privacy"]},
]
FIRST = date(2025, 1, 1)


def make_app(
    tmp_path: Path, site: str = "site", topics: list[dict[str, Any]] = TOPICS, days: int = 3
) -> App:
    data = {
        "database": str(tmp_path / "tracker.db"),
        "feeds": [
            {"url": f"https://{i}.example.org/feed", "outlet": o} for i, o in enumerate(OUTLETS)
        ],
        "topics": topics,
        "site": {"output_dir": str(tmp_path / site)},
    }
    clock = datetime.combine(FIRST + timedelta(days=days), datetime.max.time(), tzinfo=UTC)
    return App(config_from_mapping(data, tmp_path / "config.yaml"), clock=lambda: clock)


def entry(day: date, i: int) -> Entry:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    o = i % len(OUTLETS)
    title = " ".join(WORDS[(i * 7 + k * day.day) % len(WORDS)] for k in range(5)).capitalize()
    return Entry(
        id=f"{day:%Y%m%d}-{i:03d}",
        feed_url=f"https://{o}.example.org/feed",
        link=f"https://{o}.example.org/{day:%Y/%m/%d}/{i}",
        title=title,
        summary=title + ". More words about " + WORDS[i % len(WORDS)],
        published=start + timedelta(minutes=37 * i),
        content_html="",
        outlet=OUTLETS[o],
    )


def save(app: App, story_id: str, entries: list[Entry]) -> None:
    """Store ``entries`` as (the members of) story ``story_id``, as clustering would."""
    store = app.store
    old = store.stories([story_id])
    members = list(old[0].members) if old else []
    members += [Member(e.id, e.title, e.link, e.outlet, e.published, e.summary) for e in entries]
    members.sort(key=lambda m: (m.published, m.entry_id))
    store.add_entries(entries, entries[0].published)
    store.save_assignments([Assignment(e.id, story_id, 0.9, ()) for e in entries])
    head = members[0]
    store.save_story(
        Story(
            story_id,
            head.title,
            head.link,
            head.summary,
            head.published,
            members[-1].published,
            tuple(members),
        )
    )


def add_day(app: App, day: date, n: int = 12) -> None:
    entries = [entry(day, i) for i in range(n)]
    with app.store.transaction():
        for k in range(0, n, 3):
            save(app, f"s{entries[k].id}", entries[k : k + 3])


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_incremental_rebuild_equals_a_full_build_byte_for_byte(tmp_path: Path) -> None:
    with make_app(tmp_path) as app:
        for d in range(3):
            add_day(app, FIRST + timedelta(days=d))
        app.update_topics()
        first = app.build_site()
        assert first.written and not first.unchanged
        assert app.build_site().written == ()  # nothing changed: nothing rendered or written

        # One more day, and an old story (day 2) grows a member: its page, the digests of the
        # days it touches, topic pages and the front pages change; the rest are not rendered.
        add_day(app, FIRST + timedelta(days=3))
        with app.store.transaction():
            save(app, "s20250102-000", [entry(FIRST + timedelta(days=3), 20)])
        app.update_topics()
        again = app.build_site()
    assert "stories/s20250102-000.html" in again.written
    assert "stories/s20250101-000.html" in again.unchanged
    assert "days/2025-01-04.html" in again.written
    assert len(again.written) + len(again.unchanged) == len(first.written) + 5  # 4 stories, 1 day
    with make_app(tmp_path, site="full") as app:
        full = app.build_site_full()
    assert files(tmp_path / "site") == files(tmp_path / "full")
    assert set(again.written) < set(full.written)


def test_a_deleted_site_folder_is_built_again_in_full(tmp_path: Path) -> None:
    with make_app(tmp_path) as app:
        add_day(app, FIRST)
        app.update_topics()
        app.build_site()
        before = files(tmp_path / "site")
        for page in ("stories/s20250101-003.html", "days/2025-01-01.html", "topics/nvidia.html"):
            (tmp_path / "site" / page).unlink()
        again = app.build_site()
        assert set(again.written) == {
            "stories/s20250101-003.html",
            "days/2025-01-01.html",
            "topics/nvidia.html",
        }
        assert files(tmp_path / "site") == before


def test_topics_are_matched_again_only_for_changed_stories_with_full_results(
    tmp_path: Path,
) -> None:
    with make_app(tmp_path) as app:
        for d in range(3):
            add_day(app, FIRST + timedelta(days=d))
        first = app.update_topics()
        assert app.store.topics_pending() == []
        add_day(app, FIRST + timedelta(days=3))
        assert len(app.store.topics_pending()) == 4
        counts = app.update_topics()
        rows = sorted(app.store.db.execute("SELECT * FROM topic_stories").fetchall())
        app.store.set_meta("topics_hash", "")  # forces a full matching
        assert app.update_topics() == counts
        assert sorted(app.store.db.execute("SELECT * FROM topic_stories").fetchall()) == rows
        assert counts["nvidia"] >= first["nvidia"] > 0
    # Edited topic definitions: every story is matched again.
    with make_app(tmp_path, topics=TOPICS[:1]) as app:
        assert set(app.update_topics()) == {"nvidia"}
        assert app.store.db.execute("SELECT DISTINCT topic FROM topic_stories").fetchall() == [
            ("nvidia",)
        ]


def test_a_new_day_and_a_failing_feed_refresh_old_digests_as_a_full_build(tmp_path: Path) -> None:
    """Old days whose stories did not change keep their recorded digest, with new neighbours,
    generation time and failing feeds: still the bytes of a full build."""
    with make_app(tmp_path, days=2) as app:
        for d in range(3):
            add_day(app, FIRST + timedelta(days=d))
        app.update_topics()
        app.build_site()
    with make_app(tmp_path, days=4) as app:
        add_day(app, FIRST + timedelta(days=20))  # far away: no old day's window sees it
        app.store.db.execute(
            "UPDATE feeds SET error_count = 3, last_error = 'boom', error_since = ?",
            ["2025-01-02T00:00:00+00:00"],
        )
        app.update_topics()
        again = app.build_site()
        assert "days/2025-01-01.html" in again.written  # the failing feed is named on every day
    with make_app(tmp_path, site="full", days=4) as app:
        app.build_site_full()
    assert files(tmp_path / "site") == files(tmp_path / "full")


def test_a_recorded_digest_that_names_other_code_is_refused() -> None:
    import pickle
    import zlib

    import pytest

    from tracker.site import _load_digest

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError, match="refused"):
        _load_digest(zlib.compress(pickle.dumps(Evil())))
