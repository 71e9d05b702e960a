"""The lxml fast path reads what feedparser reads, and hands feedparser what it is unsure of."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_parse import ROBUSTNESS  # the robustness samples, in the corpus copy

from tracker import fastparse
from tracker.errors import TrackerError
from tracker.models import Fetched
from tracker.parse import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2030, 1, 1, tzinfo=UTC)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>https://example.org/</link>
<item><title>One &amp; two</title><link>https://example.org/1?a=1&amp;b=2</link>
<guid isPermaLink="false">g1</guid><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate>
<description>&lt;p&gt;Hi &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>Two</title><link>https://example.org/2</link></item>
</channel></rss>"""


def _outcome(body: bytes, fast: bool) -> object:
    fetched = Fetched(url="https://example.org/feed", status=200, body=body)
    try:
        return asdict(parse_feed(fetched, feed_url="https://example.org/feed", now=NOW, fast=fast))
    except TrackerError as e:
        return str(e)


@pytest.mark.parametrize(
    "path", sorted(p for p in FEEDS.rglob("*") if p.is_file()) + ROBUSTNESS, ids=str
)
def test_the_fast_path_gives_the_same_feed_as_feedparser(path: Path) -> None:
    body = path.read_bytes()
    assert _outcome(body, fast=True) == _outcome(body, fast=False)


def test_a_plain_rss_feed_takes_the_fast_path() -> None:
    raw = fastparse.read(RSS, {})
    assert raw is not None
    assert [e["link"] for e in raw["entries"]] == [
        "https://example.org/1?a=1&b=2",
        "https://example.org/2",
    ]
    assert _outcome(RSS, fast=True) == _outcome(RSS, fast=False)


@pytest.mark.parametrize(
    "body",
    [
        RSS.replace(b"utf-8", b"iso-8859-1"),  # another encoding
        RSS.replace(b"<rss", b'<!DOCTYPE rss [<!ENTITY a "b">]><rss'),  # a DOCTYPE
        RSS.replace(b"<channel>", b'<channel xml:base="https://example.org/x/">'),
        RSS.replace(b"</channel></rss>", b"</channel>"),  # ill-formed
        RSS.replace(b"<description>", b"<description><p>x</p>"),  # inline markup
        RSS.replace(
            b"<item>",
            b'<item xmlns:i="http://www.itunes.com/dtds/podcast-1.0.dtd"><i:summary>s</i:summary>',
            1,
        ),  # feedparser maps it to summary
    ],
)
def test_documents_it_is_unsure_of_go_to_feedparser(body: bytes) -> None:
    assert fastparse.read(body, {}) is None


def test_a_text_xml_type_without_charset_goes_to_feedparser() -> None:
    assert fastparse.read(RSS, {"content-type": "text/xml"}) is None
    assert fastparse.read(RSS, {"content-type": "application/rss+xml"}) is not None


def test_known_entries_are_left_out_and_named() -> None:
    fetched = Fetched(url="https://example.org/feed", status=200, body=RSS)
    everything = parse_feed(fetched, feed_url="https://example.org/feed", now=NOW)
    first = everything.entries[0].id
    parsed = parse_feed(
        fetched, feed_url="https://example.org/feed", now=NOW, known=lambda ids: {first}
    )
    assert [e.id for e in parsed.entries] == [e.id for e in everything.entries[1:]]
    assert parsed.known_ids == (first,)


@pytest.mark.parametrize(
    "url",
    [
        "https://a.example/x",
        "http://a.example/x?a=1&b=2",
        "https://a.example?q=1",
        "https://a.example/x?",
        "https://a.example/x#",
        "https:///x",
        "https://a.example/a;b",
        "HTTPS://a.example/",
        "https://[::1]/",
        "https://a.example/x\ty",
    ],
)
def test_urls_taken_as_they_are_are_those_urljoin_gives_back(url: str) -> None:
    from urllib.parse import urljoin

    from tracker.parse import _plain_absolute

    if _plain_absolute(url):
        assert urljoin("http://base.example/dir/", url) == url
