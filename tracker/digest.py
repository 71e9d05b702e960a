"""Choose and rank what one day's digest shows, and return it as a Digest (pure).

The lead selects the stories that have at least one member published on the day; this module
splits them into per-topic sections and a ranked list of the rest, counts the day's activity,
and hands back the frozen template context that every output (site, email, text) renders.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from tracker.models import (
    Burst,
    Digest,
    EmergingTerm,
    FeedHealth,
    Member,
    Story,
    Topic,
    TopicDay,
    TopicSection,
)

#: Heat halves for every day since a story was last seen.
HALF_LIFE = timedelta(days=1)
#: What one aggregator discussion (a Hacker News thread, say) adds to a story's heat.
AGGREGATOR_WEIGHT = 0.5
#: A topic spikes when it has at least SPIKE_MIN stories on the day and at least SPIKE_RATIO
#: times its daily mean over the SPIKE_BASELINE days before.
SPIKE_MIN = 3
SPIKE_RATIO = 2.0
SPIKE_BASELINE = 7
#: How many busier (and quieter) topics the "since yesterday" line names.
CHANGES_NAMED = 3


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
    bursts: Mapping[str, Burst] | None = None,
    emerging: Sequence[EmergingTerm] = (),
) -> Digest:
    """The digest of ``day`` from the stories that had a member published that day.

    ``tz`` is the zone whose calendar ``day`` is (default: ``generated``'s zone, else UTC);
    it decides which members count as published that day and when the day ends. A section
    keeps its best ``max_stories_per_topic`` stories; a story cut from every section it
    belongs to competes for the top stories instead of vanishing. ``bursts`` (issue 5: each
    topic's tracker.trends burst on ``day``) decides which topics spike, when given.
    """
    zone = tz or generated.tzinfo or UTC
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    ranked = rank(_unique(stories), end)
    on_day = [m for s in ranked for m in s.members if start <= m.published < end]

    uncut = _sections(day, ranked, topics, timelines, on_day_of=(start, end))
    if bursts is not None:
        spikes = tuple(s.topic.slug for s in uncut if _bursting(bursts, s.topic.slug))
    else:
        spikes = tuple(s.topic.slug for s in uncut if spiking(s.timeline, day))
    since = developing_since(ranked, day, zone)
    # Spiking topics lead; the sort is stable, so each group keeps its activity order.
    uncut.sort(key=lambda s: s.topic.slug not in spikes)
    sections = tuple(
        TopicSection(
            s.topic,
            s.stories[:max_stories_per_topic],
            s.timeline,
            burst=(bursts or {}).get(s.topic.slug),
            developing=sum(1 for x in s.stories[:max_stories_per_topic] if x.id in since),
        )
        for s in uncut
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
        since_yesterday=since_yesterday(
            day, ranked, [(t, timelines.get(t.slug, ())) for t in _unique_topics(topics)], zone
        ),
        spiking=spikes,
        emerging=tuple(emerging),
        developing_since=since,
    )


def _bursting(bursts: Mapping[str, Burst], slug: str) -> bool:
    b = bursts.get(slug)
    return b is not None and b.spiking


def developing_since(stories: Iterable[Story], day: date, tz: tzinfo) -> dict[str, date]:
    """Story id -> the local day it began, for stories that began before ``day`` (issue 5).

    A story first seen on ``day`` is new; one first seen earlier continues ("developing
    since" that day).
    """
    out: dict[str, date] = {}
    for story in stories:
        first = story.first_seen.astimezone(tz).date()
        if first < day:
            out[story.id] = first
    return out


def spiking(timeline: Sequence[TopicDay], day: date) -> bool:
    """Whether a topic's stories on ``day`` jumped well above its recent daily mean."""
    by_day = {t.day: t.stories for t in timeline}
    today = by_day.get(day, 0)
    before = [by_day.get(day - timedelta(days=n), 0) for n in range(1, SPIKE_BASELINE + 1)]
    baseline = sum(before) / len(before)
    return today >= SPIKE_MIN and today >= SPIKE_RATIO * baseline


def since_yesterday(
    day: date,
    stories: Sequence[Story],
    timelines: Sequence[tuple[Topic, Sequence[TopicDay]]],
    tz: tzinfo,
) -> str:
    """One line: new vs still-developing stories, and the topics that got busier or quieter.

    A story is new when it was first seen on ``day`` (in ``tz``); the topic counts compare
    each topic's timeline on ``day`` with the calendar day before.
    """
    if not stories:
        return ""
    new = sum(1 for s in stories if s.first_seen.astimezone(tz).date() == day)
    parts = [f"{_count(new, 'new story', 'new stories')}, {len(stories) - new} still developing"]
    moves = []
    for topic, timeline in timelines:
        by_day = {t.day: t.stories for t in timeline}
        before, now = by_day.get(day - timedelta(days=1), 0), by_day.get(day, 0)
        if now != before:
            moves.append((now - before, topic.name, before, now))
    busier = sorted((m for m in moves if m[0] > 1), key=lambda m: (-m[0], m[1]))
    quieter = sorted((m for m in moves if m[0] < -1), key=lambda m: (m[0], m[1]))
    for label, group in (("busier", busier), ("quieter", quieter)):
        if group:
            named = ", ".join(f"{name} ({b} → {n})" for _, name, b, n in group[:CHANGES_NAMED])
            parts.append(f"{label}: {named}")
    return "Since yesterday: " + "; ".join(parts) + "."


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


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
