"""A fast path for the common feed document: well-formed UTF-8 RSS 2.0 or Atom 1.0, read by lxml.

feedparser stays the reference parser. ``read`` returns the same shape feedparser's result
has for the keys parse.py reads (``feed``, ``entries``, ``version``, ``bozo``), built with
feedparser's own rules for them (whitespace stripping, the ``&amp;`` fix in links, the
UTF-8 double-decoding repair, the Windows-1252 mapping of C1 controls, guid-as-link, content
copied to a missing summary, last date wins) so the entries come out the same. Anything it
is not sure to read exactly as feedparser would returns None and feedparser reads the
document: another encoding, a DOCTYPE, ill-formed XML, RSS 0.9/RDF or Atom 0.3, xml:base,
inline XHTML, base64 content, a duplicate summary, or an element of another namespace that
feedparser maps onto a field used here (itunes:summary, dcterms:issued, media:title, ...).
bench/compare_parsers.py checks the two agree on real corpora.

lxml reads with entities unresolved, no network and no huge trees.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

RSS_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# Local names that feedparser maps onto a field parse.py reads, whatever the namespace;
# an element with one of them outside the handled ones sends the document to feedparser.
_RISKY = frozenset(
    {"title", "link", "id", "guid", "summary", "description", "abstract", "content"}
    | {"encoded", "published", "pubdate", "issued", "updated", "modified", "created"}
    | {"date", "lastbuilddate", "author", "creator", "name", "email", "subtitle", "ttl"}
)
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_AMP_NAME = re.compile("&([A-Za-z0-9_]+);")
_C1 = re.compile("[\x80-\x9f]")
_UTF8 = frozenset({"utf-8", "utf8"})
_XML_TYPES = frozenset(
    {"application/xml", "application/rss+xml", "application/atom+xml", "application/rdf+xml"}
)
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html"})


class _Unsure(Exception):
    """The document needs feedparser."""


def _utf8_document(body: bytes, headers: Mapping[str, str]) -> bool:
    """True when feedparser would read ``body`` as UTF-8 from its declaration or BOM alone."""
    content_type = headers.get("content-type", "")
    if content_type:
        mime, _, params = content_type.partition(";")
        charset = re.search(r"charset\s*=\s*\"?([^\s;\"]+)", params, re.IGNORECASE)
        if charset is not None:
            if charset.group(1).lower() not in _UTF8:
                return False
        elif mime.strip().lower() not in _XML_TYPES:
            return False  # text/xml without a charset is us-ascii by RFC 3023
    text = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    if text[:1] != b"<":
        return False
    declaration = _XML_DECLARATION.match(text)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group(0))
        if encoding is not None and encoding.group(1).decode().lower() not in _UTF8:
            return False
    head = text[:4096].lower()
    return b"<!doctype" not in head and b"<!entity" not in head


def _fix(text: str) -> str:
    """feedparser's last steps on every text value: strip, UTF-8 repair, cp1252 mapping."""
    if text.isascii():
        return text.strip()  # the repair and the mapping leave ASCII as it is
    from feedparser.mixin import _cp1252

    output = text.strip()
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    # The mapping touches only C1 controls; translate looks up every character.
    return output.translate(_cp1252) if _C1.search(output) else output


def _text(element: Any) -> str:
    """The text of a leaf element; a child (markup, a comment) needs feedparser."""
    if len(element) or XML_BASE in element.attrib:
        raise _Unsure
    return _fix(element.text or "")


def _uri(text: str) -> str:
    """feedparser's ``_urljoin("", text)``: with no base, urljoin hands ``text`` back, so only
    its fixer acts, which drops the slashes after "scheme://" (issue 8: most of the cost of
    a link was urljoin and the fixer's substitution)."""
    from feedparser.urls import _urifixer

    if text[:8] == "https://" and text[8:9] != "/":
        return text  # nothing for the fixer to drop
    if text[:7] == "http://" and text[7:8] != "/":
        return text
    match = _urifixer.match(text)
    if match is None or not match.group(2):
        return text
    return str(match.group(1)) + text[match.end(2) :]


def _amp_fix(text: str, amp: bool = True) -> str:
    """feedparser's fix of a link's entities: "&amp;" (``amp``) and the ";" of "&name;"."""
    if "&" not in text:
        return text
    if amp:
        text = text.replace("&amp;", "&")
    return _AMP_NAME.sub(r"&\g<1>", text)


def _date(text: str) -> Any:
    """feedparser's UTC struct_time for a date, or None."""
    from feedparser.datetimes import _parse_date

    match = _RFC822.fullmatch(text)
    if match is not None:
        found = _rfc822(match)
        if found is not None:
            return found
    return _parse_date(text)


# Issue 8: the RFC 822 date nearly every RSS feed writes, "Mon, 06 Jan 2025 10:00:00 +0000".
# feedparser tries its W3C handler first (it declines these) and then its RFC 822 one,
# whose arithmetic _rfc822 repeats; tests/test_ingest_fast.py checks the two agree.
_RFC822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d\d):(\d\d):(\d\d) (?:([+-])(\d\d)(\d\d)|GMT|UT|Z)"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _rfc822(match: re.Match[str]) -> Any:
    day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
    hours = int(zone_h) if sign else 0
    minutes = int(zone_m) if sign else 0
    if sign == "-":
        hours, minutes = -hours, -minutes
    try:
        stamp = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
        return (stamp - timedelta(minutes=minutes, hours=hours)).utctimetuple()
    except (ValueError, OverflowError):
        return None  # feedparser's other handlers may still read it


def _content_type(element: Any, default: str) -> str:
    value = str(element.get("type", default)).lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(value, value)


def _local(tag: str) -> tuple[str, str]:
    if tag[:1] == "{":
        namespace, _, name = tag[1:].partition("}")
        return "{" + namespace + "}", name.lower()
    return "", tag.lower()


def _ignored(element: Any, risky: frozenset[str] = _RISKY) -> None:
    """An element we skip: feedparser reads nested ones too, so none may name a field."""
    for node in element.iter():
        if isinstance(node.tag, str) and node.tag not in _HARMLESS and _local(node.tag)[1] in risky:
            raise _Unsure


# feedparser keeps media:content's attributes under media_content, never in content.
_HARMLESS = frozenset({"{http://search.yahoo.com/mrss/}content"})


_FEED_FIELDS = frozenset({"title", "link", "ttl", "id"})
_FEED_CONTAINERS = frozenset({"image", "textinput"})  # feedparser keeps their own title/link


class _Item:
    """One entry in feedparser's shape, filled element by element."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}
        self.summaries = 0

    def content(self, kind: str, value: str) -> None:
        self.out.setdefault("content", []).append({"type": kind, "value": value})
        if kind == "text/plain" or kind in _HTML_TYPES:
            self.out.setdefault("summary", value)

    def summary(self, kind: str, value: str) -> None:
        self.summaries += 1
        if self.summaries > 1:
            raise _Unsure  # feedparser turns a second summary into content
        self.out["summary"] = value
        self.out["summary_detail"] = {"type": kind, "value": value}

    def guid(self, value: str, permalink: bool) -> None:
        self.out["id"] = _uri(value) if permalink else value
        if permalink:
            self.out.setdefault("link", self.out["id"])


def _rss_item(element: Any) -> dict[str, Any]:
    item = _Item()
    out = item.out
    for child in element:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction between elements
        namespace, name = _local(child.tag)
        if namespace == "":
            if name == "title":
                out["title"] = _text(child)
                out["title_detail"] = {"type": "text/plain"}
            elif name == "link":
                out["link"] = _uri(_amp_fix(_text(child)))
            elif name == "description":
                if "type" in child.attrib:
                    raise _Unsure
                item.summary("text/html", _text(child))
            elif name == "guid":
                permalink = child.get("isPermaLink", child.get("ispermalink", "true")) == "true"
                item.guid(_text(child), permalink)
            elif name == "pubdate":
                out["published_parsed"] = _date(_text(child))
            elif name == "author":
                out["author"] = _text(child)
            else:
                _ignored(child)
        elif namespace == RSS_CONTENT and name == "encoded":
            item.content("text/html", _text(child))
        elif namespace == DC and name == "creator":
            out["author"] = _text(child)
        elif namespace == DC and name == "date":
            out["updated_parsed"] = _date(_text(child))
        else:
            _ignored(child)
    return out


def _atom_text(element: Any) -> tuple[str, str]:
    if "src" in element.attrib or "mode" in element.attrib:
        raise _Unsure
    kind = _content_type(element, "text/plain")
    if kind not in ("text/plain", "text/html"):
        raise _Unsure  # xhtml markup, or a type feedparser reads as base64
    return kind, _text(element)


def _atom_link(element: Any) -> str | None:
    """The href of an alternate HTML link (what feedparser calls ``link``), else None."""
    if len(element) or XML_BASE in element.attrib:
        raise _Unsure
    rel = element.get("rel", "alternate").lower()  # feedparser lower-cases rel and type
    kind = element.get("type", "application/atom+xml" if rel == "self" else "text/html")
    href = element.get("href")
    if href is None:
        raise _Unsure
    if rel == "alternate" and _content_type(element, kind) in _HTML_TYPES:
        return _uri(_fix(href))
    return None


def _atom_author(element: Any) -> str:
    name = email = ""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        namespace, local = _local(child.tag)
        if namespace == ATOM and local == "name":
            name = _text(child)
        elif namespace == ATOM and local == "email":
            email = _text(child)
        elif local in _RISKY:
            raise _Unsure
    if name and email:
        return f"{name} ({email})"
    return name or email


def _atom_entry(element: Any) -> dict[str, Any]:
    item = _Item()
    out = item.out
    link: str | None = None
    authors = 0
    for child in element:
        if not isinstance(child.tag, str):
            continue
        namespace, name = _local(child.tag)
        if namespace == ATOM:
            if name == "title":
                kind, out["title"] = _atom_text(child)
                out["title_detail"] = {"type": kind}
            elif name == "link":
                link = _atom_link(child) or link
            elif name == "id":
                item.guid(_text(child), True)
            elif name == "summary":
                item.summary(*_atom_text(child))
            elif name == "content":
                item.content(*_atom_text(child))
            elif name == "published":
                out["published_parsed"] = _date(_text(child))
            elif name == "updated":
                out["updated_parsed"] = _date(_text(child))
            elif name == "author":
                authors += 1
                out["author"] = _atom_author(child)
            elif name == "source":
                raise _Unsure
            else:
                _ignored(child)
        elif namespace == DC and name == "date":
            out["updated_parsed"] = _date(_text(child))
        else:
            _ignored(child)
    if authors > 1:
        raise _Unsure  # feedparser keeps the first author's name
    if link is not None:
        out["link"] = link
    if out.get("author") == "":
        del out["author"]
    return out


def _rss(root: Any) -> dict[str, Any]:
    channels = [c for c in root if isinstance(c.tag, str) and c.tag == "channel"]
    if len(channels) != 1 or any(isinstance(c.tag, str) and c.tag == "item" for c in root):
        raise _Unsure
    feed: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    for child in channels[0]:
        if not isinstance(child.tag, str):
            continue
        namespace, name = _local(child.tag)
        if namespace == "" and name == "item":
            items.append(_rss_item(child))
        elif namespace == "" and name == "title":
            feed["title"] = _text(child)
            feed["title_detail"] = {"type": "text/plain"}
        elif namespace == "" and name == "link":
            feed["link"] = _uri(_amp_fix(_text(child), amp=False))
        elif namespace == "" and name == "ttl":
            feed["ttl"] = _text(child)
        elif namespace == ATOM and name == "link":
            if _atom_link(child) is not None:
                raise _Unsure
        elif name in ("item", "entry") or (namespace == "" and name == "id"):
            raise _Unsure
        elif not (namespace == "" and name in _FEED_CONTAINERS):
            _ignored(child, _FEED_FIELDS)
    return {"feed": feed, "entries": items, "version": "rss20", "bozo": 0}


def _atom(root: Any) -> dict[str, Any]:
    feed: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    feed_id: str | None = None
    for child in root:
        if not isinstance(child.tag, str):
            continue
        namespace, name = _local(child.tag)
        if namespace == ATOM and name == "entry":
            if XML_BASE in child.attrib:
                raise _Unsure
            items.append(_atom_entry(child))
        elif namespace == ATOM and name == "title":
            kind, feed["title"] = _atom_text(child)
            feed["title_detail"] = {"type": kind}
        elif namespace == ATOM and name == "link":
            href = _atom_link(child)
            if href is not None:
                feed["link"] = href
        elif namespace == ATOM and name == "id":
            feed_id = _uri(_text(child))  # an id stands for the link when there is none
        elif not (namespace == ATOM and name in ("author", "contributor", "generator")):
            _ignored(child, _FEED_FIELDS)
    if "link" not in feed and feed_id is not None:
        feed["link"] = feed_id
    return {"feed": feed, "entries": items, "version": "atom10", "bozo": 0}


def read(body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """feedparser's result for the keys parse.py uses, or None when feedparser must read it.

    ``headers`` are those parse.py hands feedparser (lower-case names).
    """
    from lxml import etree  # type: ignore[import-untyped]

    if not _utf8_document(body, headers) or "content-location" in headers:
        return None
    if b"xml:base" in body:
        return None  # feedparser resolves links against it
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    if XML_BASE in root.attrib:
        return None
    try:
        if root.tag == "rss" and root.get("version") == "2.0":
            return _rss(root)
        if root.tag == ATOM + "feed":
            return _atom(root)
    except _Unsure:
        return None
    return None
