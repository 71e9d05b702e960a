"""Issue 7: nothing from a feed runs code in a reader's browser or mail client.

All 745 of feedparser's ``wellformed/sanitize`` cases (tests/data/robustness) and our own
payloads (in item titles, summaries, content, links, author names and the feed's title) go
through the whole pipeline; then every page, the email's HTML part and every Atom feed are
scanned: no script, ``on*`` handler, ``javascript:``/``data:``/``vbscript:`` URL, iframe,
object, embed, style (beyond the page's own stylesheet) or form may come from a feed. Last, a
real browser opens the pages that carry the payloads and checks that no injected script ran.
"""

from __future__ import annotations

import email
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tracker.app import App
from tracker.config import config_from_mapping
from tracker.models import Fetched
from tracker.parse import parse_feed

SANITIZE = Path(__file__).parent / "data" / "robustness" / "feedparser-tests" / "tests"
SANITIZE = SANITIZE / "wellformed" / "sanitize"
NOW = datetime(2025, 1, 27, 18, tzinfo=UTC)
DAY = date(2025, 1, 27)

# Each payload sets window.__xss (or opens a dialog) if it ever runs.
RUN = "window.__xss=1"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'<img src="x" onerror="{RUN}">',
    f'<svg onload="{RUN}"></svg>',
    f'<a href="javascript:{RUN}">click</a>',
    f'<a href="data:text/html,<script>{RUN}</script>">data</a>',
    f'<a href=" JaVaScRiPt:{RUN}">spaced</a>',
    f'<iframe src="javascript:{RUN}"></iframe>',
    f'<object data="javascript:{RUN}"></object>',
    f'<embed src="javascript:{RUN}">',
    f"<style>body{{background:url(javascript:{RUN})}}</style>",
    f'<form action="javascript:{RUN}"><button>go</button></form>',
    f'<div style="background:url(javascript:{RUN})">styled</div>',
    f'"><script>{RUN}</script>',
    f"</title><script>{RUN}</script>",
    f"]]><script>{RUN}</script>",
    f'<math><mtext><table><mglyph><style><img src=x onerror="{RUN}">',
]


def payload_feed() -> bytes:
    items = []
    for i, p in enumerate(PAYLOADS):
        esc = html.escape(p)
        items.append(
            f"""<item><title>xss payload {i} {esc}</title>
<link>https://evil.example/{i}?q={html.escape(html.escape('"><script>'))}</link>
<guid>xss-{i}</guid>
<author>mallory@evil.example ({esc})</author>
<dc:creator>{esc}</dc:creator>
<description>xss summary {i} {esc}</description>
<content:encoded><![CDATA[<p>xss content {i}</p>{p.replace("]]>", "]]]]><![CDATA[>")}]]></content:encoded>
<pubDate>Mon, 27 Jan 2025 {10 + i % 8:02d}:00:00 GMT</pubDate></item>"""
        )
    items.append(
        f"""<item><title>xss link only</title><link>javascript:{RUN}</link><guid>js-link</guid>
<description>xss a javascript link</description>
<pubDate>Mon, 27 Jan 2025 09:00:00 GMT</pubDate></item>"""
    )
    title = html.escape(f"Evil feed <script>{RUN}</script><img src=x onerror={RUN}>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{title}</title><link>javascript:{RUN}</link>" + "".join(items) + "</channel></rss>"
    ).encode()


def atom_payload_feed() -> bytes:
    p = html.escape(f'<img src=x onerror="{RUN}"><script>{RUN}</script>')
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">{p}</title>
<id>urn:evil</id><updated>2025-01-27T12:00:00Z</updated>
<entry><title type="html">xss atom {p}</title><id>urn:evil:1</id>
<link rel="alternate" href="https://evil.example/atom1"/>
<author><name>{p}</name></author>
<updated>2025-01-27T12:00:00Z</updated>
<summary type="html">xss atom summary {p}</summary>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>xss xhtml</p>
<script>{RUN}</script><a href="javascript:{RUN}">x</a><img src="x" onerror="{RUN}"/></div></content>
</entry></feed>""".encode()


ITEM = re.compile(rb"<(entry|item)(\s[^>]*)?>", re.IGNORECASE)


def case_body(path: Path) -> Fetched:
    """A sanitize case with an id added to each entry (most have none: we would skip them)."""
    count = 0

    def add_id(m: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        tag = b"id" if m.group(1).lower() == b"entry" else b"guid"
        return m.group(0) + b"<%s>urn:case:%d</%s>" % (tag, count, tag)

    return Fetched(url=path.as_uri(), status=200, body=ITEM.sub(add_id, path.read_bytes()))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sanitize")
    (root / "evil.rss").write_bytes(payload_feed())
    (root / "evil.atom").write_bytes(atom_payload_feed())
    feeds = [(root / "evil.rss").as_uri(), (root / "evil.atom").as_uri()]
    config = config_from_mapping(
        {
            "database": "t.db",
            "timezone": "UTC",
            "feeds": [{"url": u} for u in feeds],
            "topics": [{"slug": "xss", "name": "XSS", "keywords": ["xss"]}],
            "site": {"output_dir": "site", "base_url": "https://news.example.org/"},
            "email": {"out_dir": "mail"},
        },
        root / "config.yaml",
    )
    with App(config, clock=lambda: NOW) as app:
        report = app.fetch(all_feeds=True)
        assert report.fetched == 2, report.failed
        # The sanitize cases' entries mostly have neither link nor id, so the pipeline would
        # skip them: each gets an id (case_body), and a link of its own; the feed's title
        # becomes the outlet shown with it, or, without entries, a feed on feeds.html.
        cases = []
        for i, path in enumerate(sorted(SANITIZE.glob("*.xml"))):
            parsed = parse_feed(case_body(path), feed_url=feeds[0], now=NOW)
            outlet = parsed.title or "case"
            for j, e in enumerate(parsed.entries):
                link = f"https://case.example/{i}/{j}"
                cases.append(replace(e, id=f"case{i:05d}{j:07d}", link=link, outlet=outlet))
            if not parsed.entries:
                with app.store.transaction():
                    app.store.add_feed(
                        f"https://case.example/{i}.xml",
                        title=parsed.title,
                        outlet="",
                        category="",
                        source="cli",
                        now=NOW,
                    )
        assert len(cases) > 550
        with app.store.transaction():
            app.store.add_entries(cases, NOW)
        app.cluster()
        app.update_topics()
        app.build_site()
        app.write_email(DAY, root / "mail" / "digest.eml")
    return root


# --- the scanner ---------------------------------------------------------------------------------

DANGEROUS_TAGS = {
    "script", "iframe", "object", "embed", "style", "form", "input", "button", "textarea",
    "frame", "frameset", "applet", "base", "svg", "math", "link", "meta",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "srcset"}
BAD_SCHEME = re.compile(r"^(javascript|data|vbscript):", re.IGNORECASE)
# What the templates themselves put in a page (not from a feed).
OWN = {
    ("style", ()),
    ("meta", (("charset", "utf-8"),)),
    ("meta", (("content", "width=device-width, initial-scale=1"), ("name", "viewport"))),
}


def _own(tag: str, attrs: tuple[tuple[str, str], ...]) -> bool:
    if (tag, attrs) in OWN:
        return True
    a = dict(attrs)
    if (
        tag == "script"
        and set(a) == {"src"}
        and a["src"].endswith(("search.js", "search-index.js"))
    ):
        return True
    if tag == "link" and a.get("rel") == "alternate" and not BAD_SCHEME.match(a.get("href", "")):
        return True
    if tag == "meta" and set(a) <= {"name", "content", "charset"}:
        return True
    if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
        return True  # the page's own policy, which forbids script
    if tag == "svg" and a.get("role") == "img" and "viewbox" in a:
        return True  # the templates' timeline charts (no feed markup reaches an svg)
    if tag == "link" and a == {"rel": "icon", "href": "data:,"}:
        return True  # "no favicon", so the browser asks no server
    return tag in {"input", "form"} and "search" in " ".join(a.values())  # the search box


class Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pairs = tuple(sorted((k, v or "") for k, v in attrs))
        if _own(tag, pairs):
            return
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag} {pairs}>")
        for name, value in pairs:
            if name.startswith("on"):
                self.problems.append(f"handler {name}={value!r} on <{tag}>")
            if name == "style" and "url(" in value.lower():
                self.problems.append(f"style url on <{tag}>")
            squeezed = re.sub(r"[\x00-\x20]", "", value)
            if name in URL_ATTRIBUTES and BAD_SCHEME.match(squeezed):
                self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def scan_html(text: str) -> list[str]:
    scanner = Scanner()
    scanner.feed(text)
    scanner.close()
    return scanner.problems


def scan_atom(text: str) -> list[str]:
    problems = []
    for el in ET.fromstring(text).iter():
        href = el.get("href", "")
        if BAD_SCHEME.match(re.sub(r"[\x00-\x20]", "", href)):
            problems.append(f"atom link {href!r}")
        if el.get("type") in ("html", "xhtml") or el.tag.endswith(("content", "summary")):
            problems += scan_html(el.text or "")
    return problems


def test_every_sanitize_case_and_payload_was_ingested(built: Path) -> None:
    config = config_from_mapping({"database": "t.db"}, built / "config.yaml")
    with App(config) as app:
        titles = [r[0] for r in app.store.db.execute("SELECT title FROM entries")]
        assert sum(t.startswith("xss payload") for t in titles) == len(PAYLOADS)
        assert app.topic_stories("xss")  # similar headlines: a story or two
        # A javascript: link never becomes an entry's link.
        links = [r[0] for r in app.store.db.execute("SELECT link FROM entries")]
        assert not [x for x in links if x and not x.startswith(("http://", "https://"))]
        assert len(list(SANITIZE.glob("*.xml"))) == 745


@pytest.mark.parametrize("path", sorted(SANITIZE.glob("*.xml")), ids=lambda p: p.stem)
def test_each_sanitize_case_parses_to_inert_entries(path: Path) -> None:
    url = path.as_uri()
    parsed = parse_feed(case_body(path), feed_url=url, now=NOW)
    for e in parsed.entries:
        assert scan_html(e.content_html) == [], e.content_html
        assert not e.link or e.link.startswith(("http://", "https://")), e.link
        for text in (e.title, e.summary, e.author, e.outlet, parsed.title):
            # Plain text (escaped when rendered), without markup that survived as tags.
            assert not re.search(r"<\s*(script|iframe|object|embed|style|form)", text, re.I), text


def test_no_page_carries_active_content_from_a_feed(built: Path) -> None:
    pages = sorted((built / "site").rglob("*.html"))
    assert len(pages) > 400  # a story page per story; similar cases share stories
    problems = {str(p.relative_to(built)): scan_html(p.read_text("utf-8")) for p in pages}
    assert {k: v for k, v in problems.items() if v} == {}
    # Only the search page runs script at all.
    for page in pages:
        if page.name != "search.html":
            assert "<script" not in page.read_text("utf-8").lower(), page


def test_no_atom_feed_carries_active_content(built: Path) -> None:
    feeds = [*sorted((built / "site").rglob("*.atom")), built / "site" / "atom.xml"]
    assert len(feeds) >= 2
    for feed in feeds:
        assert scan_atom(feed.read_text("utf-8")) == [], feed


def test_the_email_carries_no_active_content(built: Path) -> None:
    message: Message = email.message_from_bytes((built / "mail" / "digest.eml").read_bytes())
    parts = [p for p in message.walk() if p.get_content_type() == "text/html"]
    assert parts
    for part in parts:
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        text = payload.decode(part.get_content_charset() or "utf-8")
        assert "xss payload" in text
        assert scan_html(text) == []
        assert "<script" not in text.lower()


def test_search_index_is_data_only(built: Path) -> None:
    parts = sorted((built / "site" / "search").glob("*.js"))  # one a month (issue 8)
    index = "".join(p.read_text("utf-8") for p in parts)
    assert "xss payload" in index
    assert "</script" not in index.lower()  # JSON strings escape it
    months = (built / "site" / "search-index.js").read_text("utf-8")
    assert all(p.stem in months for p in parts)


@pytest.mark.browser
@pytest.mark.slow
def test_no_injected_script_runs_in_a_real_browser(built: Path, chromium: Browser) -> None:
    site = built / "site"
    pages = [site / "index.html", site / f"days/{DAY}.html", site / "topics/xss.html"]
    pages += [
        p for p in sorted((site / "stories").glob("*.html")) if "xss payload" in p.read_text()
    ][:20]
    urls = [p.as_uri() for p in pages] + [(site / "search.html").as_uri() + "?q=xss"]
    dialogs: list[str] = []
    page = chromium.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("load")
        for link in page.locator("a").all()[:200]:
            href = link.get_attribute("href") or ""
            assert not BAD_SCHEME.match(href.strip()), (url, href)
        assert page.evaluate("typeof window.__xss") == "undefined", url
    assert "xss payload" in page.content()  # the search page found the payloads
    page.close()
    assert dialogs == []
