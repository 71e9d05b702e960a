"""tracker.opml: OPML 2.0 import (untrusted input, refused DOCTYPE) and export, round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.errors import OpmlError
from tracker.opml import MAX_BYTES, OpmlFeed, parse_opml, to_opml

DATA = Path(__file__).parent / "data" / "fetch"

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="Loose" type="rss" xmlUrl="https://loose.example/feed" />
    <outline text="Tech" title="Tech">
      <outline text="Ars" title="Ars Technica" type="rss" xmlUrl="https://feeds.arstechnica.com/arstechnica/index" htmlUrl="https://arstechnica.com/"/>
      <outline text="AI">
        <outline text="Lab news" type="rss" xmlUrl="https://lab.example/atom.xml"/>
      </outline>
    </outline>
    <outline text="Tagged" type="rss" xmlUrl="https://tagged.example/rss" category="/News/World,/Other"/>
    <outline text="Duplicate" type="rss" xmlUrl="https://loose.example/feed"/>
    <outline text="A link, not a feed" type="link" url="https://example.com/"/>
  </body>
</opml>
"""


def test_import_reads_feeds_and_folders_as_categories() -> None:
    feeds = parse_opml(NESTED)
    assert feeds == [
        OpmlFeed("https://loose.example/feed", "Loose", ""),
        OpmlFeed(
            "https://feeds.arstechnica.com/arstechnica/index",
            "Ars Technica",
            "Tech",
            "https://arstechnica.com/",
        ),
        OpmlFeed("https://lab.example/atom.xml", "Lab news", "Tech/AI"),
        OpmlFeed("https://tagged.example/rss", "Tagged", "News/World"),
    ]


def test_export_then_import_is_a_round_trip() -> None:
    feeds = parse_opml(NESTED)
    text = to_opml(feeds, title="My feeds")
    assert sorted(parse_opml(text.encode()), key=lambda f: f.url) == sorted(
        feeds, key=lambda f: f.url
    )
    # And a fixed point: exporting what was imported gives the same document.
    assert to_opml(parse_opml(text.encode()), title="My feeds") == text


def test_export_is_opml_2_with_nested_folders() -> None:
    when = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
    text = to_opml(
        [
            OpmlFeed("https://b.example/feed", "B & <Co>", "Tech/AI"),
            OpmlFeed("https://a.example/feed", "A", "Tech"),
            OpmlFeed("https://z.example/feed", "Z", ""),
        ],
        title="tracker <feeds>",
        created=when,
    )
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert "<title>tracker &lt;feeds&gt;</title>" in text
    assert "<dateCreated>Mon, 27 Jan 2025 12:00:00 GMT</dateCreated>" in text
    assert 'text="B &amp; &lt;Co&gt;"' in text
    # Top-level feeds first, then folders; the AI folder sits inside Tech.
    assert text.index("z.example") < text.index('text="Tech"') < text.index("a.example")
    assert text.index('text="Tech"') < text.index('text="AI"') < text.index("b.example")


def test_a_reader_style_export_imports() -> None:
    feeds = parse_opml((DATA / "subscriptions.opml").read_bytes())
    assert len(feeds) == 5
    assert {f.category for f in feeds} == {"Tech news", "Tech news/Chips", "Blogs"}


@pytest.mark.parametrize("name", ["xmlbomb.opml", "external_entity.opml", "doctype_only.opml"])
def test_a_doctype_is_refused_before_anything_expands(name: str) -> None:
    with pytest.raises(OpmlError, match="refused opml"):
        parse_opml((DATA / name).read_bytes())


def test_utf16_cannot_hide_a_doctype() -> None:
    data = (
        (DATA / "xmlbomb.opml")
        .read_text(encoding="utf-8")
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
    )
    with pytest.raises(OpmlError, match="refused opml"):
        parse_opml(data.encode("utf-16"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not well-formed"),
        (b"<html><body>hi</body></html>", "root element is <html>"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b"<opml><body><outline xmlUrl='x'></body></opml>", "not well-formed"),
    ],
)
def test_not_opml_is_an_error(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(data)


def test_an_oversized_file_is_refused() -> None:
    with pytest.raises(OpmlError, match="too large"):
        parse_opml(b" " * (MAX_BYTES + 1))
