"""Feed autodiscovery: the feeds a web page points to, best first (pure, no I/O).

A page announces its feeds in its head (the RSS autodiscovery convention, and HTML's
``rel="alternate"`` with a feed media type)::

    <link rel="alternate" type="application/rss+xml" title="News" href="/feed.xml">

    page HTML + its URL ─► every such <link> (resolved against <base> and the URL) ─► ranked

Ranking, most important first: the site's own feeds before feeds on other hosts; main feeds
before comment feeds; Atom, then RSS, RDF and plain XML (a site offering the same feed as Atom
and RSS is best read as Atom, whose dates and content types are well defined); then the page's
own order, since sites list their main feed first. ``best`` picks one only when the top two
differ in something other than page order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: Feed media types, by preference.
FEED_TYPES = {
    "application/atom+xml": 0,
    "application/rss+xml": 1,
    "application/rdf+xml": 2,
    # Old sites label RSS as plain XML. JSON Feed is left out: feedparser cannot read it.
    "application/xml": 3,
    "text/xml": 3,
}
_COMMENTS = re.compile(r"\bcomments?\b|/comments?/", re.IGNORECASE)
#: Stop reading a page after this many characters; feed links live in the head.
MAX_CHARS = 2 * 1024 * 1024


@dataclass(frozen=True)
class Candidate:
    """A feed a page links to."""

    url: str
    title: str
    type: str
    rank: tuple[int, int, int, int]  # lower is better; see the module docstring

    @property
    def kind(self) -> str:
        """atom, rss, rdf or xml."""
        return self.type.split("/")[-1].split("+")[0]


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"].strip()
        elif tag in ("link", "a") and values.get("href"):
            values["_tag"] = tag
            self.links.append(values)

    handle_startendtag = handle_starttag


def _media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def find_feeds(html: str, page_url: str) -> list[Candidate]:
    """The feeds ``html`` (fetched from ``page_url``) announces, best first, each URL once.

    Only ``<link rel="alternate">`` with a feed type counts (``<a>`` links do not: a page's
    body links to anything). Relative URLs resolve against ``<base href>``, then the page.
    """
    collector = _LinkCollector()
    collector.feed(html[:MAX_CHARS])
    collector.close()
    base = urljoin(page_url, collector.base) if collector.base else page_url
    page_host = (urlsplit(page_url).hostname or "").lower()
    found: dict[str, Candidate] = {}
    for order, link in enumerate(collector.links):
        rels = link.get("rel", "").lower().split()
        kind = _media_type(link.get("type", ""))
        if link["_tag"] != "link" or "alternate" not in rels or kind not in FEED_TYPES:
            continue
        url = urljoin(base, link["href"].strip())
        if not _http(url) or url in found:
            continue
        title = " ".join(link.get("title", "").split())
        host = (urlsplit(url).hostname or "").lower()
        other_host = 0 if _same_site(host, page_host) else 1
        comments = 1 if _COMMENTS.search(title) or _COMMENTS.search(url) else 0
        found[url] = Candidate(url, title, kind, (other_host, comments, FEED_TYPES[kind], order))
    return sorted(found.values(), key=lambda c: c.rank)


def _same_site(host: str, page_host: str) -> bool:
    """``feeds.example.com`` belongs to ``www.example.com``: compare the last two labels."""
    if host == page_host:
        return True
    return host.split(".")[-2:] == page_host.split(".")[-2:] and host.count(".") >= 1


def best(candidates: list[Candidate]) -> Candidate | None:
    """The one to add without asking, or None when the top two are equally good.

    Equally good means the same rank apart from page order: two main feeds of the same
    site and kind (say "All news" and "Podcasts"); the user then picks one.
    """
    if not candidates:
        return None
    if len(candidates) == 1 or candidates[0].rank[:3] != candidates[1].rank[:3]:
        return candidates[0]
    return None
