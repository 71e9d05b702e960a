"""tracker.discover: feed autodiscovery from a web page's <link rel="alternate">, ranked."""

from __future__ import annotations

from tracker.discover import best, find_feeds

PAGE = "https://www.example.com/blog/"


def page(head: str, body: str = "") -> str:
    return f"<!doctype html><html><head><title>x</title>{head}</head><body>{body}</body></html>"


def test_finds_rss_and_atom_links_resolved_against_the_page() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="All posts" href="/feed.xml">'
        '<link rel="alternate" type="application/atom+xml" title="All posts (Atom)" href="atom.xml">'
    )
    found = find_feeds(html, PAGE)
    assert [c.url for c in found] == [
        "https://www.example.com/blog/atom.xml",  # Atom first: the same feed, better defined
        "https://www.example.com/feed.xml",
    ]
    assert [c.kind for c in found] == ["atom", "rss"]
    assert found[1].title == "All posts"
    chosen = best(found)
    assert chosen is not None and chosen.kind == "atom"


def test_main_feed_beats_comments_and_other_hosts() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="Comments Feed" href="/comments/feed/">'
        '<link rel="alternate" type="application/rss+xml" title="Partner" href="https://partner.example.org/rss">'
        '<link rel="alternate" type="application/rss+xml" title="Example &raquo; Feed" href="https://feeds.example.com/main">'
    )
    found = find_feeds(html, PAGE)
    assert [c.title for c in found] == ["Example \u00bb Feed", "Comments Feed", "Partner"]
    chosen = best(found)
    assert chosen is not None and chosen.url == "https://feeds.example.com/main"


def test_equally_good_feeds_are_not_chosen_between() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="News" href="/news.rss">'
        '<link rel="alternate" type="application/rss+xml" title="Podcasts" href="/podcasts.rss">'
    )
    found = find_feeds(html, PAGE)
    assert len(found) == 2
    assert best(found) is None


def test_what_does_not_count() -> None:
    html = page(
        '<link rel="stylesheet" type="text/css" href="/style.css">'
        '<link rel="alternate" hreflang="fr" href="/fr/">'  # a translation, not a feed
        '<link rel="alternate" type="application/feed+json" href="/feed.json">'  # unreadable
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
        '<link rel="alternate" type="application/rss+xml">',  # no href
        '<a href="/rss.xml" rel="alternate" type="application/rss+xml">RSS</a>',  # body link
    )
    assert find_feeds(html, PAGE) == []
    assert best([]) is None


def test_base_href_case_and_type_parameters_and_duplicates() -> None:
    html = page(
        '<BASE HREF="https://cdn.example.com/site/">'
        '<LINK REL="Alternate Feed" TYPE="Application/RSS+XML; charset=utf-8" HREF="rss">'
        '<link rel="alternate" type="application/rss+xml" href="https://cdn.example.com/site/rss">'
        "<link rel=alternate type=application/rdf+xml href=index.rdf />"
    )
    found = find_feeds(html, "https://example.com/")
    assert [c.url for c in found] == [
        "https://cdn.example.com/site/rss",
        "https://cdn.example.com/site/index.rdf",
    ]


def test_a_single_feed_is_the_best() -> None:
    html = page('<link rel="alternate" type="application/atom+xml" href="/a">')
    chosen = best(find_feeds(html, PAGE))
    assert chosen is not None and chosen.url == "https://www.example.com/a"


def test_broken_html_does_not_stop_discovery() -> None:
    html = '<head><p><link rel="alternate" type="application/rss+xml" href="/ok.xml"></p>'
    assert [c.url for c in find_feeds(html, PAGE)] == ["https://www.example.com/ok.xml"]
    assert find_feeds("<link rel=alternate type=application/rss+xml href=", PAGE) == []
