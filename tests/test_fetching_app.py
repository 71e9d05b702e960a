"""Issue 3 end to end: App.fetch and the feeds commands against a real HTTP server on 127.0.0.1.

The clock is a seam (App(config, clock=...)): schedules and backoff are checked by moving it,
never by sleeping. Handlers sleep only to play a slow server or to let requests overlap.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker import parse as parsing
from tracker.app import App
from tracker.cli import cli
from tracker.config import Config, load_config

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
DATA = Path(__file__).parent / "data" / "fetch"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rss(
    items: list[tuple[str, datetime]], *, title: str = "Example News", extra: str = ""
) -> bytes:
    """An RSS 2.0 document; each item is (slug, published)."""
    body = "".join(
        f"<item><title>Story {slug}</title><link>https://news.example/{slug}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>About {slug}.</description></item>"
        for slug, when in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example/</link>{extra}{body}</channel></rss>"
    ).encode()


BODY = rss([("a", NOW - 5 * HOUR), ("b", NOW - 4 * HOUR)])


def make_config(tmp_path: Path, urls: list[str], **fetch: Any) -> Config:
    data = {
        "timezone": "UTC",
        "feeds": [{"url": u} for u in urls],
        "site": {"output_dir": "site"},
        "fetch": {"timeout_seconds": 5, **fetch},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def make_app(tmp_path: Path, urls: list[str], *, now: datetime = NOW, **fetch: Any) -> App:
    return App(make_config(tmp_path, urls, **fetch), clock=Clock(now))


def feed_of(app: App, url: str) -> Any:
    feed = app.store.get_feed(app.store.resolve(url))
    assert feed is not None
    return feed


def advance(app: App, delta: timedelta) -> None:
    assert isinstance(app.clock, Clock)
    app.clock.now += delta


@pytest.fixture
def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every feed URL tracker.parse.parse_feed is called for."""
    calls: list[str] = []
    real = parsing.parse_feed

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["feed_url"])
        return real(*args, **kwargs)

    monkeypatch.setattr(parsing, "parse_feed", counting)
    return calls


# --- 1. conditional requests ------------------------------------------------------------------


def validator_handler(header: str, value: str, body: bytes = BODY) -> Callable[[Request], Response]:
    response_header = "ETag" if header == "If-None-Match" else "Last-Modified"

    def handler(request: Request) -> Response:
        if request.headers.get(header) == value:
            return Response(status=304)
        return Response(body, content_type="application/rss+xml", headers={response_header: value})

    return handler


@pytest.mark.parametrize(
    ("header", "value"),
    [("If-None-Match", '"v1"'), ("If-Modified-Since", "Mon, 27 Jan 2025 07:00:00 GMT")],
)
def test_a_304_costs_no_parsing(
    http: HTTPServer, tmp_path: Path, count_parses: list[str], header: str, value: str
) -> None:
    http.expect_request("/feed.xml").respond_with_handler(validator_handler(header, value))
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        first = app.fetch(all_feeds=True)
        assert (first.fetched, first.new_entries) == (1, 2)
        second = app.fetch(all_feeds=True)
        assert (second.fetched, second.not_modified, second.new_entries) == (0, 1, 0)
    assert count_parses == [url]
    sent = [r.headers.get(header) for r, _ in http.log]
    assert sent == [None, value]


def test_an_identical_body_without_validators_is_not_parsed_again(
    http: HTTPServer, tmp_path: Path, count_parses: list[str]
) -> None:
    http.expect_request("/feed.xml").respond_with_data(BODY, content_type="application/rss+xml")
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        app.fetch(all_feeds=True)
        again = app.fetch(all_feeds=True)
        assert again.not_modified == 1
        assert feed_of(app, url).last_success == NOW
    assert count_parses == [url]


# --- 2. politeness ----------------------------------------------------------------------------


def test_every_request_names_the_project(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/feed.xml").respond_with_data(BODY)
    with make_app(tmp_path, [http.url_for("/feed.xml")]) as app:
        app.fetch()
    agent = http.log[0][0].headers["User-Agent"]
    assert agent.startswith("tracker/") and "+https://" in agent


class InFlight:
    """A handler that counts requests in progress per Host header, and their peak."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.peak_total = 0

    def __call__(self, request: Request) -> Response:
        host = request.headers["Host"].split(":")[0]
        with self.lock:
            self.now[host] = self.now.get(host, 0) + 1
            self.peak[host] = max(self.peak.get(host, 0), self.now[host])
            self.peak_total = max(self.peak_total, sum(self.now.values()))
        try:
            time.sleep(0.05)  # so that requests overlap unless something holds them back
            return Response(self.body, content_type="application/rss+xml")
        finally:
            with self.lock:
                self.now[host] -= 1


def test_the_per_host_limit_holds_on_the_server_side(http: HTTPServer, tmp_path: Path) -> None:
    counter = InFlight(BODY)
    http.expect_request(re.compile(r"/f\d+\.xml")).respond_with_handler(counter)
    urls = [f"http://127.0.0.1:{http.port}/f{i}.xml" for i in range(10)]
    urls += [f"http://localhost:{http.port}/f{i}.xml" for i in range(10)]
    with make_app(tmp_path, urls, concurrency=8, per_host=2) as app:
        report = app.fetch()
    assert report.fetched + report.not_modified == 20 and not report.failed
    assert set(counter.peak) == {"127.0.0.1", "localhost"}
    assert max(counter.peak.values()) <= 2
    assert counter.peak_total <= 4


def test_retry_after_on_429_is_honoured(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/feed.xml").respond_with_data(
        b"slow down", status=429, headers={"Retry-After": "7200"}
    )
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        report = app.fetch()
        feed = feed_of(app, url)
        assert "HTTP 429" in dict(report.failed)[url]
        assert feed.next_fetch >= NOW + 2 * HOUR
        assert feed.next_fetch <= NOW + 2.2 * HOUR
        advance(app, HOUR)
        assert app.fetch().failed == []  # not due yet: nothing fetched
    assert len(http.log) == 1


def test_retry_after_date_on_503_is_honoured(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/feed.xml").respond_with_data(
        b"maintenance", status=503, headers={"Retry-After": format_datetime(NOW + 5 * HOUR)}
    )
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        app.fetch()
        assert feed_of(app, url).next_fetch >= NOW + 5 * HOUR


@pytest.mark.parametrize(
    ("headers", "extra", "at_least"),
    [
        ({"Cache-Control": "public, max-age=10800"}, "", 3 * HOUR),
        # Expires counts from the server's Date (the test server's real clock), not ours.
        (
            {"Expires": format_datetime(datetime.now(UTC) + 4 * HOUR, usegmt=True)},
            "",
            4 * HOUR - MIN,
        ),
        ({}, "<ttl>300</ttl>", 5 * HOUR),
    ],
    ids=["max-age", "expires", "ttl"],
)
def test_server_freshness_is_a_lower_bound_on_the_next_fetch(
    http: HTTPServer, tmp_path: Path, headers: dict[str, str], extra: str, at_least: timedelta
) -> None:
    # A busy feed: left to itself it would be fetched again in 15 minutes.
    busy = rss([(f"s{i}", NOW - i * 10 * MIN) for i in range(12)], extra=extra)
    http.expect_request("/feed.xml").respond_with_data(busy, headers=headers)
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        app.fetch()
        wait = feed_of(app, url).next_fetch - NOW
    assert at_least <= wait <= at_least * 1.1 + 2 * MIN  # plus jitter


def test_the_ttl_still_counts_after_a_304(http: HTTPServer, tmp_path: Path) -> None:
    body = rss([("a", NOW - HOUR)], extra="<ttl>300</ttl>")
    http.expect_request("/feed.xml").respond_with_handler(
        validator_handler("If-None-Match", '"t"', body)
    )
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        app.fetch()
        advance(app, 6 * HOUR)
        assert app.fetch().not_modified == 1
        assert feed_of(app, url).next_fetch - app.now() >= 5 * HOUR


# --- 3. adaptive schedule ---------------------------------------------------------------------


def test_the_interval_follows_how_often_a_feed_publishes(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/busy.xml").respond_with_data(
        rss([(f"b{i}", NOW - i * 10 * MIN) for i in range(1, 13)])
    )
    http.expect_request("/daily.xml").respond_with_data(
        rss([(f"d{i}", NOW - i * DAY) for i in range(1, 6)])
    )
    http.expect_request("/quiet.xml").respond_with_data(rss([("q", NOW - 40 * DAY)]))
    urls = [http.url_for(p) for p in ("/busy.xml", "/daily.xml", "/quiet.xml")]
    with make_app(tmp_path, urls) as app:
        app.fetch()
        waits = [feed_of(app, u).next_fetch - NOW for u in urls]
    busy, daily, quiet = waits
    assert 15 * MIN <= busy <= 16.5 * MIN  # the minimum, plus jitter
    assert 10.8 * HOUR <= daily <= 13.2 * HOUR  # five posts in five days: every half day
    assert 0.9 * DAY <= quiet <= DAY  # the maximum, minus jitter


def test_configured_bounds_hold(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/busy.xml").respond_with_data(
        rss([(f"b{i}", NOW - i * MIN) for i in range(1, 30)])
    )
    url = http.url_for("/busy.xml")
    with make_app(tmp_path, [url], min_interval_minutes=45, max_interval_minutes=120) as app:
        app.fetch()
        wait = feed_of(app, url).next_fetch - NOW
    assert 45 * MIN <= wait <= 50 * MIN


def test_schedules_are_reproducible_and_feeds_drift_apart(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request(re.compile(r"/s\d\.xml")).respond_with_data(BODY)
    urls = [http.url_for(f"/s{i}.xml") for i in range(6)]
    runs = []
    for run in ("one", "two"):
        (tmp_path / run).mkdir()
        with make_app(tmp_path / run, urls) as app:
            app.fetch()
            runs.append([feed_of(app, u).next_fetch for u in urls])
    assert runs[0] == runs[1]  # same clock, same decisions
    # Same rate, different jitter. Next-fetch times are stored to the second, so two of six
    # may share a second by chance; the jitter itself differs for every feed.
    from tracker.schedule_policy import spread

    assert len({spread(u, NOW) for u in urls}) == len(urls)
    assert len(set(runs[0])) >= 3


def test_only_due_feeds_are_fetched_and_all_fetches_everything(
    http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/feed.xml").respond_with_data(BODY)
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        app.fetch()
        assert app.feeds_to_fetch() == []
        assert [f.url for f in app.feeds_to_fetch(all_feeds=True)] == [url]
        advance(app, feed_of(app, url).next_fetch - NOW)
        assert [f.url for f in app.feeds_to_fetch()] == [url]


# --- 4. failures --------------------------------------------------------------------------------


def test_a_failing_feed_backs_off_but_is_retried_at_least_daily(
    http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/feed.xml").respond_with_data(b"nope", status=404)
    url = http.url_for("/feed.xml")
    waits = []
    with make_app(tmp_path, [url], max_interval_minutes=10080) as app:
        for _ in range(12):
            assert len(app.fetch().failed) == 1  # it is due every time we get there
            feed = feed_of(app, url)
            waits.append(feed.next_fetch - app.now())
            advance(app, waits[-1])
        assert feed.status == "active" and feed.error_count == 12
        assert feed.error_since == NOW
        assert feed.last_error.startswith("HTTP 404 Not Found")
    assert waits[0] < 20 * MIN
    assert all(b > a for a, b in itertools.pairwise(waits[:7]))  # doubling
    assert max(waits) <= DAY and waits[-1] >= 0.9 * DAY


def test_one_bad_feed_never_stops_a_batch(http: HTTPServer, tmp_path: Path) -> None:
    def never_answers(request: Request) -> Response:
        time.sleep(2.0)
        return Response(BODY)

    def endless(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(1000):
                yield b"<!-- " + b"x" * 65536 + b" -->"

        return Response(chunks(), content_type="application/rss+xml")

    http.expect_request("/slow.xml").respond_with_handler(never_answers)
    http.expect_request("/huge.xml").respond_with_handler(endless)
    http.expect_request("/html").respond_with_data(
        "<html><body>hi</body></html>", content_type="text/html"
    )
    http.expect_request("/ok.xml").respond_with_data(BODY)
    urls = [http.url_for(p) for p in ("/slow.xml", "/huge.xml", "/html", "/ok.xml")]
    with make_app(tmp_path, urls, timeout_seconds=0.5, max_bytes=1_000_000) as app:
        report = app.fetch()
        failed = dict(report.failed)
        assert report.fetched == 1 and report.new_entries == 2
        assert "timed out" in failed[urls[0]]
        assert "too large" in failed[urls[1]]
        assert "not a feed" in failed[urls[2]]
        for url in urls[:3]:
            feed = feed_of(app, url)
            assert feed.error_count == 1 and feed.error_since == NOW and feed.status == "active"


# --- 5. moves and deaths --------------------------------------------------------------------------


def redirect(http: HTTPServer, path: str, status: int, target: str) -> None:
    http.expect_request(path).respond_with_data(b"", status=status, headers={"Location": target})


def test_301_and_308_move_the_feed_and_keep_its_entries(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/old.xml").respond_with_data(BODY)
    old, new = http.url_for("/old.xml"), http.url_for("/new.xml")
    with make_app(tmp_path, [old]) as app:
        app.fetch()
        assert app.store.count("entries") == 2
        http.clear()
        redirect(http, "/old.xml", 301, "/mid.xml")
        redirect(http, "/mid.xml", 308, "/new.xml")
        http.expect_request("/new.xml").respond_with_data(rss([("a", NOW - 5 * HOUR), ("c", NOW)]))
        report = app.fetch(all_feeds=True)
        assert report.moved == [(old, new)]
        assert app.store.get_feed(old) is None
        moved = app.store.get_feed(new)
        assert moved is not None and moved.moved_from == old
        rows = app.store.db.execute("SELECT DISTINCT feed_url FROM entries").fetchall()
        assert rows == [(new,)] and app.store.count("entries") == 3
        [state] = app.feed_states()
        assert (state.url, state.health, state.moved_from) == (new, "moved", old)
    # config.yaml still names the old URL: reopening finds the moved feed, adds nothing.
    with make_app(tmp_path, [old]) as app:
        assert [f.url for f in app.store.feeds()] == [new]
        advance(app, 8 * DAY)
        assert app.feed_states()[0].health == "ok"  # "moved" is a week-long notice


def _guid_only(slugs: list[str]) -> bytes:
    """An RSS feed whose items have a guid and no link (their ids come from feed and guid)."""
    items = "".join(
        f'<item><title>Note {s}</title><guid isPermaLink="false">note-{s}</guid>'
        f"<pubDate>{format_datetime(NOW - HOUR)}</pubDate></item>"
        for s in slugs
    )
    return f'<rss version="2.0"><channel><title>Notes</title>{items}</channel></rss>'.encode()


def test_entries_without_links_keep_their_ids_when_their_feed_moves(
    http: HTTPServer, tmp_path: Path
) -> None:
    """An entry with no link is named by its feed's URL and guid: the URL the feed was added
    with, so that a 301 does not store its entries again under new ids."""
    http.expect_request("/old.xml").respond_with_data(_guid_only(["a", "b"]))
    old, new = http.url_for("/old.xml"), http.url_for("/new.xml")
    with make_app(tmp_path, [old]) as app:
        app.fetch()
        before = {e for (e,) in app.store.db.execute("SELECT id FROM entries")}
        assert len(before) == 2
        http.clear()
        redirect(http, "/old.xml", 301, "/new.xml")
        http.expect_request("/new.xml").respond_with_data(_guid_only(["a", "b", "c"]))
        report = app.fetch(all_feeds=True)
        assert report.moved == [(old, new)] and report.new_entries == 1
        http.clear()
        http.expect_request("/new.xml").respond_with_data(_guid_only(["a", "b", "c", "d"]))
        assert app.fetch(all_feeds=True).new_entries == 1  # fetched at its new URL now
        ids = {e for (e,) in app.store.db.execute("SELECT id FROM entries")}
        assert before < ids and len(ids) == 4
        rows = app.store.db.execute("SELECT DISTINCT feed_url FROM entries").fetchall()
        assert rows == [(new,)]


def test_302_and_307_do_not_move_the_feed(http: HTTPServer, tmp_path: Path) -> None:
    redirect(http, "/old.xml", 302, "/tmp1.xml")
    redirect(http, "/tmp1.xml", 307, "/new.xml")
    http.expect_request("/new.xml").respond_with_data(BODY)
    old = http.url_for("/old.xml")
    with make_app(tmp_path, [old]) as app:
        report = app.fetch()
        assert report.fetched == 1 and report.moved == []
        assert [f.url for f in app.store.feeds()] == [old]


def test_a_move_onto_a_known_feed_merges_them(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/new.xml").respond_with_data(BODY)
    redirect(http, "/old.xml", 301, "/new.xml")
    old, new = http.url_for("/old.xml"), http.url_for("/new.xml")
    with make_app(tmp_path, [old, new]) as app:
        app.fetch()
        states = {s.url: s.health for s in app.feed_states()}
        assert states == {old: "moved", new: "ok"}
        assert [f.url for f in app.feeds_to_fetch(all_feeds=True)] == [new]


def test_410_retires_the_feed_but_keeps_it(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/ok.xml").respond_with_data(BODY)
    http.expect_request("/dead.xml").respond_with_data(b"", status=410)
    ok, dead = http.url_for("/ok.xml"), http.url_for("/dead.xml")
    with make_app(tmp_path, [ok, dead]) as app:
        report = app.fetch()
        assert report.gone == [dead]
        advance(app, 2 * DAY)
        assert [f.url for f in app.feeds_to_fetch()] == [ok]
        assert [f.url for f in app.feeds_to_fetch(all_feeds=True)] == [ok]
        states = {s.url: s for s in app.feed_states()}
        assert states[dead].health == "gone" and states[dead].next_fetch is None
        assert app.failing_feeds() == []  # retired, not failing
    assert [r.path for r, _ in http.log].count("/dead.xml") == 1


# --- 6. encodings and compression -----------------------------------------------------------------


def test_gzip_and_brotli_bodies_are_stored(http: HTTPServer, tmp_path: Path) -> None:
    brotli = pytest.importorskip("brotli")
    gz = rss([("g", NOW - HOUR)], title="Gzip")
    br = rss([("r", NOW - HOUR)], title="Brotli")
    http.expect_request("/gz.xml").respond_with_data(
        gzip.compress(gz), headers={"Content-Encoding": "gzip"}
    )
    http.expect_request("/br.xml").respond_with_data(
        brotli.compress(br), headers={"Content-Encoding": "br"}
    )
    urls = [http.url_for("/gz.xml"), http.url_for("/br.xml")]
    with make_app(tmp_path, urls) as app:
        report = app.fetch()
        assert report.new_entries == 2 and not report.failed
        assert {feed_of(app, u).title for u in urls} == {"Gzip", "Brotli"}


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/plain", "application/octet-stream", None]
)
def test_a_feed_with_a_wrong_or_no_content_type_still_reads_right(
    http: HTTPServer, tmp_path: Path, content_type: str | None
) -> None:
    body = rss([("a", NOW - HOUR)], title="Caf\u00e9 \u2014 \u65b0\u95fb")

    def handler(request: Request) -> Response:
        response = Response(body)
        del response.headers["Content-Type"]
        if content_type:
            response.headers["Content-Type"] = content_type
        return response

    http.expect_request("/feed.xml").respond_with_handler(handler)
    url = http.url_for("/feed.xml")
    with make_app(tmp_path, [url]) as app:
        assert app.fetch().new_entries == 1
        # With no Content-Type, feedparser alone would read this UTF-8 as ISO-8859-1.
        assert feed_of(app, url).title == "Caf\u00e9 \u2014 \u65b0\u95fb"


# --- 7. autodiscovery -----------------------------------------------------------------------------


def page(links: str) -> str:
    return f"<!doctype html><html><head><title>Example</title>{links}</head><body>hi</body></html>"


def test_feeds_add_finds_the_feed_of_a_web_page(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/").respond_with_data(
        page(
            '<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">'
            '<link rel="alternate" type="application/rss+xml" title="Example" href="/feed/">'
        ),
        content_type="text/html",
    )
    http.expect_request("/feed/").respond_with_data(BODY, content_type="application/rss+xml")
    config = make_config(tmp_path, [])
    result = CliRunner().invoke(
        cli, ["--config", str(config.path), "feeds", "add", http.url_for("/")]
    )
    assert result.exit_code == 0, result.output
    assert f"added: {http.url_for('/feed/')} (Example News)" in result.output
    assert "also found" in result.output and "/comments/feed/" in result.output
    with App(config) as app:
        [feed] = app.store.feeds()
        assert (feed.url, feed.source) == (http.url_for("/feed/"), "cli")


def test_feeds_add_lists_several_equally_good_feeds(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/").respond_with_data(
        page(
            '<link rel="alternate" type="application/rss+xml" title="News" href="/news.rss">'
            '<link rel="alternate" type="application/rss+xml" title="Podcasts" href="/pod.rss">'
        ),
        content_type="text/html",
    )
    http.expect_request("/news.rss").respond_with_data(BODY)
    config = make_config(tmp_path, [])
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", str(config.path), "feeds", "add", http.url_for("/")])
    assert listed.exit_code == 1
    assert "/news.rss" in listed.stdout and "/pod.rss" in listed.stdout
    assert "several feeds found" in listed.stderr
    with App(config) as app:
        assert app.store.feeds() == []
    best = runner.invoke(
        cli, ["--config", str(config.path), "feeds", "add", "--best", http.url_for("/")]
    )
    assert best.exit_code == 0 and f"added: {http.url_for('/news.rss')}" in best.output


def test_feeds_add_given_a_feed_adds_it_and_a_page_without_feeds_is_an_error(
    http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/feed.xml").respond_with_data(BODY)
    http.expect_request("/plain").respond_with_data(page(""), content_type="text/html")
    config = make_config(tmp_path, [])
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["--config", str(config.path), "feeds", "add", http.url_for("/feed.xml")]
    )
    assert ok.exit_code == 0 and ok.output.startswith("added: ")
    again = runner.invoke(
        cli, ["--config", str(config.path), "feeds", "add", http.url_for("/feed.xml")]
    )
    assert "already there" in again.output
    bad = runner.invoke(cli, ["--config", str(config.path), "feeds", "add", http.url_for("/plain")])
    assert bad.exit_code == 1 and "no feed here, and no feed linked from it" in bad.stderr


# --- 8. OPML, and where feeds come from ---------------------------------------------------------


def test_opml_import_export_round_trip(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    runner = CliRunner()
    base = ["--config", str(config.path), "feeds"]
    imported = runner.invoke(cli, [*base, "import", str(DATA / "subscriptions.opml")])
    assert imported.exit_code == 0, imported.output
    assert "5 added, 0 reactivated, 0 already there, 0 skipped" in imported.output
    again = runner.invoke(cli, [*base, "import", str(DATA / "subscriptions.opml")])
    assert "0 added, 0 reactivated, 5 already there" in again.output
    exported = runner.invoke(cli, [*base, "export"])
    assert exported.exit_code == 0
    from tracker.opml import parse_opml

    original = {
        (f.url, f.title, f.category) for f in parse_opml((DATA / "subscriptions.opml").read_bytes())
    }
    round_trip = {(f.url, f.title, f.category) for f in parse_opml(exported.output.encode())}
    assert round_trip == original
    listed = json.loads(runner.invoke(cli, [*base, "list", "--json"]).output)
    assert {f["source"] for f in listed} == {"opml"}
    assert {f["category"] for f in listed} == {"Tech news", "Tech news/Chips", "Blogs"}


def test_config_wins_over_opml_and_the_command_line(tmp_path: Path) -> None:
    ars = "https://feeds.arstechnica.com/arstechnica/index"
    data = {
        "timezone": "UTC",
        "feeds": [{"url": ars, "outlet": "Ars (config)", "category": "Config folder"}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    runner = CliRunner()
    base = ["--config", str(path), "feeds"]
    runner.invoke(cli, [*base, "import", str(DATA / "subscriptions.opml")])
    listed = {f["url"]: f for f in json.loads(runner.invoke(cli, [*base, "list", "--json"]).output)}
    assert listed[ars]["outlet"] == "Ars (config)" and listed[ars]["source"] == "config"
    assert listed[ars]["category"] == "Config folder"
    removed = runner.invoke(cli, [*base, "remove", ars])
    assert removed.exit_code == 1 and "remove it there" in removed.stderr
    # Dropping it from config.yaml retires it; the OPML feeds stay.
    path.write_text(yaml.safe_dump({"timezone": "UTC", "feeds": []}), encoding="utf-8")
    listed = {f["url"]: f for f in json.loads(runner.invoke(cli, [*base, "list", "--json"]).output)}
    assert ars not in listed and len(listed) == 4
    # A feed that only came from the command line or OPML can be removed there.
    jvns = "https://jvns.ca/atom.xml"
    assert runner.invoke(cli, [*base, "remove", jvns]).exit_code == 0


# --- 9. feed health -------------------------------------------------------------------------------


def test_feeds_list_shows_every_state(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/ok.xml").respond_with_data(BODY)
    http.expect_request("/bad.xml").respond_with_data(b"", status=500)
    http.expect_request("/dead.xml").respond_with_data(b"", status=410)
    redirect(http, "/old.xml", 308, "/moved.xml")
    http.expect_request("/moved.xml").respond_with_data(rss([("m", NOW - HOUR)]))
    urls = [http.url_for(p) for p in ("/ok.xml", "/bad.xml", "/dead.xml", "/old.xml")]
    config = make_config(tmp_path, urls)
    with App(config) as app:
        app.fetch()
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config.path), "feeds", "list", "--json"])
    rows = {r["url"]: r for r in json.loads(result.output)}
    assert {r["status"] for r in rows.values()} == {"ok", "failing", "moved", "gone"}
    bad = rows[urls[1]]
    assert bad["error_count"] == 1 and bad["last_error"].startswith("HTTP 500")
    assert bad["next_fetch"] and bad["last_success"] is None
    assert rows[urls[0]]["last_success"] is not None
    assert rows[http.url_for("/moved.xml")]["moved_from"] == urls[3]
    assert set(rows[urls[0]]) >= {
        "url",
        "title",
        "status",
        "last_success",
        "last_error",
        "error_count",
        "next_fetch",
    }
    text = runner.invoke(cli, ["--config", str(config.path), "feeds", "list"])
    assert text.exit_code == 0
    assert re.search(r"^failing +http://", text.stdout, re.MULTILINE)
    assert "4 feeds: 1 ok, 1 failing, 1 moved, 1 gone" in text.stderr


def test_the_digest_names_feeds_failing_for_more_than_a_day(
    http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/ok.xml").respond_with_data(BODY)
    http.expect_request("/bad.xml").respond_with_data(b"", status=500)
    ok, bad = http.url_for("/ok.xml"), http.url_for("/bad.xml")
    with make_app(tmp_path, [ok, bad]) as app:
        app.fetch()
        assert app.failing_feeds() == []  # failing for minutes: retried on its own
        advance(app, DAY + MIN)
        app.fetch()
        [failing] = app.failing_feeds()
        assert failing.url == bad and failing.error_count == 2
        assert [f.url for f in app.digest(app.today()).failing_feeds] == [bad]


def test_the_site_has_a_feed_health_page(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/ok.xml").respond_with_data(BODY)
    http.expect_request("/dead.xml").respond_with_data(b"", status=410)
    with make_app(tmp_path, [http.url_for("/ok.xml"), http.url_for("/dead.xml")]) as app:
        app.fetch()
        app.cluster()
        report = app.build_site()
        assert "feeds.html" in report.written
        page_text = (tmp_path / "site" / "feeds.html").read_text()
        index = (tmp_path / "site" / "index.html").read_text()
        assert app.build_site().written == ()  # nothing changed, nothing rewritten
    assert "Feed health" in page_text and "state-gone" in page_text and "state-ok" in page_text
    assert "410 Gone" in page_text
    assert 'href="./feeds.html"' in index


# --- 10. progress -------------------------------------------------------------------------------


def test_fetch_under_cron_prints_one_summary_line_and_warnings(
    http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/ok.xml").respond_with_data(BODY)
    http.expect_request("/bad.xml").respond_with_data(b"", status=404)
    config = make_config(tmp_path, [http.url_for("/ok.xml"), http.url_for("/bad.xml")])
    result = CliRunner().invoke(cli, ["--config", str(config.path), "fetch"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "fetched 1, not modified 0, failed 1; 2 new entries, 2 placed in stories"
    ]
    assert result.stderr.splitlines() == [
        f"  failed: HTTP 404 Not Found: {http.url_for('/bad.xml')}"
    ]


def test_fetch_on_a_terminal_shows_progress(
    http: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    http.expect_request(re.compile(r"/p\d\.xml")).respond_with_data(BODY)
    config = make_config(tmp_path, [http.url_for(f"/p{i}.xml") for i in range(3)])
    monkeypatch.setattr("tracker.cli._interactive", lambda: True)
    result = CliRunner().invoke(cli, ["--config", str(config.path), "fetch"])
    assert result.exit_code == 0, result.output
    assert "fetching" in result.stderr  # click's bar (only its label when not a real tty)
    assert result.stdout.startswith("fetched 3, not modified 0, failed 0")
