"""Choose and rank what one day's digest shows, and return it as a Digest (pure).

The lead selects the stories that have at least one member published on the day; this module
splits them into per-topic sections and a ranked list of the rest, counts the day's activity,
and hands back the frozen template context that every output (site, email, text) renders.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from tracker.models import Digest, FeedHealth, Member, Story, Topic, TopicDay, TopicSection

#: Heat halves for every day since a story was last seen.
HALF_LIFE = timedelta(days=1)
#: What one aggregator discussion (a Hacker News thread, say) adds to a story's heat.
AGGREGATOR_WEIGHT = 0.5


def heat(story: Story, now: datetime) -> float:
    """How hot a story is at ``now``: its distinct outlets, decayed by the age of last_seen.

    Each distinct non-aggregator outlet counts 1 and each aggregator discussion 0.5; the sum
    halves every HALF_LIFE since ``story.last_seen`` (a last_seen after ``now`` counts as now).
    """
    discussions = {m.entry_id for m in story.members if m.aggregator}
    raw = len(story.outlets) + AGGREGATOR_WEIGHT * len(discussions)
    age = max((now - story.last_seen) / HALF_LIFE, 0.0)
    return raw * math.pow(0.5, age)


def rank(stories: Iterable[Story], now: datetime) -> tuple[Story, ...]:
    """Stories hottest first; ties broken by story id so the order never depends on input."""
    return tuple(sorted(stories, key=lambda s: (-heat(s, now), s.id)))


def build_digest(
    day: date,
    stories: Sequence[Story],
    topics: Sequence[Topic],
    timelines: Mapping[str, Sequence[TopicDay]],
    *,
    title: str,
    generated: datetime,
    max_top_stories: int = 25,
    max_stories_per_topic: int = 8,
    failing_feeds: Sequence[FeedHealth] = (),
    previous_day: date | None = None,
    next_day: date | None = None,
    tz: tzinfo | None = None,
) -> Digest:
    """The digest of ``day`` from the stories that had a member published that day.

    ``tz`` is the zone whose calendar ``day`` is (default: ``generated``'s zone, else UTC);
    it decides which members count as published that day and when the day ends. A section
    keeps its best ``max_stories_per_topic`` stories; a story cut from every section it
    belongs to competes for the top stories instead of vanishing.
    """
    zone = tz or generated.tzinfo or UTC
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    ranked = rank(_unique(stories), end)
    on_day = [m for s in ranked for m in s.members if start <= m.published < end]

    uncut = _sections(day, ranked, topics, timelines, on_day_of=(start, end))
    sections = tuple(
        TopicSection(s.topic, s.stories[:max_stories_per_topic], s.timeline) for s in uncut
    )
    shown = {story.id for section in sections for story in section.stories}
    top = tuple(s for s in ranked if s.id not in shown)[:max_top_stories]
    return Digest(
        day=day,
        title=title,
        generated=generated,
        sections=sections,
        top_stories=top,
        n_entries=len({m.entry_id for m in on_day}),
        n_stories=len(ranked),
        n_outlets=len(_outlets(on_day)),
        failing_feeds=tuple(sorted(failing_feeds, key=lambda f: (f.outlet.casefold(), f.url))),
        previous_day=previous_day,
        next_day=next_day,
    )


def _sections(
    day: date,
    ranked: Sequence[Story],
    topics: Sequence[Topic],
    timelines: Mapping[str, Sequence[TopicDay]],
    *,
    on_day_of: tuple[datetime, datetime],
) -> list[TopicSection]:
    """One uncut section per topic with a story, most active first (stories, outlets, slug)."""
    start, end = on_day_of
    scored: list[tuple[int, int, str, TopicSection]] = []
    for topic in _unique_topics(topics):
        members = [s for s in ranked if topic.slug in s.topics]
        if not members:
            continue
        day_members = [m for s in members for m in s.members if start <= m.published < end]
        timeline = _timeline_until(day, timelines.get(topic.slug, ()))
        section = TopicSection(topic=topic, stories=tuple(members), timeline=timeline)
        scored.append((-len(members), -len(_outlets(day_members)), topic.slug, section))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored]


def _timeline_until(day: date, timeline: Sequence[TopicDay]) -> tuple[TopicDay, ...]:
    # A digest rebuilt for a past day must not show the days that came after it.
    return tuple(sorted((t for t in timeline if t.day <= day), key=lambda t: t.day))


def _outlets(members: Iterable[Member]) -> set[str]:
    """Distinct outlets, aggregators left out, as Story.outlets counts them."""
    return {m.outlet for m in members if m.outlet and not m.aggregator}


def _unique(stories: Iterable[Story]) -> list[Story]:
    # The caller's query may return a story twice (one row per matching member); keep the first.
    seen: dict[str, Story] = {}
    for story in stories:
        seen.setdefault(story.id, story)
    return list(seen.values())


def _unique_topics(topics: Iterable[Topic]) -> list[Topic]:
    seen: dict[str, Topic] = {}
    for topic in topics:
        seen.setdefault(topic.slug, topic)
    return list(seen.values())
