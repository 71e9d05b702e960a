"""Turn fetched feed bytes into our own entries: Fetched -> ParsedFeed of Entry (pure).

feedparser reads the document; it gets bytes and headers, never a URL or a path, and its
dicts are converted to dataclasses here, so nothing of FeedParserDict or ``bozo`` leaks out::

    Fetched.body + headers -> feedparser -> _entry per item -> ParsedFeed(entries, warning)

feedparser's own sanitiser and relative-URI pass are switched off: they are ~70% of its time
(see performance-notes.md). HTML is cleaned here with nh3 instead, links are canonicalised
so the same article reached through two feeds gets one id, and every date is aware UTC.
"""

from __future__ import annotations

import functools
import hashlib
import html
import html.entities
import io
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import feedparser
import feedparser.encodings
import nh3

from tracker import fastparse
from tracker.errors import ParseError
from tracker.models import Entry, Fetched, ParsedFeed

TITLE_MAX = 500
SUMMARY_MAX = 600
_FALLBACK_TITLE_MAX = 100
_FUTURE_SLACK = timedelta(days=1)

# --- URLs ---------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "msclkid", "igshid"})
_FEEDISH_REF = re.compile(r"rss|feed|atom", re.IGNORECASE)


def canonical_url(url: str, base: str | None = None) -> str | None:
    """``url`` resolved against ``base`` in one canonical spelling, or None if not http(s).

    Lower-case scheme and host, no default port, no fragment, no tracking parameters
    (utm_*, fbclid, gclid, mc_cid, mc_eid, msclkid, igshid, and ``ref`` when it names a
    feed); the other query parameters are kept as written, in their order.
    """
    text = url.strip()
    if not text:
        return None
    simple = _simple_canonical(text, base)
    if simple is not None:
        return simple
    try:
        parts = urlsplit(urljoin(base.strip(), text) if base else text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        port = parts.port
    except ValueError:  # a bad port or a broken IPv6 literal
        return None
    host = parts.hostname  # already lower case
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    query = _strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# An http(s) URL that urlsplit takes apart without changing anything (lower-case scheme and
# host, no user, port, params or brackets; printable ASCII), and perhaps a fragment, which
# canonical_url drops (a fifth of one outlet's links carry "#ftag=..."): canonical_url's
# answer for it is built directly. tests/test_ingest_fast.py checks it against the general
# path.
_SIMPLE_URL = re.compile(
    r"(https?://[a-z0-9.-]+)(/[^\x00-\x20\x7f?#;\[\]]*)?(?:\?([^\x00-\x20\x7f#;\[\]]*))?"
    r"(#[^\x00-\x20\x7f]*)?"
)


def _simple_canonical(text: str, base: str | None) -> str | None:
    """canonical_url(text, base) for the common simple absolute URL, else None (ask urllib)."""
    if not text.isascii():
        return None
    match = _SIMPLE_URL.fullmatch(text)
    if match is None:
        return None
    start, path, query, fragment = match.groups()
    if base and not _plain_absolute(text[: match.start(4)] if fragment else text):
        return None  # urljoin might respell it
    if query:
        query = _strip_tracking(query)
    return f"{start}{path or '/'}?{query}" if query else f"{start}{path or '/'}"


def _strip_tracking(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        name = unquote_plus(key).strip().lower()
        if not pair or name.startswith("utm_") or name in _TRACKING_KEYS:
            continue
        if name == "ref" and _FEEDISH_REF.search(unquote_plus(value)):
            continue
        kept.append(pair)
    return "&".join(kept)


def _http_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL (a usable base), else None."""
    if url and urlsplit(url.strip()).scheme.lower() in _DEFAULT_PORTS:
        return url.strip()
    return None


def entry_id(link: str, guid: str | None, feed_url: str) -> str:
    """16 hex characters naming an entry.

    From the canonical link when there is one, so two feeds carrying one article agree;
    otherwise from the feed's URL and the entry's guid, which are unique only together
    (``parse_feed`` passes the URL the feed was added with, ``Feed.identity``, so that a
    feed's move does not rename them).
    """
    canonical = canonical_url(link) if link else None
    key = canonical if canonical else f"{feed_url}\n{guid or ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# --- HTML ---------------------------------------------------------------------------------

_TAGS = frozenset(
    {"p", "br", "a", "em", "strong", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre"}
    | {"h2", "h3", "h4", "h5", "h6", "img", "figure", "figcaption"}
    | {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption"}
)
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
# Dropped together with everything inside them, not just unwrapped.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea"}
)
_LINK_REL = "noopener noreferrer nofollow"
_URL_ATTRIBUTES = {("a", "href"): ("http", "https", "mailto"), ("img", "src"): ("http", "https")}
_BLOCK_TAG = re.compile(
    r"<(/?(?:p|div|br|hr|li|ul|ol|dd|dt|h[1-6]|tr|td|th|table|blockquote|pre|figure"
    r"|figcaption|section|article|header|footer)\b)",
    re.IGNORECASE,
)
# _BLOCK_TAG's places, cheaper to find: replacing the '<' with " <" is its r" <\1".
_BEFORE_BLOCK_TAG = re.compile(r"<(?=" + _BLOCK_TAG.pattern[1:] + ")", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


# An absolute http(s) URL that urljoin would hand back unchanged: ASCII, a host, and none of
# the characters urlsplit removes or re-spells (tab, CR, LF; an empty query, fragment or
# params; brackets, which it validates).
_PLAIN_ABSOLUTE = re.compile(r"https?://[^/\s?#;\[\]]+(?:/[^\s?#;\[\]]*)?(?:\?[^\s#;\[\]]+)?")


def _plain_absolute(url: str) -> bool:
    return url.isascii() and _PLAIN_ABSOLUTE.fullmatch(url) is not None


def sanitize_html(html_text: str, *, base_url: str | None = None) -> str:
    """``html_text`` reduced to a safe subset to embed in our pages.

    Only simple formatting, links (http, https, mailto) and http(s) images survive; script,
    style, iframe, object, embed and forms go, as do on* and style attributes. Relative
    href/src are resolved against ``base_url`` (dropped when there is none).
    """

    def resolve(tag: str, attribute: str, value: str) -> str | None:
        schemes = _URL_ATTRIBUTES.get((tag, attribute))
        if schemes is None:
            return value
        # nh3 checks schemes before calling this filter, so whatever we return is checked
        # here again: a filter must never hand back a javascript: URL.
        url = value.strip()
        if _plain_absolute(url):
            return url  # what urljoin and urlsplit would give back, at a fraction of the cost
        resolved = urljoin(base_url, url) if base_url else url
        scheme = urlsplit(resolved).scheme.lower()
        return resolved if scheme in schemes else None

    if _plain_text(html_text):  # nh3 gives text back escaped, and nothing else
        return html_text.replace(">", "&gt;").replace("\xa0", "&nbsp;").strip()
    if _links_taken_as_written(html_text):
        return _sanitizer().clean(html_text).strip()
    return nh3.clean(html_text, **_SANITIZE, attribute_filter=resolve).strip()


# nh3.clean's options for sanitize_html; without a filter they make one reusable Cleaner
# (issue 8: building the sanitiser was about a third of the time nh3 took per summary).
_SANITIZE: dict[str, Any] = {
    "tags": set(_TAGS),
    "clean_content_tags": set(_DROP_WITH_CONTENT),
    "attributes": {tag: set(names) for tag, names in _ATTRIBUTES.items()},
    "url_schemes": {"http", "https", "mailto"},
    "link_rel": _LINK_REL,
    "strip_comments": True,
}


@functools.cache
def _sanitizer() -> nh3.Cleaner:
    return nh3.Cleaner(**_SANITIZE)


@functools.cache
def _text_cleaner() -> nh3.Cleaner:
    """What html_to_text hands the HTML parser: no tags kept, nor what is inside these."""
    return nh3.Cleaner(tags=set(), clean_content_tags=set(_DROP_WITH_CONTENT))


def _plain_text(html_text: str) -> bool:
    """Text the HTML parser reads as one run of characters, each as itself."""
    return not (
        "<" in html_text
        or "&" in html_text
        or "\x00" in html_text
        or "\r" in html_text
        or html_text.startswith("\ufeff")
    )


# What follows an attribute name as the HTML tokenizer reads a value.
_ATTRIBUTE_VALUE = re.compile(
    r"[\t\n\f\r ]*=[\t\n\f\r ]*(?:\"([^\"]*)\"|'([^']*)'|([^\t\n\f\r >]+))"
)
# A plain absolute URL (_PLAIN_ABSOLUTE) of printable ASCII without '&' (no entity in it).
_URL_CHARS = "".join(re.escape(chr(c)) for c in range(0x21, 0x7F) if chr(c) not in "/?#;[]&")
_LINK_AS_WRITTEN = re.compile(
    rf"https?://[{_URL_CHARS}]+(?:/[{_URL_CHARS}/]*)?(?:\?[{_URL_CHARS}/?]+)?"
)


def _url_of(chars: str) -> str:
    """_LINK_AS_WRITTEN with ``chars`` for its characters."""
    return rf"https?://[{chars}]+(?:/[{chars}/]*)?(?:\?[{chars}/?]+)?"


# An '=' after a link name ("href" or "src" in any ASCII case, right before it) and a value
# (_ATTRIBUTE_VALUE) that is a _LINK_AS_WRITTEN URL. Each URL leaves out what would end its
# value (the quote, or a '>' when unquoted). Starting with the '=' lets re skip ahead fast.
_LINK_WRITTEN = re.compile(
    r"=(?:(?<=[hH][rR][eE][fF]=)|(?<=[sS][rR][cC]=))[\t\n\f\r ]*"
    rf"(?:\"{_url_of(_URL_CHARS.replace(chr(34), ''))}\""
    rf"|'{_url_of(_URL_CHARS.replace(chr(39), ''))}'"
    rf"|{_url_of(_URL_CHARS.replace('>', ''))}(?![^\t\n\f\r >]))"
)


def _links_taken_as_written(html_text: str) -> bool:
    """Whether the attribute filter would hand back every href and src unchanged.

    True when each "href" or "src" in the text, in any ASCII case (every place such an
    attribute could be, and more), is followed by a value, written without entities or
    control characters, that is a plain absolute http(s) URL: the filter returns those as
    they are, so nh3 can run without it (issue 8: calling back into Python for every link
    was a quarter of the cleaning time). Counted, not looped over: each match of
    _LINK_WRITTEN follows its own name, so as many matches as names means every name is
    followed by such a value and none hides inside another's value (a name followed by
    spaces before its '=' counts as not taken as written: the filter then decides).
    tests/test_ingest_fast.py fuzzes it against the filter.
    """
    lowered = html_text.lower()
    if len(lowered) != len(html_text):
        return False  # a character whose lower case is longer: positions would not agree
    names = lowered.count("href") + lowered.count("src")
    return names == 0 or names == len(_LINK_WRITTEN.findall(html_text))


def html_to_text(html_text: str) -> str:
    """Plain text of an HTML fragment: no tags, entities decoded, whitespace collapsed."""
    if not html_text.startswith("\ufeff"):  # the HTML parser drops a leading BOM
        if "<" not in html_text and "&" not in html_text and "\x00" not in html_text:
            return collapse(html_text)  # what the HTML parser gives back for plain text
        simple = _simple_text(html_text)
        if simple is not None:
            return collapse(simple)
    # A space before block tags keeps "<p>a</p><p>b</p>" from becoming "ab".
    spaced = _BEFORE_BLOCK_TAG.sub(" <", html_text)
    stripped = _text_cleaner().clean(spaced)
    return collapse(html.unescape(stripped))


# Issue 8: most summaries are text, a few inline or block tags and the common entities.
# For those the text is the fragment with its tags cut out (a space for a block tag, as
# above) and its entities decoded, which is what nh3 (html5ever) gives: none of these tags
# changes how the parser reads text (no raw text, tables, forms, templates, foreign content
# or <pre>), a '<' inside a quoted attribute value is not taken, and only entities that
# html5ever and html.unescape both decode to the same character are. Anything else goes
# to nh3. tests/test_ingest_fast.py fuzzes this against the nh3 path.
_SIMPLE_TAG = re.compile(
    r"(/?)(a|abbr|article|aside|b|big|blockquote|br|center|cite|code|dd|del|dfn|div|dl|dt|em"
    r"|figcaption|figure|font|footer|h[1-6]|header|hr|i|img|ins|kbd|li|main|mark|nav|ol|p|q"
    r"|s|samp|section|small|span|strike|strong|sub|sup|time|tt|u|ul|var)"
    r"(?>\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*+(?:\s*=\s*(?:\"[^\"<]*+\"|'[^'<]*+'|[^\s\"'=<>`]++))?)*+"
    r"\s*/?>",
    re.IGNORECASE,
)
# The names _BLOCK_TAG finds.
_BLOCK_NAMES = frozenset(
    {"p", "div", "br", "hr", "li", "ul", "ol", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"tr", "td", "th", "table", "blockquote", "pre", "figure", "figcaption", "section"}
    | {"article", "header", "footer"}
)
_BARE_TAG_NAMES = ("a", "b", "i", "em", "strong", "code", "span", "small", "sub", "sup", "p", "div")
_BARE_TAGS = {
    f"{slash}{name}{end}": name in _BLOCK_NAMES
    for name in (*_BARE_TAG_NAMES, "br", "hr", "li", "ul", "ol", "h2", "h3", "h4", "blockquote")
    for slash in ("", "/")
    for end in ("", "/", " /")
}
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{0,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_HTML5_ENTITIES = html.entities.html5


def _simple_text(fragment: str) -> str | None:
    """The text of a simple HTML fragment (see above), or None when nh3 must read it."""
    if "\x00" in fragment:
        return None
    pieces = fragment.split("<")
    first = _decoded(pieces[0]) if "&" in pieces[0] else pieces[0]
    if first is None:
        return None
    out = [first]
    for piece in pieces[1:]:
        head, _, text = piece.partition(">")
        block = _BARE_TAGS.get(head)  # <p>, </a>, <br/>: no attributes, no regex
        if block is None:
            tag = _SIMPLE_TAG.match(piece)
            if tag is None:
                return None
            text = piece[tag.end() :]
            block = tag.group(2).lower() in _BLOCK_NAMES
        if "&" in text:
            decoded = _decoded(text)
            if decoded is None:
                return None
            text = decoded
        out.append(" " + text if block else text)
    return "".join(out)


def _decoded(text: str) -> str | None:
    """``text`` with its entities decoded, or None if one is not a plain one."""
    try:
        decoded, count = _ENTITY.subn(_decode_entity, text)
    except KeyError:
        return None
    return decoded if count == text.count("&") else None


def _decode_entity(match: re.Match[str]) -> str:
    ref = match.group(0)[1:-1]
    if ref[0] != "#":
        return _HTML5_ENTITIES[ref + ";"]  # KeyError: not a known entity
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    if not _plain_code_point(code):
        raise KeyError(ref)
    return chr(code)


def _plain_code_point(code: int) -> bool:
    """A code point html5ever and html.unescape both give back as itself from &#...;."""
    if code in (0x9, 0xA, 0xD):
        return True
    if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return False
    return not (0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE)


def collapse(text: str) -> str:
    """``text`` with runs of whitespace made one space, trimmed."""
    # str.split() and re's \s agree on what whitespace is (str.isspace); a test checks it.
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters on a word boundary, ending with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-\u2013\u2014") + "\u2026"


# --- XML safety ---------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<\w")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _declares_entities(body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the document declares XML entities in its DOCTYPE.

    feedparser keeps entity declarations whose value holds no ``&``; a long one referenced
    many times (the "quadratic blowup") then expands in its loose parser without limit: a
    110 KB feed exhausted 1 GiB. Billion-laughs nesting and external entities are already
    dropped by feedparser and expat, but they are refused here too, by the same test.

    The test runs on the text as feedparser decodes it, since UTF-16 or UTF-7 (``+ADwAIQ-``
    is ``<!``) would hide the declaration from a byte search. Without a DOCTYPE neither expat
    nor feedparser accepts entity declarations; with one, anything from the start of the
    document to the first element after it counts (feedparser reads declarations there).
    """
    decoded: bytes = feedparser.encodings.convert_to_utf8(dict(headers), body, {})
    doctype = _DOCTYPE.search(decoded)
    if doctype is None:
        return False
    element = _FIRST_ELEMENT.search(decoded, doctype.end())
    prolog = decoded[: element.start()] if element else decoded
    return _ENTITY_DECLARATION.search(prolog) is not None


# --- feed and entries ---------------------------------------------------------------------


def _get(mapping: Any, key: str, default: Any = None) -> Any:
    """A key of a feedparser dict without its aliasing (which warns on some keys)."""
    return dict.get(mapping, key, default) if isinstance(mapping, dict) else default


def _as_utc(parsed: Any) -> datetime | None:
    """An aware UTC datetime from feedparser's UTC struct_time, or None."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        return datetime(*parsed[:5], min(parsed[5], 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _clamp(moment: datetime | None, now: datetime) -> datetime | None:
    # Some feeds date items in the future (time zone bugs, scheduled posts); they would sit
    # on top of every listing for days.
    if moment is not None and moment > now + _FUTURE_SLACK:
        return now
    return moment


def _detail_text(item: Any, key: str, atom: bool) -> str:
    """Plain text of a text construct (title, summary, feed title)."""
    value = _get(item, key)
    if not isinstance(value, str):
        return ""
    kind = _get(_get(item, f"{key}_detail", {}), "type", "")
    # Atom says exactly what a text construct holds; RSS titles and descriptions are
    # HTML in practice, whatever feedparser guesses.
    if atom and kind == "text/plain":
        return collapse(value)
    return html_to_text(value)


def _richest_html(item: Any) -> str:
    """The longest of the entry's content and summary, as HTML."""
    candidates = [c for c in _get(item, "content", []) or [] if isinstance(c, dict)]
    summary_detail = _get(item, "summary_detail")
    if isinstance(summary_detail, dict):
        candidates.append(summary_detail)
    best = ""
    for candidate in candidates:
        value = _get(candidate, "value")
        if not isinstance(value, str):
            continue
        if _get(candidate, "type", "") == "text/plain":
            value = html.escape(value)
        if len(value) > len(best):
            best = value
    return best


def _summary_text(item: Any, atom: bool) -> str:
    text = _detail_text(item, "summary", atom)
    if not text:
        contents = [c for c in _get(item, "content", []) or [] if isinstance(c, dict)]
        text = next((t for c in contents if (t := _content_text(c, atom))), "")
    return truncate(text, SUMMARY_MAX)


def _content_text(content: Any, atom: bool) -> str:
    value = _get(content, "value")
    if not isinstance(value, str):
        return ""
    plain = atom and _get(content, "type", "") == "text/plain"
    return collapse(value) if plain else html_to_text(value)


def _link_and_guid(item: Any, base: str | None) -> tuple[str, str | None]:
    """The entry's canonical http(s) link (or "") and its guid (or None)."""
    guid = _get(item, "id")
    guid = guid.strip() if isinstance(guid, str) and guid.strip() else None
    raw_link = _get(item, "link")
    link = canonical_url(raw_link, base) if isinstance(raw_link, str) else None
    if link is None and guid is not None:
        link = canonical_url(guid)
    return link or "", guid


def _entry(
    item: Any,
    *,
    feed_url: str,
    base: str | None,
    now: datetime,
    outlet: str,
    atom: bool,
    found: tuple[str, str, str | None] | None = None,
) -> Entry | None:
    """One of our entries from one feedparser entry; None when it has no link and no guid.

    ``found`` is (id, link, guid) when the caller has worked them out already.
    """
    key, link, guid = found or ("", *_link_and_guid(item, base))
    if not link and guid is None:
        return None
    summary = _summary_text(item, atom)
    title = truncate(_detail_text(item, "title", atom), TITLE_MAX)
    updated = _clamp(_as_utc(_get(item, "updated_parsed")), now)
    published = _clamp(_as_utc(_get(item, "published_parsed")), now) or updated or now
    author = _get(item, "author")
    return Entry(
        id=key or entry_id(link, guid, feed_url),
        feed_url=feed_url,
        link=link,
        title=title or truncate(summary, _FALLBACK_TITLE_MAX),
        summary=summary,
        published=published,
        content_html=sanitize_html(_richest_html(item), base_url=link or base),
        guid=guid,
        author=truncate(html_to_text(author), 200) if isinstance(author, str) else "",
        outlet=outlet,
        updated=updated,
    )


def _unique(entries: Iterable[Entry | None]) -> tuple[Entry, ...]:
    """Entries in document order, the first of each id kept."""
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry is not None:
            seen.setdefault(entry.id, entry)
    return tuple(seen.values())


def _ttl(feed: Any) -> int | None:
    value = _get(feed, "ttl")
    if isinstance(value, str) and value.strip().isdigit():
        minutes = int(value.strip())
        return minutes if minutes > 0 else None
    return None


def _damage(raw: Any) -> str | None:
    """A short lower-case note on what feedparser had to survive, or None."""
    if not _get(raw, "bozo"):
        return None
    error = _get(raw, "bozo_exception")
    # A feed served as text/html or text/plain parses fine; that is not damage.
    if isinstance(error, feedparser.NonXMLContentType):
        return None
    if isinstance(error, feedparser.CharacterEncodingOverride):
        kind = "wrong encoding"
    elif isinstance(error, feedparser.CharacterEncodingUnknown):
        kind = "unknown encoding"
    else:
        kind = "ill-formed xml"
    detail = collapse(str(error)).lower()
    return truncate(f"{kind}: {detail}" if detail else kind, 200)


def _not_a_feed(raw: Any, body: bytes) -> str:
    """Why a document with no entries and no title is not a feed, for the error message."""
    if not body.strip():
        return "empty document"
    head = body[:2048].lower()
    if b"<!doctype html" in head or b"<html" in head:
        return "an html page"
    return _damage(raw) or "no rss, atom or rdf root element"


def feedparser_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers to hand feedparser: none at all when there is no Content-Type.

    Given headers without a Content-Type, feedparser falls back to RFC 3023's old default
    and decodes the document as ISO-8859-1 (flagging it bozo), so a UTF-8 feed from a server
    that names no type comes out garbled. RFC 7303, which replaced 3023, says to use the BOM
    and the XML declaration then, as for a file: that is what feedparser does with no headers.
    (Found by serving the feed-robustness encoding cases over HTTP, issue 3.)
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered if "content-type" in lowered else {}


def parse_feed(
    fetched: Fetched,
    *,
    feed_url: str,
    now: datetime,
    outlet: str = "",
    known: Callable[[Sequence[str]], Collection[str]] | None = None,
    fast: bool = True,
    identity: str | None = None,
) -> ParsedFeed:
    """Parse a fetched document into a ParsedFeed whose entries carry ``feed_url``.

    ``known`` (ids -> those already stored) spares the work on entries already stored: they
    are neither cleaned nor returned, only their ids (``ParsedFeed.known_ids``). ``fast``
    reads common documents with lxml (tracker.fastparse), feedparser the rest.
    ``identity`` is the feed URL that names entries without a link (``Feed.identity``: the
    URL the feed was added with); ``feed_url`` by default.

    Raises ParseError when the document is not a feed, or declares XML entities.
    """
    if fetched.body is None:
        raise ValueError("nothing to parse: the fetch returned no body (304 not modified)")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    body, now = fetched.body, now.astimezone(UTC)
    headers = feedparser_headers(fetched.headers)
    raw: Any = fastparse.read(body, headers) if fast else None
    if raw is None:
        if _declares_entities(body, headers):
            raise ParseError(feed_url, "refused: feed declares XML entities")
        # A stream, not bytes: given bytes that look like a path, feedparser opens that file.
        raw = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    feed, items = _get(raw, "feed", {}), _get(raw, "entries", [])
    atom = str(_get(raw, "version") or "").startswith("atom")
    title = _detail_text(feed, "title", atom)
    if not items and not title and (_get(raw, "bozo") or not _get(raw, "version")):
        raise ParseError(feed_url, f"not a feed: {_not_a_feed(raw, body)}")
    document_url = _http_url(fetched.final_url or fetched.url)
    feed_link = _get(feed, "link")
    site_url = canonical_url(feed_link, document_url) if isinstance(feed_link, str) else None
    base = site_url or document_url
    # Ids first (cheap); the first item of each id is the entry, as in _unique.
    first: dict[str, tuple[Any, str, str | None]] = {}
    for item in items:
        link, guid = _link_and_guid(item, base)
        if link or guid is not None:
            first.setdefault(entry_id(link, guid, identity or feed_url), (item, link, guid))
    stored = set(known(list(first))) if known is not None and first else set()
    entries = _unique(
        _entry(
            item,
            feed_url=feed_url,
            base=base,
            now=now,
            outlet=outlet,
            atom=atom,
            found=(key, link, guid),
        )
        for key, (item, link, guid) in first.items()
        if key not in stored
    )
    return ParsedFeed(
        title=truncate(title, TITLE_MAX),
        site_url=site_url or "",
        entries=entries,
        ttl_minutes=_ttl(feed),
        warning=_damage(raw),
        known_ids=tuple(key for key in first if key in stored),
    )
