"""tracker.site: the site is written atomically, only when changed, and works from file://."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM
from playwright.sync_api import Browser, Page

from tracker.errors import TrackerError
from tracker.models import Digest, Member, Story, Topic, TopicDay, TopicPage, TopicSection
from tracker.render import Renderer
from tracker.site import SiteReport, build_site, write_pages

PWN_TITLE = '<img src=x onerror="window.__pwned=1">Chip <b>bans</b>'

DEEPSEEK = Topic(slug="deepseek", name="DeepSeek", keywords=("DeepSeek",))
NVIDIA = Topic(slug="nvidia", name="NVIDIA", keywords=("Nvidia",))
EXPORT = Topic(slug="export-controls", name="Chip export controls", keywords=("export",))
TOPICS = (DEEPSEEK, NVIDIA, EXPORT)


# --- a small factory ----------------------------------------------------------------------


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def story(
    sid: str, day: date, outlets: tuple[str, ...], topics: tuple[str, ...] = (), **kw: object
) -> Story:
    members = tuple(
        Member(f"{sid}-{i}", f"{sid} by {o}", f"https://{i}.example.com/{sid}", o, at(day, 8 + i))
        for i, o in enumerate(outlets)
    )
    fields: dict[str, object] = {
        "headline": f"Headline {sid}",
        "link": f"https://example.com/{sid}",
        "summary": f"What happened in {sid}.",
        "first_seen": members[0].published,
        "last_seen": members[-1].published,
    }
    fields.update(kw)
    return Story(id=sid, members=members, topics=topics, **fields)  # type: ignore[arg-type]


DAYS = [date(2025, 1, 25), date(2025, 1, 26), date(2025, 1, 27)]


def world() -> tuple[list[Digest], list[TopicPage], list[Story]]:
    """Three days of digests, the topic pages and the stories they link to."""
    d0, d1, d2 = DAYS
    s = {
        "a": story("a", d0, ("Ars", "Verge"), ("deepseek",)),
        "b": story("b", d0, ("Wired",)),
        "c": story("c", d1, ("CNET", "ZDNet", "Ars"), ("deepseek", "nvidia")),
        "d": story(
            "d",
            d2,
            ("Verge",),
            ("export-controls",),
            headline=PWN_TITLE,
            link="javascript:window.__pwned=2",
        ),
        "e": story("e", d2, ("SCMP", "NYT")),
    }
    timeline = tuple(TopicDay(d, 1, 2, 2) for d in DAYS)

    def day(d: date, sections: tuple[TopicSection, ...], top: tuple[Story, ...]) -> Digest:
        n = len({x.id for sec in sections for x in sec.stories} | {x.id for x in top})
        return Digest(
            d, "Tech news digest", at(d + timedelta(days=1), 6), sections, top, 2 * n, n, n + 1
        )

    digests = [
        day(d0, (TopicSection(DEEPSEEK, (s["a"],), timeline[:1]),), (s["b"],)),
        day(
            d1,
            (TopicSection(DEEPSEEK, (s["c"],), timeline[:2]), TopicSection(NVIDIA, (s["c"],), ())),
            (),
        ),
        day(d2, (TopicSection(EXPORT, (s["d"],), timeline),), (s["e"],)),
    ]
    pages = [
        TopicPage(DEEPSEEK, timeline, (s["c"], s["a"])),
        TopicPage(NVIDIA, timeline[1:2], (s["c"],)),
        TopicPage(EXPORT, timeline[2:], (s["d"],)),
    ]
    return digests, pages, list(s.values())


def build(
    out: Path, digests: list[Digest] | None = None, stories: list[Story] | None = None
) -> SiteReport:
    default_digests, pages, default_stories = world()
    return build_site(
        out,
        Renderer(tz_name="Europe/London"),
        digests=default_digests if digests is None else digests,
        topic_pages=pages,
        stories=iter(default_stories if stories is None else stories),
        topics=TOPICS,
    )


# --- write_pages --------------------------------------------------------------------------


def test_write_pages_creates_folders_and_skips_identical_bytes(tmp_path: Path) -> None:
    report = write_pages(tmp_path, {"a/b/c.html": "é<p>", "top.html": "x"})
    assert report == SiteReport(written=("a/b/c.html", "top.html"), unchanged=())
    assert (tmp_path / "a/b/c.html").read_bytes() == "é<p>".encode()
    before = (tmp_path / "top.html").stat().st_mtime_ns
    again = write_pages(tmp_path, {"a/b/c.html": "é<p>!", "top.html": "x"})
    assert again == SiteReport(written=("a/b/c.html",), unchanged=("top.html",))
    assert (tmp_path / "top.html").stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "a",
        "b",
        "c.html",
        "top.html",
    ]  # no temp files


def test_what_killed_writes_left_is_cleared_and_live_writes_are_not(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tracker.site import TEMP_DIR, clear_temp_files

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    assert dead.wait() == 0
    folder = tmp_path / TEMP_DIR
    folder.mkdir()
    names = {
        "dead": f".{dead.pid}.index.html.abc123.tmp",  # its writer was killed
        "live": f".{os.getpid()}.index.html.def456.tmp",  # a write going on
        "live, old": f".{os.getpid()}.day.html.ghi789.tmp",  # a minute old: no write is
        "unknown": ".index.html.jkl012.tmp",  # named before the pid was: the age decides
    }
    for name in names.values():
        (folder / name).write_text("<half a page")
    old = (folder / names["live, old"]).stat().st_mtime - 120
    os.utime(folder / names["live, old"], (old, old))
    assert clear_temp_files(tmp_path) == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([names["live"], names["unknown"]])
    assert clear_temp_files(tmp_path, now=old + 10_000) == 2  # much later: all are stale
    assert clear_temp_files(tmp_path / "nowhere") == 0


def test_a_build_clears_a_killed_writes_temp_file_and_publishes_no_temp_folder(
    tmp_path: Path,
) -> None:
    from tracker.site import TEMP_DIR

    stale = tmp_path / TEMP_DIR / ".999999999.index.html.abc123.tmp"  # no such process
    stale.parent.mkdir()
    stale.write_text("<half a page")
    build_site(tmp_path, Renderer(), digests=[], topic_pages=[], stories=[], topics=[])
    assert not stale.exists()
    assert not (tmp_path / TEMP_DIR).exists()  # emptied folders are removed
    assert (tmp_path / "index.html").exists()


def test_write_pages_leaves_pages_readable(tmp_path: Path) -> None:
    write_pages(tmp_path, {"index.html": "x"})
    assert (tmp_path / "index.html").stat().st_mode & 0o444 == 0o444


@pytest.mark.parametrize("bad", ["../escape.html", "/etc/passwd", "a/../../b.html", ""])
def test_write_pages_refuses_paths_outside_the_site(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="inside the site"):
        write_pages(tmp_path / "site", {bad: "x"})


# --- build_site ---------------------------------------------------------------------------


def site_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_build_site_writes_the_whole_layout(tmp_path: Path) -> None:
    report = build(tmp_path)
    expected = {
        "index.html",
        "archive.html",
        "topics.html",
        "atom.xml",
        "feeds.opml",
        "search.html",
        "search.js",
        "search-index.js",
        "search/2025-01.js",
        "days/2025-01-25.html",
        "days/2025-01-26.html",
        "days/2025-01-27.html",
        "topics/deepseek.html",
        "topics/nvidia.html",
        "topics/export-controls.html",
        "topics/deepseek.atom",
        "topics/nvidia.atom",
        "topics/export-controls.atom",
        "stories/a.html",
        "stories/b.html",
        "stories/c.html",
        "stories/d.html",
        "stories/e.html",
    }
    assert site_files(tmp_path) == expected
    assert set(report.written) == expected and report.unchanged == ()
    index = (tmp_path / "index.html").read_text()
    assert index == Renderer(tz_name="Europe/London").digest_page(
        replace(world()[0][-1], previous_day=DAYS[1]), root="."
    )


def test_rebuilding_the_same_site_writes_nothing(tmp_path: Path) -> None:
    first = build(tmp_path)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.html")}
    second = build(tmp_path)
    assert second.written == ()
    assert sorted(second.unchanged) == sorted(first.written)
    assert mtimes == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.html")}


def test_changing_one_digest_rewrites_only_the_pages_that_show_it(tmp_path: Path) -> None:
    build(tmp_path)
    digests = world()[0]
    digests[1] = replace(digests[1], n_entries=99)  # a past day: not the index
    assert build(tmp_path, digests=digests).written == (
        "days/2025-01-26.html",
        "archive.html",  # lists each day's counts
        "atom.xml",
    )


def test_changing_the_latest_digest_rewrites_the_index_too(tmp_path: Path) -> None:
    build(tmp_path)
    digests = world()[0]
    digests[2] = replace(digests[2], title="Morning tech")
    written = build(tmp_path, digests=digests).written
    assert set(written) == {"days/2025-01-27.html", "index.html", "atom.xml"}
    assert "Morning tech" in (tmp_path / "index.html").read_text()


def test_day_links_come_from_neighbouring_digests(tmp_path: Path) -> None:
    digests = [replace(d, previous_day=date(2020, 1, 1), next_day=None) for d in world()[0]]
    build(tmp_path, digests=list(reversed(digests)))
    middle = (tmp_path / "days/2025-01-26.html").read_text()
    assert 'href="../days/2025-01-25.html"' in middle
    assert 'href="../days/2025-01-27.html"' in middle
    assert "2020-01-01" not in middle
    assert 'rel="next"' not in (tmp_path / "index.html").read_text()


def test_linked_stories_get_pages_even_when_not_passed(tmp_path: Path) -> None:
    build(tmp_path, stories=[])
    assert {"stories/a.html", "stories/d.html"} <= site_files(tmp_path)


def test_an_empty_site_still_has_an_index(tmp_path: Path) -> None:
    report = build_site(
        tmp_path, Renderer(), digests=[], topic_pages=[], stories=[], topics=[DEEPSEEK]
    )
    assert "index.html" in report.written
    assert "No digests yet" in (tmp_path / "index.html").read_text()
    assert "topics/deepseek.html" in report.written


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("a", "link") and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if values.get("id"):
            self.ids.add(values["id"] or "")


def test_every_internal_link_resolves(tmp_path: Path) -> None:
    build(tmp_path)
    checked = 0
    for page in tmp_path.rglob("*.html"):
        links = _Links()
        links.feed(page.read_text())
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "data"):
                continue
            assert not parts.scheme and not parts.netloc, f"{page}: {href}"
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(tmp_path)} links to missing {href}"
            assert tmp_path.resolve() in target.parents
            if parts.fragment and target == page:
                assert parts.fragment in links.ids, f"{page}: no #{parts.fragment}"
            checked += 1
    assert checked > 100


# --- in a real browser --------------------------------------------------------------------


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (CI installs it)"
)


def visit(
    chromium: Browser, url: str, color_scheme: Literal["light", "dark"] = "light"
) -> tuple[Page, list[str], list[str]]:
    """Open ``url``; return the page, every URL it requested, and its console errors."""
    page = chromium.new_page(color_scheme=color_scheme)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, requests, errors


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize(
    "path",
    [
        "index.html",
        "days/2025-01-26.html",
        "topics/deepseek.html",
        "stories/d.html",
        "archive.html",
        "topics.html",
    ],
)
def test_pages_open_from_file_urls_without_the_network(
    chromium: Browser, tmp_path: Path, path: str
) -> None:
    build(tmp_path)
    page, requests, errors = visit(chromium, (tmp_path / path).as_uri())
    assert page.locator("h1").first.is_visible()
    assert page.locator("nav[aria-label=Site] a").count() >= 4
    assert errors == []
    assert requests and all(u.startswith("file://") for u in requests), requests
    page.close()


@pytest.mark.browser
@needs_chromium
def test_index_shows_sections_and_cards(chromium: Browser, tmp_path: Path) -> None:
    build(tmp_path)
    page, _, errors = visit(chromium, (tmp_path / "index.html").as_uri())
    h2 = page.locator("h2").all_inner_texts()
    assert "Chip export controls" in h2 and "Top stories" in h2
    assert page.locator("article.card").count() == 2
    assert page.get_by_text("Covered by 2 outlets").is_visible()
    assert errors == []
    page.close()


@pytest.mark.browser
@needs_chromium
def test_feed_markup_in_a_title_does_not_run(chromium: Browser, tmp_path: Path) -> None:
    build(tmp_path)
    for path in (
        "index.html",
        "days/2025-01-27.html",
        "stories/d.html",
        "topics/export-controls.html",
    ):
        page, _, _ = visit(chromium, (tmp_path / path).as_uri())
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img").count() == 0
        assert page.get_by_text(
            '<img src=x onerror="window.__pwned=1">Chip <b>bans</b>'
        ).first.is_visible()
        hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
        assert not [h for h in hrefs if not re.match(r"(file|https?):", h)], hrefs
        page.close()


@pytest.mark.browser
@needs_chromium
def test_relative_links_navigate_between_file_pages(chromium: Browser, tmp_path: Path) -> None:
    build(tmp_path)
    page, _, errors = visit(chromium, (tmp_path / "days/2025-01-26.html").as_uri())
    page.get_by_role("link", name="Archive").click()
    page.wait_for_url("**/archive.html")
    page.get_by_role("link", name="Saturday 25 January 2025").click()
    page.wait_for_url("**/days/2025-01-25.html")
    page.get_by_role("link", name="Topics").click()
    page.wait_for_url("**/topics.html")
    assert page.locator("h1").inner_text() == "Topics"
    assert errors == []
    page.close()


@pytest.mark.browser
@needs_chromium
def test_dark_mode_follows_the_system(chromium: Browser, tmp_path: Path) -> None:
    build(tmp_path)
    url = (tmp_path / "index.html").as_uri()
    colours = []
    for scheme in ("light", "dark"):
        page, _, _ = visit(chromium, url, color_scheme=scheme)
        colours.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        page.close()
    assert colours[0] != colours[1]


def test_temp_files_are_not_left_behind_on_failure(tmp_path: Path) -> None:
    (tmp_path / "days").mkdir()
    (tmp_path / "days" / "2025-01-25.html").mkdir()  # a folder where a page should go
    with pytest.raises(TrackerError, match="cannot write page"):
        build(tmp_path)
    assert not [p for p in (tmp_path / "days").iterdir() if p.name.startswith(".")]
    assert os.listdir(tmp_path / "days") == ["2025-01-25.html"]


# --- issue 6: one more day, search, OPML ----------------------------------------------------


def test_rebuilding_after_one_more_day_rewrites_only_the_pages_that_changed(
    tmp_path: Path,
) -> None:
    digests, _, stories = world()
    build(tmp_path, digests=digests[:2], stories=stories[:3])
    before = {rel: (tmp_path / rel).read_bytes() for rel in site_files(tmp_path)}
    report = build(tmp_path, digests=digests, stories=stories)
    written = set(report.written)
    assert {
        "days/2025-01-27.html",  # the new day
        "days/2025-01-26.html",  # yesterday gains its "next" link
        "index.html",
        "archive.html",
        "atom.xml",
        "search-index.js",
        "stories/e.html",
    } <= written
    for rel in (
        "days/2025-01-25.html",
        "stories/a.html",
        "stories/b.html",
        "stories/c.html",
        "search.html",
        "search.js",
        "feeds.opml",
        "topics/deepseek.html",
    ):
        assert rel not in written, rel
        assert (tmp_path / rel).read_bytes() == before[rel], rel
    assert set(report.unchanged) | written == site_files(tmp_path)


def test_the_site_has_a_search_index_of_every_story_and_the_feeds_opml(tmp_path: Path) -> None:
    import json
    import xml.etree.ElementTree as ET

    from tracker.models import Feed

    digests, pages, stories = world()
    build_site(
        tmp_path,
        Renderer(tz_name="Europe/London"),
        digests=digests,
        topic_pages=pages,
        stories=iter(stories),
        topics=TOPICS,
        feeds=[Feed("https://ars.example/feed", outlet="Ars")],
    )
    js = (tmp_path / "search-index.js").read_text(encoding="utf-8")
    assert js == (
        'window.TRACKER_SEARCH_ROWS = {};\nwindow.TRACKER_SEARCH_MONTHS = [["2025-01",5]];\n'
    )
    part = (tmp_path / "search" / "2025-01.js").read_text(encoding="utf-8")
    prefix = 'window.TRACKER_SEARCH_ROWS["2025-01"] = '
    rows = json.loads(part.removeprefix(prefix).removesuffix(";\n"))
    assert sorted(r["u"] for r in rows) == [f"stories/{s}.html" for s in "abcde"]
    assert [r["d"] for r in rows] == sorted((r["d"] for r in rows), reverse=True)
    assert all((tmp_path / r["u"]).is_file() for r in rows)
    opml = ET.fromstring((tmp_path / "feeds.opml").read_bytes())
    assert [o.get("xmlUrl") for o in opml.iter("outline")] == ["https://ars.example/feed"]
