"""Topic matching and per-day timelines (pure).

A topic's terms (keywords and aliases) match on word boundaries. Case: a term with no lower
case letter (``TSMC``, ``H20``) or a short one with a capital or digit (``R1``, ``Meta``) must
match exactly; longer terms (``Nvidia``, ``DeepSeek``, ``export controls``) ignore case. The
words of a phrase may be separated by spaces or hyphens. A text containing any ``exclude``
term does not match.

A story belongs to a topic when its headline matches, or when its members, taken together,
are about the topic: a member whose title matches counts 1, one whose summary alone names the
topic at least twice (a phrase counts twice) counts 1/2 (a single name in a summary is
context, not subject), and
the story needs half its members' weight. So one passing mention in one member of a big
story is not enough, and neither is one in a lone entry's summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from tracker.models import Member, Story, Topic, TopicDay


def is_case_sensitive(term: str) -> bool:
    """Acronyms and short model names match exactly; ordinary words and names ignore case."""
    if not any(c.islower() for c in term):
        return True
    return len(term) <= 4 and any(c.isupper() or c.isdigit() for c in term)


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", term.strip()) if w]
    body = r"[\s\-]+".join(words)
    flags = 0 if is_case_sensitive(term) else re.IGNORECASE
    return re.compile(rf"(?<!\w){body}(?!\w)", flags)


@dataclass(frozen=True)
class Matcher:
    """A compiled topic: which of its terms a text mentions."""

    topic: Topic

    def terms(self, text: str) -> list[str]:
        """The topic's terms found in ``text`` (empty when an exclusion vetoes it)."""
        if not text:
            return []
        if any(term_pattern(x).search(text) for x in self.topic.exclude):
            return []
        return [
            t for t in (*self.topic.keywords, *self.topic.aliases) if term_pattern(t).search(text)
        ]


#: How often a summary must name the topic when the title does not: one mention of a name in
#: passing ("... challenging Nvidia and Intel") is how summaries set context, not what they
#: are about. A phrase ("chip export control") is a statement, not a name-drop: it counts twice.
SUMMARY_MENTIONS = 2


def mentions(matcher: Matcher, text: str) -> int:
    """Weighted count of the topic's terms in ``text``: phrases 2, single words 1; 0 if vetoed."""
    if not matcher.terms(text):
        return 0
    return sum(
        len(term_pattern(t).findall(text)) * (2 if len(t.split()) > 1 else 1)
        for t in (*matcher.topic.keywords, *matcher.topic.aliases)
    )


def member_weight(matcher: Matcher, member: Member) -> tuple[float, list[str]]:
    """1 when the member's title names the topic, 1/2 when its summary names it repeatedly."""
    in_title = matcher.terms(member.title)
    if in_title:
        return 1.0, in_title
    if mentions(matcher, member.summary) >= SUMMARY_MENTIONS:
        return 0.5, matcher.terms(member.summary)
    return 0.0, []


def story_terms(topic: Topic, story: Story) -> list[str]:
    """The terms by which ``story`` belongs to ``topic``; empty when it does not."""
    matcher = Matcher(topic)
    found: dict[str, None] = dict.fromkeys(matcher.terms(story.headline))
    headline_hit = bool(found)
    weight = 0.0
    for member in story.members:
        w, terms = member_weight(matcher, member)
        weight += w
        found.update(dict.fromkeys(terms))
    members = max(len(story.members), 1)
    if headline_hit or weight / members >= 0.5:
        return list(found)
    return []


def match_stories(topics: Sequence[Topic], stories: Iterable[Story]) -> dict[str, dict[str, str]]:
    """topic slug -> {story id: matched terms joined by ', '} for every story that belongs."""
    out: dict[str, dict[str, str]] = {t.slug: {} for t in topics}
    for story in stories:
        for topic in topics:
            terms = story_terms(topic, story)
            if terms:
                out[topic.slug][story.id] = ", ".join(terms)
    return out


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a local day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def timeline(stories: Iterable[Story], days: Sequence[date], tz: ZoneInfo) -> tuple[TopicDay, ...]:
    """Per local day: stories with a member that day, entries that day, distinct outlets."""
    story_sets: dict[date, set[str]] = {d: set() for d in days}
    entries: dict[date, int] = dict.fromkeys(days, 0)
    outlets: dict[date, set[str]] = {d: set() for d in days}
    for story in stories:
        for m in story.members:
            d = local_day(m.published, tz)
            if d in story_sets:
                story_sets[d].add(story.id)
                entries[d] += 1
                if m.outlet:
                    outlets[d].add(m.outlet)
    return tuple(
        TopicDay(day=d, stories=len(story_sets[d]), entries=entries[d], outlets=len(outlets[d]))
        for d in days
    )


def days_ending(day: date, count: int) -> list[date]:
    """``count`` consecutive days, oldest first, ending with ``day``."""
    return [day - timedelta(days=i) for i in range(count - 1, -1, -1)]


def topics_by_slug(topics: Sequence[Topic]) -> Mapping[str, Topic]:
    return {t.slug: t for t in topics}
