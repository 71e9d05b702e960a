"""The ingest fast paths (issue 8) give exactly what the general paths give.

Each shortcut in tracker/parse.py stands for a slower general computation (nh3 for the
text of HTML, urllib for canonical links, feedparser's date parser). Here each is run
against that general computation, written out as it was before the shortcut, on many
generated inputs built to hit the edges (seeded: the same cases every run).
"""

from __future__ import annotations

import contextlib
import html
import os
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import nh3
import pytest

from tracker import fastparse, parse
from tracker.errors import StoreError
from tracker.models import Entry
from tracker.store import _INSERT_ENTRY, Store, _entry_values, ts

# --- the general paths, as they were --------------------------------------------------------

_BLOCK_TAG = re.compile(
    r"<(/?(?:p|div|br|hr|li|ul|ol|dd|dt|h[1-6]|tr|td|th|table|blockquote|pre|figure"
    r"|figcaption|section|article|header|footer)\b)",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def reference_html_to_text(html_text: str) -> str:
    spaced = _BLOCK_TAG.sub(r" <\1", html_text)
    stripped = nh3.clean(spaced, tags=set(), clean_content_tags=set(parse._DROP_WITH_CONTENT))
    return _SPACES.sub(" ", html.unescape(stripped)).strip()


def reference_canonical_url(url: str, base: str | None = None) -> str | None:
    text = url.strip()
    if not text:
        return None
    try:
        parts = urlsplit(urljoin(base.strip(), text) if base else text)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    query = parse._strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# --- HTML to text ---------------------------------------------------------------------------

_TAG_NAMES = [
    "p", "P", "a", "A", "b", "i", "em", "strong", "br", "BR", "span", "div", "li", "ul", "ol",
    "h2", "H3", "blockquote", "img", "hr", "code", "small", "sup", "font", "dl", "dt", "dd",
    "section", "header", "figure", "figcaption", "q", "s", "u", "abbr", "time", "nav",
    # not taken by the shortcut: they change how text is read, or are dropped with it
    "pre", "table", "tr", "td", "th", "select", "option", "textarea", "script", "style",
    "title", "xmp", "plaintext", "svg", "math", "template", "noscript", "iframe", "listing",
    "image", "body", "html", "head", "frameset", "form", "button", "object", "abc", "a-b",
]  # fmt: skip
_ATTRIBUTES = [
    "", ' href="https://x.example/a?b=1&amp;c=2"', " href='/rel'", " class=x", " title=\"a>b\"",
    ' title="a<p>b"', " data-x", " alt = 'q'", " x=y/", "/", " /", '  id="é"', " onclick=alert(1)",
    ' a="&"', " b='&lt;'", "\n", " =x", ' "q"', " a=`b`",
]  # fmt: skip
_ENTITIES = [
    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&hellip;", "&mdash;", "&eacute;",
    "&#39;", "&#x27;", "&#8217;", "&#X2019;", "&#0;", "&#1;", "&#9;", "&#10;", "&#12;", "&#13;",
    "&#127;", "&#128;", "&#150;", "&#159;", "&#160;", "&#xD800;", "&#xFFFE;", "&#x1FFFF;",
    "&#xFDD0;", "&#x110000;", "&#99999999;", "&amp", "&ampx;", "&notin;", "&notit;", "&not",
    "&AMP;", "&Amp;", "&frac12;", "&#;", "&#x;", "&", "& ", "&&", "&#38;amp;", "&amp;amp;",
    "&amp;lt;", "&zwnj;", "&NotEqualTilde;",
]  # fmt: skip
_TEXTS = [
    "word", "Two words", " ", "  \n\t ", "\r\n", "\r", "\xa0", "\x00", "é", "€", "😀", "a > b",
    "a < b", "<", "<<", "<!-- c -->", "<!--", "-->", "<!DOCTYPE html>", "<?pi?>", "</", "< p>",
    "<p", "<3", "\ufeff", "\u200b", "\x0c", "\x1f", "\x7f", "\x85", "\u2028", "]]>", "'", '"',
    "=", "`", ";", "#", "/",
]  # fmt: skip


def _fragment(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(0, 14)):
        kind = rng.random()
        if kind < 0.35:
            name = rng.choice(_TAG_NAMES)
            close = rng.random() < 0.4
            attrs = "" if close and rng.random() < 0.8 else rng.choice(_ATTRIBUTES)
            parts.append(f"<{'/' if close else ''}{name}{attrs}>")
        elif kind < 0.55:
            parts.append(rng.choice(_ENTITIES))
        else:
            parts.append(rng.choice(_TEXTS))
    return "".join(parts)


def _simple_fragment(rng: random.Random) -> str:
    """Mostly what feeds send: the shortcut's own ground, misnested and all."""
    names = [n for n in _TAG_NAMES[: _TAG_NAMES.index("pre")]]
    parts: list[str] = []
    for _ in range(rng.randint(1, 20)):
        kind = rng.random()
        if kind < 0.4:
            close = rng.random() < 0.45
            attrs = "" if close else rng.choice(_ATTRIBUTES[:5] + [""] * 5)
            parts.append(f"<{'/' if close else ''}{rng.choice(names)}{attrs}>")
        elif kind < 0.55:
            parts.append(rng.choice(_ENTITIES[:20]))
        else:
            parts.append(rng.choice(_TEXTS[:12]))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(8))
def test_html_to_text_matches_nh3_on_generated_fragments(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(2500):
        fragment = _fragment(rng) if rng.random() < 0.5 else _simple_fragment(rng)
        taken += parse._simple_text(fragment) is not None
        assert parse.html_to_text(fragment) == reference_html_to_text(fragment), fragment
    assert taken > 500  # the shortcut was exercised, not just the general path


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>a</p><p>b</p>",
        "<b>Bold</b> &amp; <i>it</i>al&#8217;s &lt;tag&gt;",
        "<a href='x'><b>one<a>two</b>three</a>",  # misnested formatting elements
        "<b><p>x</b>y</p>",
        "<p>x<table>y<tr>z</table>",  # foster parenting: not taken
        "<pre>\nline</pre>",
        "&am<b>p;",  # an entity cut by a tag is two pieces of text
        "&amp<b>;",
        "<a title='<p>'>t</a>",
        "<br/>a<br />b</br>c",
        "x\x00y<b>z</b>",
        "<title>t</title>x",
        "<svg><![CDATA[x]]></svg>",
    ],
)
def test_html_to_text_edge_cases(fragment: str) -> None:
    assert parse.html_to_text(fragment) == reference_html_to_text(fragment)


def test_collapse_whitespace_is_what_the_regex_calls_whitespace() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    text = f"  a{every}b\t\n c\u3000 "
    assert parse.collapse(text) == _SPACES.sub(" ", text).strip()


# --- cleaning -------------------------------------------------------------------------------


def reference_sanitize_html(html_text: str, *, base_url: str | None = None) -> str:
    def resolve(tag: str, attribute: str, value: str) -> str | None:
        schemes = parse._URL_ATTRIBUTES.get((tag, attribute))
        if schemes is None:
            return value
        url = value.strip()
        if parse._plain_absolute(url):
            return url
        resolved = urljoin(base_url, url) if base_url else url
        scheme = urlsplit(resolved).scheme.lower()
        return resolved if scheme in schemes else None

    return nh3.clean(
        html_text,
        tags=set(parse._TAGS),
        clean_content_tags=set(parse._DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in parse._ATTRIBUTES.items()},
        attribute_filter=resolve,
        url_schemes={"http", "https", "mailto"},
        link_rel=parse._LINK_REL,
        strip_comments=True,
    ).strip()


_LINK_VALUES = [
    "https://a.example/x", "http://a.example/", "https://a.example/x?a=1", " https://a.example/ ",
    "https://a.example/x&amp;y", "https://a.example/x&nbsp", "https://a.example/&#32",
    "https://a.example/\x00", "https://a.example/\xa0", "HTTPS://a.example/", "/relative",
    "rel", "", "javascript:alert(1)", "java&#115;cript:alert(1)", "mailto:a@b.example",
    "data:text/html,x", "https://a.example/x#f", "https://a.example/x?", "//a.example/x",
    "https://[::1]/", "https://a.example/é", "https://a.example/a b", "\thttps://a.example/",
    "https://a.example/x;p", "vbscript:x", "https:x",
]  # fmt: skip


def _link_attribute(rng: random.Random) -> str:
    name = rng.choice(["href", "src", "HREF", "Src", "xhref", "data-src", "title", "alt"])
    value = rng.choice(_LINK_VALUES)
    form = rng.randrange(6)
    if form == 0:
        return f' {name}="{value}"'
    if form == 1:
        return f" {name}='{value}'"
    if form == 2:
        return f" {name}={value}"
    if form == 3:
        return f" {name}"
    if form == 4:
        return f'/{name} = "{value}"'
    return f' title="x {name}=\'{value}\'" {name}="{value}"'


def _dirty_fragment(rng: random.Random) -> str:
    names = ["a", "img", "p", "b", "script", "iframe", "td", "table", "A", "IMG", "style", "x"]
    parts: list[str] = []
    for _ in range(rng.randint(0, 10)):
        kind = rng.random()
        if kind < 0.45:
            attrs = "".join(_link_attribute(rng) for _ in range(rng.randint(0, 3)))
            parts.append(f"<{rng.choice(names)}{attrs}>")
        elif kind < 0.55:
            parts.append(f"</{rng.choice(names)}>")
        elif kind < 0.7:
            parts.append(rng.choice(_ENTITIES))
        else:
            parts.append(rng.choice([*_TEXTS, "href=x", "src", "a href"]))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(6))
def test_sanitize_matches_the_filtered_nh3_on_generated_fragments(seed: int) -> None:
    rng = random.Random(seed)
    bases = [None, "https://base.example/d/", "http://b.example", "javascript:x"]
    unfiltered = plain = 0
    for _ in range(2500):
        fragment = _dirty_fragment(rng) if rng.random() < 0.7 else rng.choice(_TEXTS)
        base = rng.choice(bases)
        unfiltered += parse._links_taken_as_written(fragment)
        plain += parse._plain_text(fragment)
        got = parse.sanitize_html(fragment, base_url=base)
        assert got == reference_sanitize_html(fragment, base_url=base), (fragment, base)
    assert unfiltered > 200 and plain > 100


# --- canonical links ------------------------------------------------------------------------

_SCHEMES = ["http", "https", "HTTP", "Https", "ftp", "mailto", "javascript", ""]
_HOSTS = [
    "example.org", "Example.ORG", "a.b-c.example", "127.0.0.1", "[::1]", "[::1", "host:80",
    "host:443", "host:8080", "host:", "host:x", "u:p@host", "@host", "host.", ".", "-", "_h",
    "xn--bcher-kva.example", "bücher.example", "", "h%41", "h\tost",
]  # fmt: skip
_PATHS = [
    "", "/", "/a/b", "//x", "/a b", "/a;p", "/a;", "/%20", "/é", "/a\\b", "/..", "/./a", "/a?",
    "/a#", "/a#f", "/a\n", "/~u", "/a:b", "/[x]", "/a'b", "/a\"b", "/a<b>",
]  # fmt: skip
_QUERIES = [
    "", "?", "?a=1", "?a=1&b=2", "?utm_source=x", "?a=1&utm_medium=y&b", "?ref=rss", "?ref=home",
    "?REF=Feed", "?fbclid=1&x", "?&&", "?a=1;b=2", "?q=a b", "?q=é", "?%75tm_x=1", "?a=?b",
    "?utm_", "?gclid", "?a=1#frag", "?x=[1]",
]  # fmt: skip
_BASES = [
    None, "", "https://base.example/dir/", "http://b.example", "  https://b.example/x?y  ",
    "ftp://b.example/", "/relative/", "https://[::1]/", "HTTPS://B.EXAMPLE/",
]  # fmt: skip


def _url(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(["", " ", "/rel/path", "rel", "?q=1", "#f", "//host/x", "x:y"])
    scheme = rng.choice(_SCHEMES)
    lead = rng.choice(["", "", "", " ", "\t", "\n"])
    return (
        f"{lead}{scheme}{rng.choice(['://', '://', ':/', ':'])}{rng.choice(_HOSTS)}"
        f"{rng.choice(_PATHS)}{rng.choice(_QUERIES)}{rng.choice(['', '', ' '])}"
    )


_FRAGMENTS = ["", "", "#ftag=CAD590a51e", "#", "#a#b?c", "#x y", "#\té", "#\n"]


def _simple_url(rng: random.Random) -> str:
    """Mostly what feeds link to: the shortcut's ground, with its edges' characters."""
    chars = "abcXYZ019-._~!$&'()*+,=:@/%?#;[] \t\\\"<>^`{|}é"
    path = "".join(rng.choice(chars) for _ in range(rng.randint(0, 12)))
    return (
        f"{rng.choice(['http', 'https', 'https'])}://{rng.choice(_HOSTS[:6])}"
        f"{rng.choice(['', '/', '/a/'])}{path}{rng.choice(_QUERIES)}"
        f"{rng.choice(_FRAGMENTS)}"
    )


@pytest.mark.parametrize("seed", range(4))
def test_canonical_url_matches_urllib_on_generated_urls(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(25_000):
        url = _url(rng) if rng.random() < 0.5 else _simple_url(rng)
        base = rng.choice(_BASES)
        taken += parse._simple_canonical(url.strip(), base) is not None
        assert parse.canonical_url(url, base) == reference_canonical_url(url, base), (url, base)
    assert taken > 1_000


# --- fastparse: text fix-ups and dates ------------------------------------------------------

_DATE_PARTS = {
    "day": ["Mon, ", "Wed, ", "Sun,", "", "Foo, ", "mon, "],
    "d": ["1", "01", "6", "31", "30", "29", "00", "32", "7"],
    "month": ["Jan", "Feb", "Dec", "jan", "JAN", "Sept", "Foo", "June"],
    "year": ["2025", "2024", "1999", "25", "0001", "9999", "2100", "1970", "99"],
    "time": ["10:00:00", "00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:2:3", "10:00", ""],
    "zone": [" GMT", " +0000", " -0500", " +0530", " UT", " Z", " EST", " PDT", " +2400", " -1260", "", " +00:00", " XYZ"],
}  # fmt: skip
_ISO = [
    "2025-01-06T10:00:00Z", "2025-01-06T10:00:00+00:00", "2025-01-06T10:00:00-05:30",
    "2025-01-06T10:00:00.123Z", "2025-01-06T10:00Z", "2025-01-06", "2025-02-30T00:00:00Z",
    "2025-01-06T24:00:00Z", "2025-01-06 10:00:00Z", "2025-01-06T10:00:00+0100",
    "2024-02-29T23:59:59-12:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "2025-13-01T00:00:00Z", "2025-01-06T10:00:00", "2025-01-06t10:00:00z", "20250106T100000Z",
]  # fmt: skip


def _date_text(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(_ISO)
    p = {k: rng.choice(v) for k, v in _DATE_PARTS.items()}
    return f"{p['day']}{p['d']} {p['month']} {p['year']} {p['time']}{p['zone']}".strip()


def test_dates_match_feedparser_on_generated_dates() -> None:
    from feedparser.datetimes import _parse_date

    rng = random.Random(8)
    for _ in range(20_000):
        text = _date_text(rng)
        fast, slow = fastparse._date(text), _parse_date(text)
        fast_utc, slow_utc = parse._as_utc(fast), parse._as_utc(slow)
        assert fast_utc == slow_utc, text


def test_text_fix_up_matches_feedparser_on_ascii_and_more() -> None:
    from feedparser.mixin import _cp1252

    def slow(text: str) -> str:
        out = text.strip()
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            out = out.encode("iso-8859-1").decode("utf-8")
        return out.translate(_cp1252)

    rng = random.Random(3)
    alphabet = "ab \t\n\r\x0b\x0c\x1c\x80\x85\x9f\xa0é\u00c3\u00a9€😀"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert fastparse._fix(text) == slow(text), repr(text)


def test_links_are_fixed_up_as_feedparser_does() -> None:
    """fastparse._uri and _amp_fix take shortcuts; feedparser's own functions are the truth."""
    from feedparser.urls import _urljoin

    def slow(text: str, amp: bool) -> str:
        value = text.replace("&amp;", "&") if amp else text
        return str(_urljoin("", fastparse._AMP_NAME.sub(r"&\g<1>", value))) if value else value

    rng = random.Random(4)
    heads = ["http://", "https://", "HTTP://", "ftp://", "http:", "https:/", "//", "", "h"]
    alphabet = [*"a/:.&;#?= \té", "&amp;", "&lt;", "&x_1;", "&amp;amp;", "//"]
    for _ in range(20_000):
        text = rng.choice(heads) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        amp = rng.random() < 0.5
        assert fastparse._uri(fastparse._amp_fix(text, amp)) == slow(text, amp), repr(text)


def test_dates_are_utc_and_unaffected_by_the_clock() -> None:
    assert parse._as_utc(fastparse._date("Mon, 06 Jan 2025 10:00:00 -0500")) == datetime(
        2025, 1, 6, 15, tzinfo=UTC
    )
    assert time.gmtime(0).tm_year == 1970


# --- storing: the full-text index built in bulk ---------------------------------------------


def _entries(n: int, feed: str, now: datetime) -> list[Entry]:
    rng = random.Random(n)
    words = [
        "chip",
        "model",
        "cloud",
        "court",
        "ruling",
        "nvidia",
        "apple",
        "quantum",
        "grid",
        "solar",
        "deepseek",
    ]
    return [
        Entry(
            id=f"id{i:05}",
            feed_url=feed,
            link=f"https://example.com/{i}",
            title=" ".join(rng.choice(words) for _ in range(6)),
            summary=" ".join(rng.choice(words) for _ in range(30)),
            published=now,
            outlet="Example",
        )
        for i in range(n)
    ]


def _open(path: Path, feed: str, now: datetime) -> Store:
    store = Store(path)
    with store.transaction():
        store.upsert_feed(feed, outlet="E", title="", aggregator=False, source="config", now=now)
    return store


def test_bulk_indexed_entries_search_exactly_like_trigger_indexed_ones(tmp_path: Path) -> None:
    now, feed = datetime(2025, 1, 27, tzinfo=UTC), "https://example.com/feed"
    entries = _entries(900, feed, now)
    bulk, rows = _open(tmp_path / "bulk.db", feed, now), _open(tmp_path / "rows.db", feed, now)
    for start in range(0, 900, 250):  # several batches, each with known ids again
        with bulk.transaction():
            bulk.add_entries(entries[max(start - 20, 0) : start + 250], now)
    with rows.transaction():  # one insert at a time: the trigger indexes each
        for e in entries:
            rows.db.execute(_INSERT_ENTRY, _entry_values(e, ts(now)))
    for store in (bulk, rows):
        store.db.execute("INSERT INTO entries_fts(entries_fts) VALUES ('integrity-check')")
        assert store.count("entries_fts_bulk") == 0
    same = "SELECT rowid, * FROM entries ORDER BY rowid"
    assert list(bulk.db.execute(same)) == list(rows.db.execute(same))
    for query in ("nvidia", "chip AND court", "quantum OR solar", "deep*", "title:apple"):
        assert bulk.search(query, limit=1000) == rows.search(query, limit=1000), query


def test_a_failed_bulk_insert_leaves_the_trigger_on(tmp_path: Path) -> None:
    now, feed = datetime(2025, 1, 27, tzinfo=UTC), "https://example.com/feed"
    store = _open(tmp_path / "t.db", feed, now)
    stray = _entries(3, "https://example.com/unknown-feed", now)  # breaks the foreign key
    with pytest.raises(StoreError), store.transaction():
        store.add_entries(stray, now)
    assert store.count("entries_fts_bulk") == 0 and store.count("entries") == 0
    store.db.execute(_INSERT_ENTRY, _entry_values(_entries(1, feed, now)[0], ts(now)))
    assert [e.id for e in store.search("chip OR model OR cloud OR court OR ruling")] == ["id00000"]


# --- parse worker processes -----------------------------------------------------------------


def _feed_files(folder: Path, count: int) -> list[Path]:
    """RSS files whose entries overlap (one article in two feeds), plus two that fail."""
    folder.mkdir()
    paths = []
    for f in range(count):
        items = "".join(
            f"<item><title>Story {i} &amp; more</title><link>https://news.example/{i}</link>"
            f"<guid isPermaLink='false'>g{f}-{i}</guid>"
            f"<pubDate>Mon, 06 Jan 2025 {i % 24:02}:00:00 +0000</pubDate>"
            f"<description>&lt;p&gt;Text {f} {i} &lt;a href='/rel/{i}'&gt;link&lt;/a&gt;&lt;/p&gt;"
            "</description></item>"
            for i in range(f * 3, f * 3 + 6)  # three entries shared with the next feed
        )
        body = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Feed {f}</title><link>https://site{f}.example/</link>{items}</channel></rss>"
        )
        if f == 5:
            body = "<!DOCTYPE html><html><body>not a feed</body></html>"
        if f == 9:
            body = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><rss version="2.0"/>'
        path = folder / f"feed{f:02}.xml"
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def _fetch_all(folder: Path, files: list[Path], workers: int) -> dict[str, object]:
    from tracker.app import App
    from tracker.config import config_from_mapping

    now = datetime(2025, 1, 7, tzinfo=UTC)
    folder.mkdir()
    data = {
        "database": str(folder / "tracker.db"),
        "feeds": [{"url": p.as_uri()} for p in files],
        "site": {"output_dir": str(folder / "site")},
    }
    with App(config_from_mapping(data, folder / "config.yaml"), clock=lambda: now) as app:
        app.parse_workers = workers
        first, second = app.fetch(all_feeds=True), app.fetch(all_feeds=True)
        db = app.store.db
        return {
            "reports": [vars(first), vars(second)],
            "entries": list(db.execute("SELECT rowid, * FROM entries ORDER BY rowid")),
            "feeds": list(db.execute("SELECT * FROM feeds ORDER BY url")),
            "search": [e.id for e in app.store.search("story OR text", limit=500)],
        }


def test_parse_workers_store_what_one_process_stores(tmp_path: Path) -> None:
    files = _feed_files(tmp_path / "feeds", 30)
    alone = _fetch_all(tmp_path / "alone", files, workers=0)
    pooled = _fetch_all(tmp_path / "pooled", files, workers=2)
    assert pooled == alone
    assert len(alone["entries"]) == 93  # type: ignore[arg-type]  # 0..92, shared ones once
    assert len(alone["reports"][0]["failed"]) == 2  # type: ignore[index]


def test_small_batches_and_memory_databases_parse_in_the_caller() -> None:
    from tracker import parse_pool

    assert parse_pool.workers_for(parse_pool.MIN_FEEDS - 1, Path("x.db")) == 0
    assert parse_pool.workers_for(500, None) == 0
    assert parse_pool.workers_for(500, Path("x.db"), wanted=0) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parse workers are Linux-only")
def test_parse_workers_do_not_hold_the_database_lock(tmp_path: Path) -> None:
    # A worker that inherited the lock's file would keep the lock after its parent is killed
    # and make every later run exit 3. Spawned workers inherit only their pipes.
    from tracker import parse_pool
    from tracker.lock import DatabaseLock, lock_path

    db = tmp_path / "tracker.db"
    db.write_bytes(b"")
    with DatabaseLock(db), parse_pool.ParsePool(db, 2) as pool:
        pool.start()
        assert pool._executor is not None
        pids = list(pool._executor._processes)  # type: ignore[attr-defined]
        assert len(pids) == 2
        lock_file = str(lock_path(db).resolve())
        for pid in pids:
            fd_dir = Path(f"/proc/{pid}/fd")
            targets = {os.readlink(fd) for fd in fd_dir.iterdir()}
            assert lock_file not in targets
            assert str(db.resolve()) not in targets


def test_parse_workers_start_only_when_there_is_enough_to_parse(tmp_path: Path) -> None:
    from tracker import parse_pool
    from tracker.models import Feed, Fetched

    db = tmp_path / "tracker.db"
    db.write_bytes(b"")
    body = b"<rss version='2.0'><channel><title>T</title></channel></rss>"
    feeds = [Feed(url=f"https://{i}.example/feed", outlet="", title="") for i in range(4)]
    results = [Fetched(url=f.url, status=200, body=body) for f in feeds]

    def now() -> datetime:
        return datetime(2025, 1, 1, tzinfo=UTC)

    with parse_pool.ParsePool(db, 2, start_bytes=3 * len(body)) as pool:
        out = list(pool.ahead(zip(feeds, results, strict=True), now))
        # The first two are parsed by the caller (None); the third reaches the threshold.
        assert [ahead is None for _, _, ahead in out] == [True, True, False, False]
        assert pool._executor is not None
        assert out[2][2] is not None and out[2][2]().parsed.title == "T"
    with parse_pool.ParsePool(db, 2) as pool:  # small: the default threshold is never reached
        assert all(a is None for _, _, a in pool.ahead(zip(feeds, results, strict=True), now))
        assert pool._executor is None
