"""Frozen dataclasses shared by every module; this module imports nothing from tracker.

The values that cross the line between the I/O shell and the pure core live here:

    Fetched  (fetch)   -> parse    -> ParsedFeed of Entry
    Entry    (store)   -> cluster  -> Assignment
    Story    (store)   -> topics / digest -> Digest -> render

All datetimes are timezone-aware (UTC unless a field says otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

# --- configuration values that pure modules need ------------------------------------------


@dataclass(frozen=True)
class TopicNear:
    """A co-occurrence rule of a topic (issue 5): a term of ``terms`` within ``within`` words
    of a term of ``with_terms`` names the topic, like a phrase ("curbs on chip sales").
    """

    terms: tuple[str, ...]
    with_terms: tuple[str, ...]
    within: int = 5


@dataclass(frozen=True)
class Topic:
    """A lasting tracker for a subject, as configured.

    ``keywords`` and ``aliases`` are matched on word boundaries. Acronyms and short model
    names (no lower case letter, or at most 4 characters with a capital or digit: ``TSMC``,
    ``R1``, ``H20``) match case-sensitively; others (``Nvidia``, ``export controls``) ignore
    case. ``exclude`` terms veto a match in the text they occur in (see tracker.topics).
    """

    slug: str
    name: str
    keywords: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    description: str = ""
    # Issue 5: ambiguous terms (``R1``, ``V3``) that count only when the same entry also names
    # another of the topic's terms, and co-occurrence rules (see tracker.topics).
    weak: tuple[str, ...] = ()
    near: tuple[TopicNear, ...] = ()


# --- fetching and parsing -----------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """A feed as stored, with its fetch state."""

    url: str
    outlet: str = ""
    title: str = ""
    site_url: str = ""
    aggregator: bool = False
    status: str = "active"  # active | gone
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_fetched: datetime | None = None
    next_fetch: datetime | None = None
    last_error: str | None = None
    error_count: int = 0
    error_since: datetime | None = None
    # Fetch state added by issue 3 (migration m002_fetch_state).
    source: str = "config"  # who added it first: config | opml | cli
    category: str = ""  # an OPML folder path, "Tech/AI"
    last_success: datetime | None = None
    interval_seconds: int | None = None  # learned from the feed's publishing rate
    ttl_minutes: int | None = None  # the feed's RSS <ttl>, kept for 304s
    moved_from: str | None = None  # the URL before the last permanent redirect
    moved_at: datetime | None = None
    # The URL the feed was added with (m012): entries without a link are named by it and
    # their guid, so a permanent redirect does not rename them. None: ``url``.
    id_url: str | None = None

    @property
    def identity(self) -> str:
        """The feed URL that names its entries without a link (``parse.entry_id``)."""
        return self.id_url or self.url


@dataclass(frozen=True)
class Fetched:
    """What one retrieval of a feed gave back; ``body`` is None when nothing changed (304)."""

    url: str  # the URL asked for
    status: int  # HTTP status; 200 for a local file
    body: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    final_url: str | None = None  # where redirects ended
    permanent_url: str | None = None  # set when a 301/308 moved the feed for good
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True)
class Entry:
    """One article, converted from whatever the feed said into our own terms.

    ``id`` is derived from the canonical link (or the guid when there is no link), so the same
    article reached through two feeds has one id. ``title`` and ``summary`` are plain text;
    ``content_html`` is sanitised HTML safe to embed in a page.
    """

    id: str
    feed_url: str
    link: str
    title: str
    summary: str
    published: datetime
    content_html: str = ""
    guid: str | None = None
    author: str = ""
    outlet: str = ""
    updated: datetime | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed document: its own metadata and its entries."""

    title: str
    site_url: str
    entries: tuple[Entry, ...]
    ttl_minutes: int | None = None
    warning: str | None = None  # damage survived (ill-formed XML, wrong encoding, ...)
    # Ids of entries already stored, left out of ``entries`` (parse_feed's ``known``).
    known_ids: tuple[str, ...] = ()


# --- clustering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """The part of an entry that clustering reads."""

    id: str
    title: str
    summary: str
    published: datetime
    outlet: str = ""
    aggregator: bool = False
    link: str = ""  # the entry's link: its path's words join the summary view


@dataclass(frozen=True)
class Assignment:
    """An entry's place in a story: which story, and how similar it was when it joined."""

    entry_id: str
    story_id: str
    similarity: float  # 1.0 for the entry that started the story
    terms: tuple[str, ...] = ()  # what it shared with the story when it joined ("why grouped")


# --- stories, topics, digests -------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """An entry as shown inside a story."""

    entry_id: str
    title: str
    link: str
    outlet: str
    published: datetime
    summary: str = ""
    similarity: float = 1.0
    aggregator: bool = False
    terms: tuple[str, ...] = ()  # what it shared with the story when it joined


@dataclass(frozen=True)
class Story:
    """One development told by one or more outlets."""

    id: str
    headline: str
    link: str
    summary: str
    first_seen: datetime
    last_seen: datetime
    members: tuple[Member, ...]
    topics: tuple[str, ...] = ()  # topic slugs
    why: tuple[str, ...] = ()  # terms and names its members share ("why grouped")

    @property
    def outlets(self) -> tuple[str, ...]:
        """Distinct outlets, in order of first coverage; aggregators are left out."""
        seen: dict[str, None] = {}
        for m in sorted(self.members, key=lambda m: (m.published, m.entry_id)):
            if m.outlet and not m.aggregator:
                seen.setdefault(m.outlet, None)
        return tuple(seen)


@dataclass(frozen=True)
class TopicDay:
    """One day of a topic's timeline."""

    day: date
    stories: int
    entries: int
    outlets: int


@dataclass(frozen=True)
class TopicSection:
    """A topic's part of a digest."""

    topic: Topic
    stories: tuple[Story, ...]
    timeline: tuple[TopicDay, ...]  # oldest first, ending on the digest's day
    # Issue 5: today's volume against the topic's own baseline (None when not computed), and
    # the stories of the section that began before the digest's day ("developing").
    burst: Burst | None = None
    developing: int = 0


@dataclass(frozen=True)
class Burst:
    """A topic's volume on one day against its trailing baseline (tracker.trends.burst)."""

    observed: int  # entries on the day
    expected: float  # the baseline's daily mean, after the floor for young topics
    score: float  # (observed - expected) / sqrt(expected): a Poisson z-score
    p_value: float  # P(X >= observed) for X ~ Poisson(expected)
    spiking: bool


@dataclass(frozen=True)
class EmergingTerm:
    """A name that suddenly appears across several outlets: a candidate topic."""

    term: str
    outlets: int  # distinct outlets using it on the day
    entries: int  # entries using it on the day
    baseline: float  # its mean entries a day over the trailing window
    examples: tuple[str, ...] = ()  # a few headlines that use it


@dataclass(frozen=True)
class FeedHealth:
    """A failing feed, for the digest's health note."""

    url: str
    outlet: str
    last_error: str
    error_count: int
    error_since: datetime | None


@dataclass(frozen=True)
class FeedState:
    """One feed as the feed-health page and ``tracker feeds list`` show it.

    ``health`` is ok, failing, moved or gone (see tracker.schedule_policy.health).
    """

    url: str
    title: str
    outlet: str
    health: str
    category: str = ""
    source: str = "config"
    last_success: datetime | None = None
    last_fetched: datetime | None = None
    last_error: str | None = None
    error_count: int = 0
    error_since: datetime | None = None
    next_fetch: datetime | None = None
    moved_from: str | None = None


@dataclass(frozen=True)
class Digest:
    """The template context of one day's digest (HTML, text, email and site share it).

    ``sections`` holds the active topics (those with a story that day), most active first;
    ``top_stories`` the other stories of the day, ranked, without those already in a section.
    """

    day: date
    title: str
    generated: datetime
    sections: tuple[TopicSection, ...]
    top_stories: tuple[Story, ...]
    n_entries: int
    n_stories: int
    n_outlets: int
    failing_feeds: tuple[FeedHealth, ...] = ()
    previous_day: date | None = None
    next_day: date | None = None
    # Issue 6: what changed since the day before, as one line (empty when nothing to say),
    # and the slugs of the topics spiking that day (their sections come first).
    since_yesterday: str = ""
    spiking: tuple[str, ...] = ()
    # Issue 5: candidate topics (names suddenly used by several outlets), and, for each story
    # first seen before this day, the local day it began ("developing since"); others are new.
    emerging: tuple[EmergingTerm, ...] = ()
    developing_since: Mapping[str, date] = field(default_factory=dict)

    @property
    def stories(self) -> tuple[Story, ...]:
        """Every story the digest shows, each once, sections first."""
        seen: dict[str, Story] = {}
        for section in self.sections:
            for s in section.stories:
                seen.setdefault(s.id, s)
        for s in self.top_stories:
            seen.setdefault(s.id, s)
        return tuple(seen.values())


@dataclass(frozen=True)
class TopicPage:
    """The template context of a topic's page on the site."""

    topic: Topic
    timeline: tuple[TopicDay, ...]  # oldest first
    stories: tuple[Story, ...]  # newest first
