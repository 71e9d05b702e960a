"""OPML 2.0 in and out: the feed lists every reader imports and exports (pure, no I/O).

Import reads untrusted files, so expat runs with everything that could expand or fetch
refused, the way defusedxml does it with the standard library alone: a DOCTYPE (and with it
every entity declaration, internal or external) is an error before any content is read::

    bytes ─► expat (DOCTYPE refused) ─► <outline> tree ─► OpmlFeed(url, title, category) per feed

Folders are nested ``<outline>`` elements without an ``xmlUrl``; a feed's ``category`` is the
path of folder names that hold it, joined by "/" ("Tech/AI"). The OPML 2.0 ``category``
attribute ("/Tech/AI,/Other") is read too when a feed sits outside any folder. Export writes
the same shape back, folders sorted by name, so export -> import -> export is a fixed point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import NoReturn
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from tracker.errors import OpmlError

#: Refuse OPML files larger than this; a reading list is a few hundred KB at most.
MAX_BYTES = 5 * 1024 * 1024
_MAX_DEPTH = 64


@dataclass(frozen=True)
class OpmlFeed:
    """One feed of an OPML file."""

    url: str
    title: str = ""
    category: str = ""  # folder path, "Tech/AI"
    site_url: str = ""


@dataclass
class _Node:
    attrs: dict[str, str]
    children: list[_Node] = field(default_factory=list)


# --- import -----------------------------------------------------------------------------------


def _refuse(what: str) -> NoReturn:
    raise OpmlError(f"refused opml: {what}")


def _parse_tree(data: bytes) -> _Node:
    """The ``<body>`` of an OPML document as a tree of outline attributes."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"opml file too large (over {MAX_BYTES} bytes)")
    parser = expat.ParserCreate()
    # Never read a DTD or expand an entity: the file may be hostile (billion laughs, XXE).
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = lambda *_: _refuse("it has a DOCTYPE")
    parser.EntityDeclHandler = lambda *_: _refuse("it declares entities")
    parser.ExternalEntityRefHandler = lambda *_: _refuse("it references an external entity")
    root = _Node({})
    stack: list[_Node] = []
    seen: dict[str, bool] = {"opml": False, "body": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1].lower()
        if not stack and not seen["opml"]:
            if local != "opml":
                _refuse(f"root element is <{name}>, not <opml>")
            seen["opml"] = True
        if local == "body":
            seen["body"] = True
            stack.append(root)
            return
        if local == "outline" and stack:
            if len(stack) > _MAX_DEPTH:
                _refuse("outlines nested too deep")
            node = _Node(dict(attrs))
            stack[-1].children.append(node)
            stack.append(node)

    def end(name: str) -> None:
        local = name.rsplit(":", 1)[-1].lower()
        if local in ("outline", "body") and stack:
            stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise OpmlError(f"not well-formed opml: {expat.errors.messages.get(e.code, e)}") from e
    if not seen["body"]:
        raise OpmlError("not opml: no <body>")
    return root


def _attr(attrs: dict[str, str], name: str) -> str:
    # Attribute names are case-sensitive in XML, but exporters write xmlURL and xmlurl too.
    for key, value in attrs.items():
        if key.lower() == name.lower():
            return value.strip()
    return ""


def _category_attr(value: str) -> str:
    """The first slash-delimited path of an OPML 2.0 ``category`` attribute, as "A/B"."""
    for path in value.split(","):
        parts = [p.strip() for p in path.strip().split("/") if p.strip()]
        if parts:
            return "/".join(parts)
    return ""


def _walk(node: _Node, folders: tuple[str, ...]) -> Iterable[OpmlFeed]:
    for child in node.children:
        url = _attr(child.attrs, "xmlUrl")
        label = _attr(child.attrs, "title") or _attr(child.attrs, "text")
        if url:
            category = "/".join(folders) or _category_attr(_attr(child.attrs, "category"))
            yield OpmlFeed(
                url=url, title=label, category=category, site_url=_attr(child.attrs, "htmlUrl")
            )
            # A feed outline with children is unusual; its children still count.
            yield from _walk(child, folders)
        else:
            name = label.replace("/", "-").strip()
            yield from _walk(child, (*folders, name) if name else folders)


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every feed of an OPML document, in document order, the first of each URL kept.

    Raises OpmlError for anything that is not well-formed OPML, and for any DOCTYPE.
    """
    seen: dict[str, OpmlFeed] = {}
    for feed in _walk(_parse_tree(data), ()):
        seen.setdefault(feed.url, feed)
    return list(seen.values())


# --- export -----------------------------------------------------------------------------------


def _outline(feed: OpmlFeed, indent: str) -> str:
    label = feed.title or feed.url
    attrs = [
        f"type={quoteattr('rss')}",
        f"text={quoteattr(label)}",
        f"title={quoteattr(label)}",
        f"xmlUrl={quoteattr(feed.url)}",
    ]
    if feed.site_url:
        attrs.append(f"htmlUrl={quoteattr(feed.site_url)}")
    if feed.category:
        attrs.append(f"category={quoteattr('/' + feed.category)}")
    return f"{indent}<outline {' '.join(attrs)}/>"


def _tree_lines(feeds: Sequence[OpmlFeed], depth: int, indent: str) -> list[str]:
    """Feeds at this level first (by title, URL), then each folder (by name), recursively."""
    here = [f for f in feeds if len(_parts(f.category)) == depth]
    deeper: dict[str, list[OpmlFeed]] = {}
    for f in feeds:
        parts = _parts(f.category)
        if len(parts) > depth:
            deeper.setdefault(parts[depth], []).append(f)
    lines = [_outline(f, indent) for f in sorted(here, key=lambda f: (f.title.casefold(), f.url))]
    for name in sorted(deeper, key=lambda n: (n.casefold(), n)):
        lines.append(f"{indent}<outline text={quoteattr(name)} title={quoteattr(name)}>")
        lines.extend(_tree_lines(deeper[name], depth + 1, indent + "  "))
        lines.append(f"{indent}</outline>")
    return lines


def _parts(category: str) -> list[str]:
    return [p.strip() for p in category.split("/") if p.strip()]


def to_opml(feeds: Iterable[OpmlFeed], *, title: str, created: datetime | None = None) -> str:
    """An OPML 2.0 document with the feeds in folders by category (deterministic order)."""
    head = [f"    <title>{_text(title)}</title>"]
    if created is not None:
        stamp = format_datetime(created.astimezone(UTC), usegmt=True)
        head.append(f"    <dateCreated>{stamp}</dateCreated>")
    body = _tree_lines(list(feeds), 0, "    ")
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<opml version="2.0">',
            "  <head>",
            *head,
            "  </head>",
            "  <body>",
            *body,
            "  </body>",
            "</opml>",
            "",
        ]
    )


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
