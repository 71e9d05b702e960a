"""tracker.digest: which stories a digest shows, in which order, and the day's counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tracker.digest import build_digest, heat
from tracker.models import Digest, FeedHealth, Member, Story, Topic, TopicDay

DAY = date(2025, 1, 27)
NOON = datetime(2025, 1, 27, 12, tzinfo=UTC)
GENERATED = datetime(2025, 1, 28, 6, tzinfo=UTC)

DEEPSEEK = Topic(slug="deepseek", name="DeepSeek", keywords=("DeepSeek",))
NVIDIA = Topic(slug="nvidia", name="NVIDIA", keywords=("Nvidia",))
EXPORT = Topic(slug="export-controls", name="Chip export controls", keywords=("export",))


def member(n: int, outlet: str, at: datetime, *, aggregator: bool = False) -> Member:
    return Member(
        entry_id=f"e{n}",
        title=f"article {n}",
        link=f"https://example.com/{n}",
        outlet=outlet,
        published=at,
        aggregator=aggregator,
    )


_counter = iter(range(1, 1_000_000))


def story(
    sid: str,
    outlets: list[str],
    *,
    at: datetime = NOON,
    topics: tuple[str, ...] = (),
    first_seen: datetime | None = None,
    discussions: int = 0,
) -> Story:
    members = [member(next(_counter), o, at + timedelta(minutes=i)) for i, o in enumerate(outlets)]
    members += [
        member(next(_counter), "Hacker News", at, aggregator=True) for _ in range(discussions)
    ]
    return Story(
        id=sid,
        headline=f"headline {sid}",
        link=f"https://example.com/{sid}",
        summary="",
        first_seen=first_seen or at,
        last_seen=max(m.published for m in members),
        members=tuple(members),
        topics=topics,
    )


def digest_of(stories: list[Story], **kwargs: Any) -> Digest:
    topics = [DEEPSEEK, NVIDIA, EXPORT]
    return build_digest(DAY, stories, topics, {}, title="t", generated=GENERATED, **kwargs)


# --- heat ---------------------------------------------------------------------------------


def test_heat_counts_distinct_outlets_and_half_an_aggregator_discussion() -> None:
    s = story("a", ["Ars", "Ars", "Verge"], discussions=2)
    assert heat(s, s.last_seen) == pytest.approx(2 + 0.5 * 2)


def test_heat_halves_after_a_day() -> None:
    s = story("a", ["Ars", "Verge"])
    assert heat(s, s.last_seen + timedelta(days=1)) == pytest.approx(heat(s, s.last_seen) / 2)
    assert heat(s, s.last_seen + timedelta(days=2)) == pytest.approx(heat(s, s.last_seen) / 4)


def test_heat_does_not_grow_when_last_seen_is_after_now() -> None:
    s = story("a", ["Ars"])
    assert heat(s, s.last_seen - timedelta(hours=5)) == pytest.approx(1.0)


# --- sections and top stories -------------------------------------------------------------


def test_stories_with_a_topic_go_to_its_section_the_rest_to_top_stories() -> None:
    a = story("a", ["Ars", "Verge"], topics=("deepseek",))
    b = story("b", ["Wired"], topics=("nvidia",))
    c = story("c", ["CNET", "ZDNet"])
    d = digest_of([a, b, c])
    assert {s.topic.slug: [x.id for x in s.stories] for s in d.sections} == {
        "deepseek": ["a"],
        "nvidia": ["b"],
    }
    assert [s.id for s in d.top_stories] == ["c"]


def test_topics_without_a_story_that_day_get_no_section() -> None:
    d = digest_of([story("a", ["Ars"], topics=("deepseek",))])
    assert [s.topic.slug for s in d.sections] == ["deepseek"]


def test_a_story_under_two_topics_is_in_both_sections_and_not_in_top_stories() -> None:
    a = story("a", ["Ars"], topics=("deepseek", "nvidia"))
    d = digest_of([a])
    assert [[x.id for x in s.stories] for s in d.sections] == [["a"], ["a"]]
    assert d.top_stories == ()
    assert [s.id for s in d.stories] == ["a"]


def test_an_unknown_topic_slug_leaves_the_story_in_top_stories() -> None:
    d = digest_of([story("a", ["Ars"], topics=("gone",))])
    assert d.sections == ()
    assert [s.id for s in d.top_stories] == ["a"]


def test_sections_order_by_story_count_then_outlets_then_slug() -> None:
    stories = [
        story("n1", ["Ars"], topics=("nvidia",)),
        story("n2", ["Ars"], topics=("nvidia",)),
        story("d1", ["Ars", "Verge", "Wired"], topics=("deepseek",)),
        story("e1", ["Ars", "Verge", "Wired"], topics=("export-controls",)),
        story("e2", ["CNET"], topics=("export-controls",)),
    ]
    d = digest_of(stories)
    # export-controls: 2 stories, 4 outlets; nvidia: 2 stories, 1 outlet; deepseek: 1 story.
    assert [s.topic.slug for s in d.sections] == ["export-controls", "nvidia", "deepseek"]


def test_equal_sections_are_ordered_by_slug() -> None:
    x = story("x", ["Ars"], topics=("nvidia",))
    y = story("y", ["Ars"], topics=("deepseek",))
    d = digest_of([x, y])
    assert [s.topic.slug for s in d.sections] == ["deepseek", "nvidia"]


def test_stories_rank_by_heat_then_id() -> None:
    hot = story("z-hot", ["Ars", "Verge", "Wired"])
    warm = story("m-warm", ["Ars", "Verge"])
    tie_b = story("b-tie", ["Ars"])
    tie_a = story("a-tie", ["CNET"])
    old = story("0-old", ["Ars", "Verge", "Wired", "CNET"], at=NOON - timedelta(days=3))
    d = digest_of([tie_b, old, warm, tie_a, hot])
    assert [s.id for s in d.top_stories] == ["z-hot", "m-warm", "a-tie", "b-tie", "0-old"]


def test_ranking_does_not_depend_on_input_order() -> None:
    stories = [
        story(f"s{i}", ["Ars", "Verge", "Wired"][: 1 + i % 3], topics=("deepseek",) * (i % 2))
        for i in range(12)
    ]
    assert digest_of(stories) == digest_of(list(reversed(stories)))


def test_top_stories_and_sections_are_cut() -> None:
    stories = [story(f"t{i:02}", ["Ars"]) for i in range(30)]
    stories += [story(f"d{i:02}", ["Ars", "Verge"], topics=("deepseek",)) for i in range(10)]
    d = digest_of(stories, max_top_stories=5, max_stories_per_topic=3)
    assert [s.id for s in d.sections[0].stories] == ["d00", "d01", "d02"]
    # Stories cut from their only section compete for the top stories (and win: 2 outlets).
    assert [s.id for s in d.top_stories] == ["d03", "d04", "d05", "d06", "d07"]
    assert d.n_stories == 40


def test_timeline_is_sorted_and_ends_on_the_day() -> None:
    days = [TopicDay(date(2025, 1, n), n, n, 1) for n in (28, 25, 27, 26)]
    d = build_digest(
        DAY,
        [story("a", ["Ars"], topics=("deepseek",))],
        [DEEPSEEK],
        {"deepseek": days},
        title="t",
        generated=GENERATED,
    )
    assert [t.day.day for t in d.sections[0].timeline] == [25, 26, 27]


# --- counts -------------------------------------------------------------------------------


def test_counts_only_members_published_that_day() -> None:
    yesterday = NOON - timedelta(days=1)
    a = Story(
        id="a",
        headline="a",
        link="https://example.com/a",
        summary="",
        first_seen=yesterday,
        last_seen=NOON,
        members=(
            member(901, "Ars", yesterday),
            member(902, "Verge", NOON),
            member(903, "Hacker News", NOON, aggregator=True),
        ),
    )
    b = story("b", ["Verge", "Wired"])
    d = digest_of([a, b])
    assert (d.n_entries, d.n_stories, d.n_outlets) == (4, 2, 2)  # Verge, Wired; not Ars, not HN


def test_the_day_follows_the_given_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    late = datetime(2025, 1, 26, 20, tzinfo=UTC)  # 27 Jan 05:00 in Tokyo
    a = story("a", ["Ars"], at=late)
    in_utc = digest_of([a])
    in_tokyo = digest_of([a], tz=tokyo)
    assert (in_utc.n_entries, in_tokyo.n_entries) == (0, 1)


def test_failing_feeds_and_neighbours_are_carried() -> None:
    feeds = [
        FeedHealth("https://b.example/feed", "Beta", "timed out", 3, None),
        FeedHealth("https://a.example/feed", "alpha", "http 500", 1, NOON),
    ]
    d = digest_of([], failing_feeds=feeds, previous_day=date(2025, 1, 26), next_day=None)
    assert [f.outlet for f in d.failing_feeds] == ["alpha", "Beta"]
    assert d.previous_day == date(2025, 1, 26) and d.next_day is None
    assert (d.sections, d.top_stories, d.n_entries, d.n_stories) == ((), (), 0, 0)


def test_a_story_given_twice_is_counted_once() -> None:
    a = story("a", ["Ars"])
    d = digest_of([a, a])
    assert d.n_stories == 1 and [s.id for s in d.top_stories] == ["a"]


# --- issue 6: spiking topics lead, and what changed since yesterday ------------------------


def days_of(*counts: int) -> tuple[TopicDay, ...]:
    """A timeline of stories a day ending on DAY."""
    start = DAY - timedelta(days=len(counts) - 1)
    return tuple(TopicDay(start + timedelta(days=i), c, c, c) for i, c in enumerate(counts))


def test_a_spiking_topic_leads_even_when_another_is_busier() -> None:
    stories = [
        story("n1", ["Ars", "Verge"], topics=("nvidia",)),
        story("n2", ["Ars"], topics=("nvidia",)),
        story("d1", ["Wired"], topics=("deepseek",)),
    ]
    timelines = {
        "nvidia": days_of(4, 5, 4, 5, 4, 5, 4, 2),  # busy every day: not a spike
        "deepseek": days_of(0, 0, 0, 0, 0, 0, 1, 3),  # quiet, then 3 stories
    }
    d = build_digest(DAY, stories, [DEEPSEEK, NVIDIA], timelines, title="t", generated=GENERATED)
    assert d.spiking == ("deepseek",)
    assert [s.topic.slug for s in d.sections] == ["deepseek", "nvidia"]
    calm = build_digest(DAY, stories, [DEEPSEEK, NVIDIA], {}, title="t", generated=GENERATED)
    assert calm.spiking == () and [s.topic.slug for s in calm.sections] == ["nvidia", "deepseek"]


def test_since_yesterday_counts_new_and_developing_and_names_moving_topics() -> None:
    stories = [
        story("new", ["Ars"], topics=("deepseek",)),
        story("old", ["Verge"], first_seen=NOON - timedelta(days=2)),
    ]
    timelines = {
        "deepseek": days_of(0, 6),
        "nvidia": days_of(5, 1),
        "export-controls": days_of(2, 3),  # a change of one is not worth a mention
    }
    d = build_digest(
        DAY, stories, [DEEPSEEK, NVIDIA, EXPORT], timelines, title="t", generated=GENERATED
    )
    assert d.since_yesterday == (
        "Since yesterday: 1 new story, 1 still developing; busier: DeepSeek (0 → 6); "
        "quieter: NVIDIA (5 → 1)."
    )
    assert digest_of([]).since_yesterday == ""
