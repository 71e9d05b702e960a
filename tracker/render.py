"""Render models to HTML, plain text and Atom strings through the one Jinja2 Environment (pure).

Every page, the email and the feeds come from the templates in ``templates/``. Feed text is
untrusted: HTML and XML templates autoescape it, and only http(s) links become hrefs
(``safe_url``). Internal links are relative to a ``root`` so that the site works from file://.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2

from tracker import __version__, resources
from tracker.models import Digest, Feed, FeedState, Member, Story, Topic, TopicDay, TopicPage

# Written out so that output never depends on the process's locale.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SPARKS = "▁▂▃▄▅▆▇█"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def safe_url(value: object) -> str:
    """``value`` when it is an absolute http(s) URL, else "" (javascript:, data:, relative…)."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if _CONTROL.search(url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url


def oneline(value: object) -> str:
    """Text with line breaks and control characters folded into single spaces."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def file_name(key: str) -> str:
    """A file name for a story id or topic slug: the key itself when it is safe, else a hash."""
    if _SAFE_NAME.fullmatch(key):
        return key
    return "x-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def story_path(story_id: str) -> str:
    """Where a story's page lives, relative to the site root."""
    return f"stories/{file_name(story_id)}.html"


def topic_path(slug: str, ext: str = "html") -> str:
    """Where a topic's page (or its Atom feed, ``ext="atom"``) lives, from the site root."""
    return f"topics/{file_name(slug)}.{ext}"


def day_path(day: date) -> str:
    """Where a day's digest lives, relative to the site root."""
    return f"days/{day.isoformat()}.html"


def format_day(day: date, style: str = "long") -> str:
    """``Monday 27 January 2025`` (long), ``Mon 27 Jan 2025`` (short) or ``27 Jan`` (brief)."""
    weekday, month = _DAYS[day.weekday()], _MONTHS[day.month - 1]
    if style == "short":
        return f"{weekday[:3]} {day.day} {month[:3]} {day.year}"
    if style == "brief":
        return f"{day.day} {month[:3]}"
    return f"{weekday} {day.day} {month} {day.year}"


def fill_days(timeline: Sequence[TopicDay], last: int | None = None) -> tuple[TopicDay, ...]:
    """The timeline with a zero day for every missing date, oldest first; the ``last`` N days."""
    days = sorted(timeline, key=lambda t: t.day)
    if not days:
        return ()
    by_day = {t.day: t for t in days}
    span = (days[-1].day - days[0].day).days + 1
    filled = []
    for offset in range(span):
        d = days[0].day + timedelta(days=offset)
        filled.append(by_day.get(d, TopicDay(day=d, stories=0, entries=0, outlets=0)))
    return tuple(filled[-last:] if last else filled)


def sparkline(timeline: Sequence[TopicDay], last: int = 14) -> str:
    """Stories a day as block characters (``▁▃█``), for text and email."""
    days = fill_days(timeline, last)
    peak = max((t.stories for t in days), default=0)
    if peak == 0:
        return _SPARKS[0] * len(days)
    return "".join(_SPARKS[round(t.stories / peak * (len(_SPARKS) - 1))] for t in days)


@dataclass(frozen=True)
class Coverage:
    """One outlet's articles within a story, for the card's "covered by" line."""

    outlet: str
    aggregator: bool
    members: tuple[Member, ...]


def by_outlet(members: Sequence[Member]) -> tuple[Coverage, ...]:
    """Members grouped by outlet in order of first coverage; aggregator discussions last."""
    groups: dict[tuple[bool, str], list[Member]] = {}
    for m in sorted(members, key=lambda m: (m.published, m.entry_id)):
        groups.setdefault((m.aggregator, m.outlet), []).append(m)
    ordered = sorted(groups.items(), key=lambda item: item[0][0])  # stable: keeps time order
    return tuple(Coverage(outlet, agg, tuple(ms)) for (agg, outlet), ms in ordered)


@dataclass(frozen=True)
class Bar:
    """One day's bar of a timeline chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    day: TopicDay


@dataclass(frozen=True)
class Chart:
    """A timeline as bars, drawn by templates as an inline SVG (no JavaScript)."""

    width: int
    height: int
    peak: int
    bars: tuple[Bar, ...]

    @property
    def first(self) -> TopicDay | None:
        return self.bars[0].day if self.bars else None

    @property
    def last(self) -> TopicDay | None:
        return self.bars[-1].day if self.bars else None


def chart(
    timeline: Sequence[TopicDay], *, last: int | None = None, width: int = 600, height: int = 120
) -> Chart:
    """Bars of stories a day; every day has at least a hairline so that quiet days show."""
    days = fill_days(timeline, last)
    peak = max((t.stories for t in days), default=0)
    step = width / max(len(days), 1)
    gap = min(step * 0.2, 4.0)
    bars = []
    for i, t in enumerate(days):
        h = max(height * t.stories / peak, 1.0) if peak else 1.0
        x, y, w = round(i * step, 2), round(height - h, 2), round(step - gap, 2)
        bars.append(Bar(x=x, y=y, width=w, height=round(h, 2), day=t))
    return Chart(width=width, height=height, peak=peak, bars=tuple(bars))


class Renderer:
    """The one Jinja2 Environment, with the filters the templates use, and a method per output."""

    def __init__(
        self, templates: Path | None = None, *, base_url: str = "", tz_name: str = "UTC"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tz = ZoneInfo(tz_name)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates or resources.templates_dir())),
            autoescape=jinja2.select_autoescape(["html", "xml", "atom", "opml"], default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(
            safe_url=safe_url,
            oneline=oneline,
            local_day=self._local_day,
            when=self._when,
            clock=self._clock,
            day=format_day,
            rfc3339=_rfc3339,
            plural=_plural,
            by_outlet=by_outlet,
        )
        self.env.globals.update(
            story_path=story_path,
            topic_path=topic_path,
            day_path=day_path,
            chart=chart,
            sparkline=sparkline,
            absolute=self.absolute,
            feeds_page=False,  # set by site.build_site when it writes feeds.html
            version=__version__,
            tz_label=tz_name,
        )

    # --- pages of the static site -------------------------------------------------------

    def digest_page(self, digest: Digest, *, root: str) -> str:
        """A day's digest as a page of the site; ``root`` is the relative way to the site root."""
        return self._render("digest.html", root=root, **_digest_context(digest))

    def archive_page(self, digests: Sequence[Digest], *, root: str) -> str:
        """Every day, newest first, with its counts, active topics and top headlines."""
        ordered = sorted(digests, key=lambda d: d.day, reverse=True)
        return self._render("archive.html", root=root, digests=ordered)

    def topics_index(self, pages: Sequence[TopicPage], *, root: str) -> str:
        """Every topic with its recent activity, linking to the topic pages."""
        ordered = sorted(pages, key=lambda p: (p.topic.name.casefold(), p.topic.slug))
        return self._render("topics.html", root=root, pages=ordered)

    def topic_page(
        self, page: TopicPage, *, root: str, topics: Mapping[str, Topic] | None = None
    ) -> str:
        """A topic's timeline as an inline SVG bar chart, then its stories, newest first."""
        known = {page.topic.slug: page.topic, **(topics or {})}
        day = page.timeline[-1].day if page.timeline else None
        new, developing, earlier = self._by_freshness(page.stories, day)
        return self._render(
            "topic.html",
            root=root,
            page=page,
            topics=known,
            day=day,
            new=new,
            developing=developing,
            earlier=earlier,
        )

    def _by_freshness(
        self, stories: Sequence[Story], day: date | None
    ) -> tuple[list[Story], list[Story], list[Story]]:
        """Stories first seen on ``day``, those seen before and still going that day, the rest."""
        new: list[Story] = []
        developing: list[Story] = []
        earlier: list[Story] = []
        for story in stories:
            first, last = self._local_day(story.first_seen), self._local_day(story.last_seen)
            if day is not None and first == day:
                new.append(story)
            elif day is not None and first < day <= last:
                developing.append(story)
            else:
                earlier.append(story)
        return new, developing, earlier

    def story_page(self, story: Story, *, root: str, topics: Mapping[str, Topic]) -> str:
        """Every entry of a story with its outlet, when it was first and last seen, its topics."""
        members = sorted(story.members, key=lambda m: (m.published, m.entry_id))
        return self._render(
            "story.html",
            root=root,
            story=story,
            members=members,
            topics=topics,
            story_days=self._story_days(members),
        )

    def search_page(self, *, root: str) -> str:
        """The search page: a box, and the script that reads ``search-index.js``."""
        return self._render("search.html", root=root)

    def search_script(self) -> str:
        """The search page's script (static: it reads the index from a global)."""
        return self._render("search.js")

    def search_index(self, stories: Sequence[Story], topics: Mapping[str, Topic]) -> str:
        """Every story, newest first, as the JavaScript file ``search-index.js``."""
        ordered = sorted(stories, key=lambda s: (-s.first_seen.timestamp(), s.id))
        return self.search_index_js([self.search_row(s, topics) for s in ordered])

    def search_index_js(self, rows: Sequence[Mapping[str, object]]) -> str:
        """Search rows (``search_row``) as a script that assigns them to a global.

        A script file rather than JSON because ``fetch()`` of a local file fails under
        file://, while ``<script src>`` works from a folder and from a web server alike.
        """
        data = json.dumps(list(rows), ensure_ascii=True, separators=(",", ":"))
        # Feed text holds no literal "<", ">" or "&", so even inlined it could not end a
        # <script> element; JavaScript reads the \u escapes back as the characters.
        for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
            data = data.replace(char, escape)
        return "window.TRACKER_SEARCH = " + data + ";\n"

    def search_row_json(self, row: Mapping[str, object]) -> str:
        """One search row as ``search_index_js`` writes it, escapes included (issue 8)."""
        data = json.dumps(row, ensure_ascii=True, separators=(",", ":"))
        for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
            data = data.replace(char, escape)
        return data

    def search_index_js_rows(self, rows: Iterable[str]) -> str:
        """``search_index_js`` from rows already made by ``search_row_json``, byte for byte."""
        return "window.TRACKER_SEARCH = [" + ",".join(rows) + "];\n"

    def search_months_js(self, months: Sequence[tuple[str, int]]) -> str:
        """``search-index.js`` of a site whose index is split by month (issue 8): the months
        (``YYYY-MM``, newest first) and how many stories each part holds."""
        data = json.dumps([[m, n] for m, n in months], separators=(",", ":"))
        return "window.TRACKER_SEARCH_ROWS = {};\nwindow.TRACKER_SEARCH_MONTHS = " + data + ";\n"

    def search_part_js(self, month: str, rows: Iterable[str]) -> str:
        """``search/YYYY-MM.js``: one month's rows (``search_row_json``), newest first."""
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise ValueError(f"not a month: {month!r}")
        return f'window.TRACKER_SEARCH_ROWS["{month}"] = [' + ",".join(rows) + "];\n"

    def feeds_page(self, states: Sequence[FeedState], *, root: str) -> str:
        """The feed-health page: failing feeds first, then gone, moved, ok; by name within."""
        order = {"failing": 0, "gone": 1, "moved": 2, "ok": 3}
        ordered = sorted(
            states,
            key=lambda f: (order.get(f.health, 4), _feed_name(f).casefold(), f.url),
        )
        counts: dict[str, int] = {}
        for f in ordered:
            counts[f.health] = counts.get(f.health, 0) + 1
        return self._render("feeds.html", root=root, states=ordered, counts=counts)

    def feeds_opml(self, feeds: Sequence[Feed], *, title: str = "tracker") -> str:
        """The followed feeds as OPML 2.0 (the same writer as `tracker feeds export`)."""
        from tracker.opml import OpmlFeed, to_opml

        live = [
            OpmlFeed(
                url=f.url,
                title=f.outlet or f.title,
                category=f.category,
                site_url=safe_url(f.site_url) if f.site_url else "",
            )
            for f in feeds
            if f.status not in ("gone", "removed") and safe_url(f.url)
        ]
        return to_opml(live, title=title)

    # --- email and feeds ----------------------------------------------------------------

    def digest_text(self, digest: Digest) -> str:
        """The digest as plain text, for the email's text/plain part."""
        return self._render("digest.txt", **_digest_context(digest))

    def digest_email_html(self, digest: Digest) -> str:
        """The digest as email HTML: no scripts, no images; CSS still in a <style> to inline."""
        return self._render("email.html", **_digest_context(digest))

    def topic_atom(self, page: TopicPage) -> str:
        """An Atom feed of a topic's stories (newest first), for feed readers."""
        updated = max((s.last_seen for s in page.stories), default=_EPOCH)
        return self._render(
            "topic.atom",
            page=page,
            updated=updated,
            feed_id=_urn("topic", page.topic.slug),
            urn=_urn,
        )

    def digests_atom(self, digests: Sequence[Digest], *, limit: int = 30) -> str:
        """An Atom feed with one entry per day's digest, newest first."""
        ordered = sorted(digests, key=lambda d: d.day, reverse=True)[:limit]
        updated = max((d.generated for d in ordered), default=_EPOCH)
        return self._render(
            "digests.atom",
            digests=ordered,
            updated=updated,
            feed_id=_urn("digests", ""),
            urn=_urn,
        )

    # --- helpers ------------------------------------------------------------------------

    def search_row(self, story: Story, topics: Mapping[str, Topic]) -> dict[str, object]:
        """One story in the search index: headline, page, first day, outlets, topics, titles."""
        titles = {oneline(m.title) for m in story.members} - {oneline(story.headline)}
        return {
            "h": oneline(story.headline),
            "u": story_path(story.id),
            "d": self._local_day(story.first_seen).isoformat(),
            "o": list(story.outlets),
            "t": [topics[t].name for t in story.topics if t in topics],
            "x": " ".join(sorted(titles)),
        }

    def _story_days(self, members: Sequence[Member]) -> list[tuple[date, int, tuple[str, ...]]]:
        """Per local day: the articles that day and their distinct outlets, oldest first."""
        days: dict[date, list[Member]] = {}
        for m in members:
            days.setdefault(self._local_day(m.published), []).append(m)
        return [
            (d, len(ms), tuple(dict.fromkeys(m.outlet for m in ms if m.outlet)))
            for d, ms in sorted(days.items())
        ]

    def absolute(self, path: str) -> str:
        """``path`` (from the site root) as an absolute URL, or "" when no base_url is set."""
        return f"{self.base_url}/{path}" if self.base_url else ""

    def _render(self, name: str, **context: object) -> str:
        return self.env.get_template(name).render(**context)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _clock(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz)
        return f"{local:%H:%M} {local.tzname()}"

    def _when(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz)
        return f"{format_day(local.date(), 'short')}, {self._clock(moment)}"


def _feed_name(state: FeedState) -> str:
    return state.outlet or state.title or state.url


def _topics_of(digest: Digest) -> dict[str, Topic]:
    return {section.topic.slug: section.topic for section in digest.sections}


def _digest_context(digest: Digest) -> dict[str, object]:
    """The digest, its topics by slug, and the section each story is shown in first.

    A story under two topics gets its card in the first section and a pointer in the next.
    """
    first_in: dict[str, str] = {}
    for section in digest.sections:
        for story in section.stories:
            first_in.setdefault(story.id, section.topic.slug)
    return {"digest": digest, "topics": _topics_of(digest), "first_in": first_in}


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    word = singular if count == 1 else (plural or singular + "s")
    return f"{count} {word}"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _urn(kind: str, key: str) -> str:
    # Stable Atom ids that do not depend on where the site is published.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"tracker:{kind}:{key}").urn
