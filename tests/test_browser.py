"""The demo site in a real browser: Debian's headless chromium, driven by Playwright.

The site is served by a plain http.server on 127.0.0.1 (and opened from file:// once): a
reader opens the index, follows a topic and a story, and searches. No console errors, and
no request leaves the local server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM
from playwright.sync_api import Browser, Page, expect

from tracker.demo import run_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "site"
    run_demo(out)
    return out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@dataclass
class Watch:
    """Every URL a page asked for, and every console error or uncaught exception."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_page(browser: Browser, width: int = 1280) -> tuple[Page, Watch]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    watch = Watch()
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    return page, watch


def search(page: Page, query: str) -> list[str]:
    page.fill("#q", query)
    page.wait_for_function("document.getElementById('status').textContent.includes('stor')")
    return page.locator("#results li a").all_inner_texts()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_reader_follows_a_topic_and_a_story_and_searches(
    chromium: Browser, server: str, width: int
) -> None:
    page, watch = open_page(chromium, width)
    page.goto(f"{server}/index.html")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").count() == 1
    assert page.locator("section h2").count() >= 2

    # A topic, from the first section's heading.
    page.locator("section .section-head h2 a").first.click()
    page.wait_for_load_state("load")
    assert "/topics/" in page.url
    assert page.locator("p.kicker").first.inner_text().lower() == "topic"
    assert page.locator("svg.chart rect").count() >= 14

    # A story, from that topic's first card.
    headline = page.locator("article.card h3").first.inner_text()
    page.locator("article.card a.more").first.click()
    page.wait_for_load_state("load")
    assert "/stories/" in page.url
    assert page.locator("h1").inner_text() == headline
    assert page.locator("#h-timeline").is_visible()
    assert page.locator("ol.entries > li").count() >= 1

    # Search, from the site's navigation.
    page.locator("nav[aria-label=Site] a", has_text="Search").click()
    page.wait_for_load_state("load")
    hits = search(page, "deepseek nvidia")
    assert hits and len(hits) <= 50
    assert "deepseek" in " ".join(hits).lower()
    assert search(page, "zzzz-no-such-word") == []
    assert page.locator("#status").inner_text() == "No story matches."
    search(page, "deepseek")
    page.locator("#results li a").first.click()
    page.wait_for_load_state("load")
    assert "/stories/" in page.url

    local = [u for u in watch.requests if not u.startswith(server + "/")]
    assert local == [], local
    assert watch.errors == []
    page.close()


def test_search_works_from_file_urls_and_takes_a_query_from_the_url(
    chromium: Browser, site: Path
) -> None:
    page, watch = open_page(chromium)
    page.goto((site / "search.html").as_uri() + "?q=TikTok")
    page.wait_for_function("document.querySelectorAll('#results li').length > 0")
    assert page.locator("#q").input_value() == "TikTok"
    first = page.locator("#results li a").first
    assert first.inner_text().strip()
    first.click()
    page.wait_for_load_state("load")
    assert page.url.startswith("file://") and "/stories/" in page.url
    assert all(u.startswith("file://") for u in watch.requests), watch.requests
    assert watch.errors == []
    page.close()


def test_pages_other_than_search_run_no_script(chromium: Browser, server: str) -> None:
    page, watch = open_page(chromium)
    for path in ("index.html", "archive.html", "topics.html", "topics/deepseek.html"):
        page.goto(f"{server}/{path}")
        assert page.locator("script").count() == 0, path
    assert not [u for u in watch.requests if u.endswith(".js")]
    assert watch.errors == []
    page.close()


def _part(site: Path, month: str) -> list[dict[str, Any]]:
    """The rows of one month's search index part, as the site wrote them."""
    import json

    text = (site / "search" / f"{month}.js").read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text.split("=", 1)[1].strip().rstrip(";"))
    return rows


def _only_in(rows: list[dict[str, Any]], other: list[dict[str, Any]]) -> str:
    """A word of some headline in ``rows`` that no row of ``other`` contains anywhere."""
    import json

    elsewhere = json.dumps(other).lower()
    for row in rows:
        for word in row["h"].lower().split():
            if len(word) >= 6 and word.isalpha() and word not in elsewhere:
                return word
    raise AssertionError("no distinctive word")


def test_search_answers_from_the_newest_months_while_older_ones_load(
    chromium: Browser, server: str, site: Path
) -> None:
    months = sorted(p.stem for p in (site / "search").glob("*.js"))
    assert len(months) >= 2
    older, newest = months[0], months[-1]
    old_word = _only_in(_part(site, older), _part(site, newest))
    new_word = _only_in(_part(site, newest), _part(site, older))
    page, watch = open_page(chromium)
    held: list[Any] = []
    page.route(f"**/search/{older}.js", lambda route: held.append(route))
    page.goto(f"{server}/search.html", wait_until="domcontentloaded")
    page.fill("#q", new_word)
    page.locator("#results li").first.wait_for()  # no eval: the page's CSP forbids it
    assert "still loading" in page.locator("#status").inner_text()
    page.fill("#q", old_word)
    expect(page.locator("#status")).to_contain_text("stor")
    assert page.locator("#results li").count() == 0  # its month is not in yet
    assert held, "the older part was requested"
    held[0].continue_()
    page.locator("#results li").first.wait_for()
    assert "still loading" not in page.locator("#status").inner_text()
    assert old_word in " ".join(page.locator("#results li a").all_inner_texts()).lower()
    assert watch.errors == []
    page.close()


def test_search_names_a_part_it_cannot_read_and_searches_the_rest(
    chromium: Browser, server: str, site: Path
) -> None:
    months = sorted(p.stem for p in (site / "search").glob("*.js"))
    older, newest = months[0], months[-1]
    new_word = _only_in(_part(site, newest), _part(site, older))
    page, _ = open_page(chromium)
    page.route(f"**/search/{older}.js", lambda route: route.abort())
    page.goto(f"{server}/search.html?q={new_word}")
    page.locator("#results li").first.wait_for()
    status = page.locator("#status").inner_text()
    assert f"could not be read ({older})" in status
    assert "still loading" not in status
    page.close()
