"""tracker.render: every template renders, feed text is escaped, only http(s) links are hrefs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import jinja2
import pytest
from html_tags import tags_of

from tracker.models import (
    Digest,
    Feed,
    FeedHealth,
    Member,
    Story,
    Topic,
    TopicDay,
    TopicPage,
    TopicSection,
)
from tracker.render import Renderer, chart, fill_days, format_day, safe_url, sparkline, story_path

XSS = "<script>alert(1)</script>"
DAY = date(2025, 1, 27)
NOON = datetime(2025, 1, 27, 12, tzinfo=UTC)

DEEPSEEK = Topic(
    slug="deepseek", name="DeepSeek", keywords=("DeepSeek", "R1"), description="The lab"
)
NVIDIA = Topic(slug="nvidia", name=f"NVIDIA {XSS}", keywords=("Nvidia",))
TOPICS = {t.slug: t for t in (DEEPSEEK, NVIDIA)}


# --- a small factory ----------------------------------------------------------------------


def member(n: int, outlet: str, at: datetime = NOON, **kw: object) -> Member:
    fields: dict[str, object] = {
        "title": f"article {n}",
        "link": f"https://news{n}.example.com/a/{n}?x=1&y=2",
    }
    fields.update(kw)
    return Member(entry_id=f"e{n}", outlet=outlet, published=at, **fields)  # type: ignore[arg-type]


def story(sid: str, *members: Member, topics: tuple[str, ...] = (), **kw: object) -> Story:
    fields: dict[str, object] = {
        "headline": f"headline {sid}",
        "link": f"https://example.com/{sid}",
        "summary": f"summary of {sid}",
        "first_seen": min(m.published for m in members),
        "last_seen": max(m.published for m in members),
    }
    fields.update(kw)
    return Story(id=sid, members=members, topics=topics, **fields)  # type: ignore[arg-type]


def timeline(*counts: int, end: date = DAY) -> tuple[TopicDay, ...]:
    start = end - timedelta(days=len(counts) - 1)
    return tuple(
        TopicDay(start + timedelta(days=i), c, 2 * c, c) for i, c in enumerate(counts) if c >= 0
    )


def digest(*sections: TopicSection, top: tuple[Story, ...] = (), **kw: object) -> Digest:
    fields: dict[str, object] = {
        "day": DAY,
        "title": "Tech news digest",
        "generated": datetime(2025, 1, 28, 6, tzinfo=UTC),
        "sections": sections,
        "top_stories": top,
        "n_entries": 7,
        "n_stories": 3,
        "n_outlets": 4,
    }
    fields.update(kw)
    return Digest(**fields)  # type: ignore[arg-type]


def hostile_story() -> Story:
    """Feed text that tries every trick: markup in every field, script links."""
    return story(
        "evil",
        member(1, f"Outlet {XSS}", NOON, title=f"title {XSS}", summary=f"member {XSS}"),
        member(2, "Good Outlet", NOON, link="javascript:alert(2)"),
        member(3, "Data Outlet", NOON, link="data:text/html,<script>alert(3)</script>"),
        member(4, "Spaced", NOON, link="  JavaScript:alert(4)"),
        headline=f"headline {XSS}\r\nBcc: victim@example.com",
        summary=f"summary {XSS}",
        link="javascript:alert(1)",
        topics=("deepseek", "nvidia"),
    )


def full_digest() -> Digest:
    evil = hostile_story()
    developing = story(
        "dev",
        member(11, "Ars Technica", NOON - timedelta(days=2)),
        member(12, "The Verge", NOON),
        member(13, "Hacker News", NOON, aggregator=True),
        topics=("deepseek",),
    )
    fresh = story("fresh", member(21, "WIRED"), member(22, "CNET"))
    return digest(
        TopicSection(DEEPSEEK, (developing, evil), timeline(0, 3, -1, 5)),
        TopicSection(NVIDIA, (evil,), ()),
        top=(fresh,),
        failing_feeds=(
            FeedHealth("https://bad.example/feed", f"Bad {XSS}", f"err {XSS}", 4, NOON),
        ),
        previous_day=DAY - timedelta(days=1),
        next_day=DAY + timedelta(days=1),
    )


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(tz_name="Europe/London")


@pytest.fixture
def web() -> Renderer:
    return Renderer(tz_name="Europe/London", base_url="https://news.example.org/")


def all_outputs(r: Renderer, d: Digest) -> dict[str, str]:
    evil = hostile_story()
    page = TopicPage(DEEPSEEK, timeline(1, 0, 4), d.stories)
    return {
        "digest_page": r.digest_page(d, root="."),
        "digest_text": r.digest_text(d),
        "digest_email_html": r.digest_email_html(d),
        "archive_page": r.archive_page([d], root="."),
        "topics_index": r.topics_index([page], root="."),
        "topic_page": r.topic_page(page, root="..", topics=TOPICS),
        "story_page": r.story_page(evil, root="..", topics=TOPICS),
        "topic_atom": r.topic_atom(page),
        "digests_atom": r.digests_atom([d]),
    }


# --- every template renders ---------------------------------------------------------------


def test_the_environment_is_strict(renderer: Renderer) -> None:
    assert renderer.env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        renderer.env.from_string("{{ missing }}").render()


@pytest.mark.parametrize("base_url", ["", "https://news.example.org"])
def test_every_output_renders_full_and_empty(base_url: str) -> None:
    r = Renderer(tz_name="Europe/London", base_url=base_url)
    for name, text in all_outputs(r, full_digest()).items():
        assert text.strip(), name
    empty = digest(n_entries=0, n_stories=0, n_outlets=0)
    assert "No stories" in r.digest_page(empty, root=".")
    assert "No stories" in r.digest_text(empty)
    assert "No stories" in r.digest_email_html(empty)
    assert "No digests yet" in r.archive_page([], root=".")
    assert "No topics" in r.topics_index([], root=".")
    assert "Nothing has matched" in r.topic_page(TopicPage(DEEPSEEK, (), ()), root="..")
    ET.fromstring(r.topic_atom(TopicPage(DEEPSEEK, (), ())))
    ET.fromstring(r.digests_atom([]))


@pytest.mark.parametrize(
    "name", ["digest_page", "archive_page", "topics_index", "topic_page", "story_page"]
)
def test_pages_are_self_contained(renderer: Renderer, name: str) -> None:
    html = all_outputs(renderer, full_digest())[name]
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html and "prefers-color-scheme: dark" in html
    tags = tags_of(html)
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed")]
    for tag, attrs in tags:
        if tag == "link":  # stylesheets, fonts, icons: nothing fetched from elsewhere
            assert not (attrs.get("href") or "").startswith(("http:", "https:", "//")), attrs
    assert [t for t, _ in tags].count("h1") == 1
    ids = [a["id"] for _, a in tags if a.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"


# --- escaping and links -------------------------------------------------------------------


@pytest.mark.parametrize("base_url", ["", "https://news.example.org"])
def test_markup_from_feeds_is_escaped_in_every_html_and_xml_output(base_url: str) -> None:
    r = Renderer(tz_name="UTC", base_url=base_url)
    for name, text in all_outputs(r, full_digest()).items():
        if name == "digest_text":
            continue
        assert "<script" not in text.lower(), name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, name


def test_plain_text_shows_feed_text_verbatim_but_on_one_line(renderer: Renderer) -> None:
    # text/plain is never interpreted as markup, so "escaping" there means: the reader sees the
    # title as it was written, and a line break in it cannot forge a new line (or header).
    text = renderer.digest_text(full_digest())
    assert "&lt;" not in text and "&#" not in text
    assert f"headline {XSS} Bcc: victim@example.com" in text
    assert "\r" not in text
    assert not any(line.startswith("Bcc:") for line in text.splitlines())


@pytest.mark.parametrize("base_url", ["", "https://news.example.org"])
def test_script_links_are_never_hrefs(base_url: str) -> None:
    r = Renderer(tz_name="UTC", base_url=base_url)
    for name, text in all_outputs(r, full_digest()).items():
        lowered = text.lower()
        assert "javascript:" not in lowered, name
        assert "data:text" not in lowered, name
    html = r.digest_page(full_digest(), root=".")
    hrefs = [a["href"] or "" for t, a in tags_of(html) if t == "a"]
    assert all(h.startswith(("https://", "./", "#")) for h in hrefs), hrefs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
        ("  http://example.com/  ", "http://example.com/"),
        ("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM"),
        ("javascript:alert(1)", ""),
        (" JavaScript:alert(1)", ""),
        ("java\nscript:alert(1)", ""),
        ("https://example.com/\x00", ""),
        ("data:text/html,hi", ""),
        ("vbscript:msgbox", ""),
        ("//example.com/a", ""),
        ("/relative", ""),
        ("https://", ""),
        ("http://[::1", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_url(url: object, expected: str) -> None:
    assert safe_url(url) == expected


def test_attribute_quotes_in_links_are_escaped(renderer: Renderer) -> None:
    s = story("q", member(1, "Ars", link='https://example.com/"><script>x</script>'))
    html = renderer.digest_page(digest(top=(s,)), root=".")
    assert 'href="https://example.com/&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html


# --- the story card -----------------------------------------------------------------------


def card_of(html: str, story_id: str) -> str:
    match = re.search(
        rf'<article class="card" id="story-{story_id}">.*?</article>', html, re.DOTALL
    )
    assert match, f"no card for {story_id}"
    return match.group(0)


def test_card_links_every_members_outlet_and_counts_outlets(renderer: Renderer) -> None:
    members = (
        member(1, "Ars Technica"),
        member(2, "The Verge", NOON + timedelta(hours=1)),
        member(3, "Ars Technica", NOON + timedelta(hours=2)),
        member(4, "Hacker News", NOON + timedelta(hours=3), aggregator=True),
    )
    s = story("s", *members, topics=("deepseek",))
    html = renderer.digest_page(digest(TopicSection(DEEPSEEK, (s,), ())), root=".")
    card = card_of(html, "s")
    assert "Covered by 2 outlets" in card  # the aggregator and the repeat do not count
    for m in members:
        assert f'href="{m.link.replace("&", "&amp;")}"' in card
        assert f">{m.outlet}</a>" in card
    # A second article from one outlet is a numbered link next to the outlet's name.
    assert 'aria-label="Ars Technica, article 2">2</a>' in card
    assert card.index(">Ars Technica</a>") < card.index(">2</a>") < card.index(">The Verge</a>")
    assert card.index(">The Verge</a>") < card.index(">Hacker News</a>")
    assert 'href="https://example.com/s"' in card  # the headline links to the article
    assert 'href="./stories/s.html"' in card
    assert 'href="./topics/deepseek.html"' in card
    assert "summary of s" in card


def test_card_says_developing_since_when_first_seen_before_the_day(renderer: Renderer) -> None:
    old = story("old", member(1, "Ars", NOON - timedelta(days=2)), member(2, "Verge", NOON))
    new = story("new", member(3, "Ars", NOON))
    html = renderer.digest_page(digest(top=(old, new)), root=".")
    assert "developing since Sat 25 Jan 2025" in card_of(html, "old")
    assert "developing since" not in card_of(html, "new")
    assert "new</span>" in card_of(html, "new")
    text = renderer.digest_text(digest(top=(old, new)))
    assert text.count("Developing since Sat 25 Jan 2025") == 1


def test_developing_since_uses_the_configured_time_zone() -> None:
    # 23:30 UTC on the 26th is already the 27th in Tokyo: new there, developing in London.
    s = story("late", member(1, "Ars", datetime(2025, 1, 26, 23, 30, tzinfo=UTC)), member(2, "B"))
    d = digest(top=(s,))
    assert "developing since" in Renderer(tz_name="Europe/London").digest_page(d, root=".")
    tokyo = Renderer(tz_name="Asia/Tokyo").digest_page(d, root=".")
    assert "developing since" not in tokyo
    assert "27 Jan 2025, 08:30 JST" in tokyo


def test_a_story_under_two_topics_has_one_card_and_a_pointer(renderer: Renderer) -> None:
    html = renderer.digest_page(full_digest(), root=".")
    assert html.count('id="story-evil"') == 1
    assert 'href="#story-evil"' in html and "Also under" in html
    text = renderer.digest_text(full_digest())
    assert text.count("(see DEEPSEEK above)") == 1


# --- pages --------------------------------------------------------------------------------


def test_digest_page_links_are_relative_to_root(renderer: Renderer) -> None:
    d = full_digest()
    index = renderer.digest_page(d, root=".")
    day = renderer.digest_page(d, root="..")
    assert 'href="./archive.html"' in index and 'href="../archive.html"' in day
    assert 'href="../days/2025-01-26.html"' in day and 'href="../days/2025-01-28.html"' in day
    assert 'href="./topics.html"' in index
    assert "Monday 27 January 2025" in index
    assert "1 feed is failing" in index and "Bad &lt;script&gt;" in index


def test_archive_lists_days_newest_first_with_counts(renderer: Renderer) -> None:
    days = [digest(day=DAY - timedelta(days=n), n_stories=n + 1) for n in (2, 0, 1)]
    html = renderer.archive_page(days, root=".")
    order = re.findall(r'href="\./days/(\d{4}-\d\d-\d\d)\.html"', html)
    assert order == ["2025-01-27", "2025-01-26", "2025-01-25"]
    assert "3 stories" in html and "1 story" in html


def test_topic_page_draws_the_timeline_as_svg_bars(renderer: Renderer) -> None:
    page = TopicPage(DEEPSEEK, timeline(2, -1, -1, 6), (hostile_story(),))
    html = renderer.topic_page(page, root="..", topics=TOPICS)
    svg = re.search(r'<svg class="chart".*?</svg>', html, re.DOTALL)
    assert svg
    assert svg.group(0).count("<rect") == 4  # the two days without data are drawn as zero
    assert "peak 6 stories a day" in html
    assert 'href="../topics/deepseek.atom"' in html
    assert "developing since" not in html  # there is no digest day on a topic page


def test_story_page_lists_every_entry_in_order(renderer: Renderer) -> None:
    s = story(
        "s",
        member(2, "The Verge", NOON + timedelta(hours=3), similarity=0.42),
        member(1, "Ars Technica", NOON),
        last_seen=NOON + timedelta(hours=3),
        topics=("deepseek", "unknown"),
    )
    html = renderer.story_page(s, root="..", topics=TOPICS)
    assert html.index("Ars Technica") < html.index("The Verge")
    assert "42% similar" in html
    assert "Mon 27 Jan 2025, 12:00 GMT" in html and "Mon 27 Jan 2025, 15:00 GMT" in html
    assert 'href="../topics/deepseek.html"' in html and "unknown" not in html


def test_output_is_deterministic(renderer: Renderer) -> None:
    assert all_outputs(renderer, full_digest()) == all_outputs(renderer, full_digest())


# --- email and text -----------------------------------------------------------------------


def test_email_html_has_no_scripts_images_or_svg(web: Renderer) -> None:
    html = web.digest_email_html(full_digest())
    tags = [t for t, _ in tags_of(html)]
    assert not set(tags) & {"script", "img", "svg", "iframe", "link"}
    assert "<style>" in html


def test_email_links_are_absolute_with_base_url(web: Renderer) -> None:
    html = web.digest_email_html(full_digest())
    hrefs = [a["href"] or "" for t, a in tags_of(html) if t == "a"]
    assert "https://news.example.org/stories/dev.html" in hrefs
    assert "https://news.example.org/topics/deepseek.html" in hrefs
    assert "https://news.example.org/days/2025-01-27.html" in hrefs
    assert all(h.startswith("https://") for h in hrefs), hrefs


def test_email_without_base_url_links_only_to_articles(renderer: Renderer) -> None:
    html = renderer.digest_email_html(full_digest())
    hrefs = [a["href"] or "" for t, a in tags_of(html) if t == "a"]
    assert hrefs and all(h.startswith("https://") for h in hrefs), hrefs
    assert not any("stories/" in h or "topics/" in h for h in hrefs)
    assert "https://example.com/dev" in hrefs


def test_text_has_absolute_links_with_base_url(web: Renderer, renderer: Renderer) -> None:
    text = web.digest_text(full_digest())
    assert "https://news.example.org/stories/dev.html" in text
    assert "https://news.example.org/days/2025-01-27.html" in text
    assert "https://example.com/dev" in text
    assert "stories/" not in renderer.digest_text(full_digest())


def test_text_wraps_long_lines(renderer: Renderer) -> None:
    s = story("long", member(1, "Ars"), summary="word " * 80)
    text = renderer.digest_text(digest(top=(s,)))
    assert max(len(line) for line in text.splitlines()) <= 80


# --- feeds and helpers --------------------------------------------------------------------


def test_atom_feeds_are_well_formed(web: Renderer) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    page = TopicPage(DEEPSEEK, timeline(1), (hostile_story(),))
    feed = ET.fromstring(web.topic_atom(page))
    entry = feed.find("a:entry", ns)
    assert entry is not None
    assert entry.findtext("a:title", namespaces=ns) == f"headline {XSS} Bcc: victim@example.com"
    assert entry.find("a:link[@rel='alternate']", ns) is None  # the javascript: link is dropped
    digests = ET.fromstring(web.digests_atom([full_digest()]))
    assert len(digests.findall("a:entry", ns)) == 1


def test_file_names_are_safe() -> None:
    assert story_path("abc123") == "stories/abc123.html"
    odd = story_path("../../etc/passwd")
    assert odd.startswith("stories/x-") and odd.count("/") == 1


def test_date_formats_do_not_depend_on_locale() -> None:
    assert format_day(date(2025, 2, 3)) == "Monday 3 February 2025"
    assert format_day(date(2025, 2, 3), "short") == "Mon 3 Feb 2025"
    assert format_day(date(2025, 2, 3), "brief") == "3 Feb"


def test_timeline_helpers_fill_gaps() -> None:
    days = timeline(1, -1, 4)
    assert [t.stories for t in fill_days(days)] == [1, 0, 4]
    assert sparkline(days) == "▃▁█"
    assert [b.height for b in chart(days, height=100).bars] == [25.0, 1.0, 100.0]
    assert sparkline(()) == "" and chart(()).bars == ()


# --- issue 6: since yesterday, topic freshness, story timeline, search, OPML, email size ----


def test_since_yesterday_and_spiking_render_in_every_digest_output(web: Renderer) -> None:
    d = replace(
        full_digest(),
        since_yesterday=f"Since yesterday: 2 new stories; busier: {XSS} (0 → 3).",
        spiking=("deepseek",),
    )
    page, text, mail = web.digest_page(d, root="."), web.digest_text(d), web.digest_email_html(d)
    assert 'class="since">Since yesterday: 2 new stories' in page
    assert "&lt;script&gt;" in page and "<script" not in page.lower()
    assert "Since yesterday: 2 new stories" in text and "(SPIKING)" in text
    assert "Since yesterday" in mail and "spiking" in mail
    assert 'class="badge spiking"' in page  # no burst: the digest's own rule decided


def test_topic_page_splits_new_developing_and_earlier(renderer: Renderer) -> None:
    new = story("n", member(1, "Ars", NOON))
    going = story("g", member(2, "Ars", NOON - timedelta(days=2)), member(3, "CNET", NOON))
    old = story("o", member(4, "Ars", NOON - timedelta(days=5)))
    page = TopicPage(DEEPSEEK, timeline(1, 2, 3), (new, going, old))
    html = renderer.topic_page(page, root="..", topics=TOPICS)
    assert "on Mon 27 Jan 2025, 1 new and 1 developing" in html
    new_at, dev_at, old_at = (html.index(f'id="{x}"') for x in ("new", "developing", "earlier"))
    assert new_at < html.index('id="story-n"') < dev_at < html.index('id="story-g"') < old_at
    assert old_at < html.index('id="story-o"')
    assert "developing since Sat 25 Jan 2025" in html


def test_story_page_has_a_timeline_by_day(renderer: Renderer) -> None:
    s = story(
        "s",
        member(1, "Ars Technica", NOON - timedelta(days=1)),
        member(2, "The Verge", NOON),
        member(3, "Ars Technica", NOON + timedelta(hours=1)),
    )
    html = renderer.story_page(s, root="..", topics=TOPICS)
    assert "Sun 26 Jan 2025</time>: 1 article from Ars Technica" in html
    assert "Mon 27 Jan 2025</time>: 2 articles from The Verge, Ars Technica" in html


def search_rows(js: str) -> list[dict[str, object]]:
    prefix = "window.TRACKER_SEARCH = "
    assert js.startswith(prefix) and js.endswith(";\n")
    rows: list[dict[str, object]] = json.loads(js[len(prefix) : -2])
    return rows


def test_search_index_is_a_script_of_inert_rows(renderer: Renderer) -> None:
    d = full_digest()
    js = renderer.search_index(d.stories, TOPICS)
    assert "<" not in js and ">" not in js and "javascript:" not in js.lower()
    rows = search_rows(js)
    assert {r["u"] for r in rows} == {story_path(s.id) for s in d.stories}
    evil = next(r for r in rows if r["u"] == "stories/evil.html")
    assert evil["h"] == f"headline {XSS} Bcc: victim@example.com"  # one line, text as written
    assert evil["t"] == ["DeepSeek", f"NVIDIA {XSS}"]
    assert f"title {XSS}" in str(evil["x"])
    assert renderer.search_index(list(reversed(d.stories)), TOPICS) == js  # input order free


def test_only_the_search_page_may_run_scripts_and_only_its_own(renderer: Renderer) -> None:
    page = renderer.search_page(root=".")
    csp = re.search(r'Content-Security-Policy" content="([^"]*)"', page)
    assert (
        csp
        and "script-src 'self'" in csp.group(1)
        and "unsafe" not in csp.group(1).replace("style-src 'unsafe-inline'", "")
    )
    scripts = [a.get("src") for t, a in tags_of(page) if t == "script"]
    assert scripts == ["./search-index.js", "./search.js"]
    assert "<noscript>" in page
    for name, html in all_outputs(renderer, full_digest()).items():
        if name.endswith("_page") or name == "topics_index":
            assert "script-src" not in html, name
    js = renderer.search_script()
    assert "innerHTML" not in js and "fetch(" not in js and "http" not in js


def test_feeds_opml_lists_live_feeds_escaped(renderer: Renderer) -> None:
    feeds = [
        Feed("https://b.example/feed", outlet=f"B {XSS}", site_url="javascript:alert(1)"),
        Feed("https://a.example/rss", outlet="A & Co", title="A's feed", aggregator=True),
        Feed("https://gone.example/rss", outlet="Gone", status="gone"),
    ]
    opml = renderer.feeds_opml(feeds)
    root = ET.fromstring(opml)
    outlines = root.findall("./body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        "https://a.example/rss",
        "https://b.example/feed",
    ]
    assert [o.get("text") for o in outlines] == ["A & Co", f"B {XSS}"]
    assert outlines[1].get("htmlUrl") is None and "javascript" not in opml
    assert ET.fromstring(renderer.feeds_opml([])).find("./body/outline") is None


def test_email_links_at_most_three_articles_per_outlet(web: Renderer) -> None:
    many = story(
        "many",
        *(member(i, "SCMP", NOON + timedelta(minutes=i)) for i in range(1, 11)),
        member(20, "Ars", NOON),
    )
    html = web.digest_email_html(digest(top=(many,)))
    hrefs = [a["href"] or "" for t, a in tags_of(html) if t == "a"]
    scmp = {f"https://news{i}.example.com/a/{i}?x=1&y=2" for i in range(1, 11)}
    assert len(scmp & set(hrefs)) == 3
    assert ">+7</a>" in html and "https://news.example.org/stories/many.html" in hrefs
    assert "https://news20.example.com/a/20?x=1&y=2" in hrefs  # every outlet keeps its link


def test_atom_feeds_parse_cleanly_with_feedparser(web: Renderer) -> None:
    import feedparser

    page = TopicPage(DEEPSEEK, timeline(1), (hostile_story(),))
    for xml in (web.topic_atom(page), web.digests_atom([full_digest()])):
        parsed = feedparser.parse(xml.encode("utf-8"))
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 1
        assert parsed.entries[0].title
