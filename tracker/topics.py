"""Topic matching and per-day timelines (pure).

A topic's terms (keywords and aliases) match on word boundaries. Case: a term with no lower
case letter (``TSMC``, ``H20``) or a short one with a capital or digit (``R1``, ``Meta``) must
match exactly; longer terms (``Nvidia``, ``DeepSeek``, ``export controls``) ignore case. The
words of a phrase may be separated by spaces or hyphens. A text containing any ``exclude``
term does not match. ``weak`` terms count only when the same entry also names the topic by a
term that is not weak: ambiguous names (``R1``, ``V3``: a Motorola RAZR V3 is not DeepSeek's)
and incidental uses ("Nvidia GPUs" as another company's hardware; a keyword inside a weak
mention is part of it). A ``near`` rule names the topic
when a word of one list is within a few words of a word of another ("curbs on chip sales",
"how America sanctions China"); such a hit weighs like a phrase.

Salience. A title names the topic only when some mention is not in passing: a mention right
after a comparison cue ("compete with Nvidia", "as good as Nvidia DLSS", "like the RTX 5090",
"Watch out Nvidia", "including DeepSeek R1") is about something else, and so is one outside
the first item of a roundup ("China's artificial sun, DeepSeek: 7 science highlights"). A title
that names the topic only in passing makes the entry weigh 0: its subject is the other thing.

A story belongs to a topic when its headline names it, or when its members, taken together,
are about the topic: a member whose title names it counts 1, one whose summary alone names
the topic at least twice (a phrase or a ``near`` hit counts twice) counts 1/2 (a single name
in a summary is context, not subject), and the story needs half its members' weight. So one
passing mention in one member of a big story is not enough, and neither is one in a lone
entry's summary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from tracker.models import Member, Story, Topic, TopicDay, TopicNear


def is_case_sensitive(term: str) -> bool:
    """Acronyms and short model names match exactly; ordinary words and names ignore case."""
    if not any(c.islower() for c in term):
        return True
    return len(term) <= 4 and any(c.isupper() or c.isdigit() for c in term)


def _body(term: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", term.strip()) if w]
    return r"[\s\-]+".join(words)


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    flags = 0 if is_case_sensitive(term) else re.IGNORECASE
    return re.compile(rf"(?<!\w){_body(term)}(?!\w)", flags)


@lru_cache(maxsize=256)
def any_term_pattern(topic: Topic) -> re.Pattern[str]:
    """One pattern for every word a topic can match on: a quick test before the per-term ones."""
    terms = [*topic.keywords, *topic.aliases, *topic.weak]
    terms += [t for rule in topic.near for t in rule.terms]
    bodies = [_body(t) if is_case_sensitive(t) else f"(?i:{_body(t)})" for t in terms]
    return re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?!\w)")


#: Words right before a mention that make it a comparison or an example, not the subject:
#: "compete with Nvidia", "better than Nvidia", "as good as Nvidia DLSS", "GPUs like the RTX
#: 5090", "Watch out Nvidia", "including DeepSeek R1". Matched against the end of the text
#: before the mention, allowing an article in between. "X vs Y" is left out on purpose: a
#: head-to-head ("ChatGPT vs. DeepSeek") is about both.
_PASSING = re.compile(
    r"(?<!\w)(?:like|unlike|than|including|such\s+as|as\s+\w+\s+as"
    r"|compet(?:e|es|ing)\s+with|rival(?:s|ling|ing)?(?:\s+to)?|alternative\s+to"
    r"|challeng(?:e|es|ing)|tak(?:e|es|ing)\s+on|watch\s+out,?|outperform(?:s|ing)?)"
    r"\.?\s+(?:(?:the|an?)\s+)?$",
    re.IGNORECASE,
)

#: A title that lists several stories ("..., DeepSeek: 7 science highlights"). Only its first
#: item is its subject.
_ROUNDUP = re.compile(
    r"(?<!\w)(?:highlights|round-?up|weekend\s+reads|you\s+(?:may\s+)?(?:have\s+)?missed"
    r"|newsletter|things\s+to\s+know|this\s+week\s+in|briefing)(?!\w)",
    re.IGNORECASE,
)
_ITEM_BREAK = re.compile(r"[,;:|]|\s[\u2013\u2014-]\s")
_WORD = re.compile(r"\w+")
_JOINED = re.compile(r"[\s\-]*")  # between two names of one mention: "DeepSeek R1"


def _end_of_word(text: str, at: int) -> int:
    match = _WORD.match(text, at)
    return match.end() if match else at


def _first_item(title: str) -> tuple[int, int] | None:
    """The span of a roundup title's first item (None when the title is not a roundup)."""
    if not _ROUNDUP.search(title):
        return None
    start = 0
    for brk in [*_ITEM_BREAK.finditer(title), None]:
        end = brk.start() if brk else len(title)
        if title[start:end].strip() and not _ROUNDUP.search(title[start:end]):
            return start, end
        start = brk.end() if brk else end
    return None


def passing(title: str, at: int) -> bool:
    """Whether the mention starting at ``at`` in ``title`` is a comparison or a side item."""
    if _PASSING.search(title[max(0, at - 40) : at]):
        return True
    item = _first_item(title)
    return item is not None and not item[0] <= at < item[1]


def _near_hits(rule: TopicNear, text: str) -> list[int]:
    """Start offsets of the ``terms`` mentions with a ``with_terms`` mention close by."""
    starts = [m.start() for t in rule.terms for m in term_pattern(t).finditer(text)]
    if not starts:
        return []
    words = [m.start() for m in _WORD.finditer(text)]

    def index(at: int) -> int:
        return bisect_right(words, at) - 1

    found = [(at, index(at)) for at in starts]
    others = [index(m.start()) for t in rule.with_terms for m in term_pattern(t).finditer(text)]
    return sorted(at for at, i in found if any(abs(i - j) <= rule.within for j in others))


def near_label(rule: TopicNear) -> str:
    """How a ``near`` rule is shown among matched terms."""
    return f"{rule.terms[0]} ~ {rule.with_terms[0]}"


@dataclass(frozen=True)
class Matcher:
    """A compiled topic: which of its terms a text mentions."""

    topic: Topic

    def vetoed(self, text: str) -> bool:
        return any(term_pattern(x).search(text) for x in self.topic.exclude)

    def _weak(self, text: str) -> list[tuple[str, int, int]]:
        """(term, start, end) of the ``weak`` mentions in ``text``."""
        return [
            (t, m.start(), m.end()) for t in self.topic.weak for m in term_pattern(t).finditer(text)
        ]

    def _strong(self, text: str) -> list[tuple[str, int, int]]:
        """(term, offset, weight) of the keyword, alias and near mentions in ``text``.

        A keyword inside a weak mention ("Nvidia" in a weak "Nvidia GPUs") is part of it.
        """
        shadows = [(start, end) for _, start, end in self._weak(text)]
        out = []
        for t in (*self.topic.keywords, *self.topic.aliases):
            weight = 2 if len(t.split()) > 1 else 1
            out += [
                (t, m.start(), weight)
                for m in term_pattern(t).finditer(text)
                if not any(a <= m.start() and m.end() <= b for a, b in shadows)
            ]
        for rule in self.topic.near:
            out += [(near_label(rule), at, 2) for at in _near_hits(rule, text)]
        return out

    def occurrences(self, text: str, context: str = "") -> list[tuple[str, int, int]]:
        """(term, offset, weight) of every mention in ``text``, in order; [] when vetoed.

        ``context`` is the rest of the entry (its summary for a title and vice versa): a
        ``weak`` mention counts (weight 1) when ``text`` or ``context`` also names the topic
        by a term that is not weak.
        """
        if not text or not any_term_pattern(self.topic).search(text) or self.vetoed(text):
            return []
        out = self._strong(text)
        if self.topic.weak and (out or (context and bool(self.occurrences(context)))):
            out += [(t, start, 1) for t, start, _ in self._weak(text)]
        return sorted(out, key=lambda o: (o[1], o[0]))

    def covers(self, name: str) -> bool:
        """Whether ``name`` is one of the topic's terms, weak ones included (emerging terms)."""
        if self.vetoed(name):
            return False
        every = (*self.topic.keywords, *self.topic.aliases, *self.topic.weak)
        return any(term_pattern(t).search(name) for t in every)

    def terms(self, text: str, context: str = "") -> list[str]:
        """The topic's terms found in ``text`` (empty when an exclusion vetoes it)."""
        return list(dict.fromkeys(t for t, _, _ in self.occurrences(text, context)))

    def title_terms(self, title: str, context: str = "") -> tuple[list[str], bool]:
        """The terms of the title's non-passing mentions, and whether it names the topic at all."""
        found = self.occurrences(title, context)
        salient: list[str] = []
        previous, was_passing = -1, False
        for term, at, _ in found:
            # "including DeepSeek R1": a name right after a passing one is passing too.
            if previous < 0 or not _JOINED.fullmatch(title, previous, at):
                was_passing = passing(title, at)
            if not was_passing:
                salient.append(term)
            previous = _end_of_word(title, at)
        return list(dict.fromkeys(salient)), bool(found)


#: How often a summary must name the topic when the title does not: one mention of a name in
#: passing ("... challenging Nvidia and Intel") is how summaries set context, not what they
#: are about. A phrase ("chip export control") is a statement, not a name-drop: it counts twice.
SUMMARY_MENTIONS = 2


_TAG = re.compile(r"<[^>]*>")
#: A quotation in straight or curly double quotes, up to 400 characters.
_QUOTED = re.compile(r"\"[^\"]{1,400}\"|\u201c[^\u201d]{1,400}\u201d")


def mentions(matcher: Matcher, text: str, context: str = "") -> int:
    """Weighted count of the topic's mentions in ``text``: phrases and near hits 2, words 1.

    Mentions inside a quotation do not count: a summary quoting someone ("compute that is
    fully export control compliant," Nvidia said) reports what they said about its own
    subject, and the quoted phrase is a passing mention of another.
    """
    # Quotes inside HTML tags (attributes) are not quotations: blank the tags, same length.
    bare = _TAG.sub(lambda m: " " * len(m.group(0)), text) if "<" in text else text
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(bare)]
    return sum(
        w
        for _, at, w in matcher.occurrences(text, context)
        if not any(a < at < b for a, b in quoted)
    )


def member_weight(matcher: Matcher, member: Member) -> tuple[float, list[str]]:
    """1 when the member's title names the topic as its subject, 1/2 when its summary names it
    repeatedly, 0 when its title names it only in passing or not at all."""
    salient, named = matcher.title_terms(member.title, member.summary)
    if salient:
        return 1.0, salient
    if named:
        return 0.0, []
    if mentions(matcher, member.summary, member.title) >= SUMMARY_MENTIONS:
        return 0.5, matcher.terms(member.summary, member.title)
    return 0.0, []


def story_terms(topic: Topic, story: Story) -> list[str]:
    """The terms by which ``story`` belongs to ``topic``; empty when it does not."""
    matcher = Matcher(topic)
    salient, _ = matcher.title_terms(story.headline, story.summary)
    found: dict[str, None] = dict.fromkeys(salient)
    weight = 0.0
    for member in story.members:
        w, terms = member_weight(matcher, member)
        weight += w
        found.update(dict.fromkeys(terms))
    members = max(len(story.members), 1)
    if salient or weight / members >= 0.5:
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
