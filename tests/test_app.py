"""Use cases end to end against real parts: an HTTP server on 127.0.0.1, SQLite files, SMTP."""

from __future__ import annotations

import email
import email.policy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker.app import App
from tracker.config import Config, load_config

DAY1 = datetime(2025, 1, 27, 18, 0, tzinfo=UTC)


def rss(items: list[tuple[str, str, datetime]], title: str = "Example News") -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{t} in detail.</description></item>"
        for t, link, when in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.com/</link>{body}</channel></rss>"
    )


DEEPSEEK = [
    (
        "DeepSeek R1 rattles Nvidia investors",
        "https://a.example/deepseek-r1",
        DAY1 - timedelta(hours=5),
    ),
    ("Apple ships a new iPad", "https://a.example/ipad", DAY1 - timedelta(hours=4)),
]
ECHO = [
    (
        "Nvidia investors rattled by DeepSeek R1",
        "https://b.example/nvidia-deepseek",
        DAY1 - timedelta(hours=3),
    ),
    (
        "DeepSeek R1 rattles Nvidia investors",
        "https://a.example/deepseek-r1?utm_source=rss",
        DAY1 - timedelta(hours=5),
    ),
]


def write_config(tmp_path: Path, feeds: list[dict[str, Any]], **extra: Any) -> Config:
    data: dict[str, Any] = {
        "timezone": "UTC",
        "feeds": feeds,
        "topics": [
            {"slug": "deepseek", "name": "DeepSeek", "keywords": ["DeepSeek"]},
            {"slug": "nvidia", "name": "NVIDIA", "keywords": ["Nvidia"]},
        ],
        "site": {"output_dir": "site"},
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def etag_server(httpserver: HTTPServer) -> HTTPServer:
    """/a.xml answers with an ETag and honours If-None-Match; /b.xml plain; /broken.xml 500."""
    body_a = rss(DEEPSEEK, "Outlet A")

    def a(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(body_a, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    httpserver.expect_request("/a.xml").respond_with_handler(a)
    httpserver.expect_request("/b.xml").respond_with_data(
        rss(ECHO, "Outlet B"), content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data("oops", status=500)
    httpserver.expect_request("/html").respond_with_data(
        "<html><body>hi</body></html>", content_type="text/html"
    )
    return httpserver


@pytest.fixture
def app(tmp_path: Path, etag_server: HTTPServer) -> Iterator[App]:
    config = write_config(
        tmp_path,
        [
            {"url": etag_server.url_for("/a.xml"), "outlet": "Outlet A"},
            {"url": etag_server.url_for("/b.xml"), "outlet": "Outlet B"},
            {"url": etag_server.url_for("/broken.xml"), "outlet": "Broken"},
            {"url": etag_server.url_for("/html"), "outlet": "Not a feed"},
            {"url": str(tmp_path / "missing.xml"), "outlet": "Missing"},
        ],
    )
    with App(config, clock=Clock(DAY1)) as a:
        yield a


def test_one_bad_feed_never_stops_a_batch(app: App) -> None:
    report = app.fetch()
    assert report.fetched == 2
    failed = dict(report.failed)
    assert len(failed) == 3
    assert "HTTP 500" in failed[app.config.feeds[2].url]
    assert "not a feed" in failed[app.config.feeds[3].url]
    feeds = {f.url: f for f in app.store.feeds()}
    assert feeds[app.config.feeds[2].url].error_count == 1
    assert feeds[app.config.feeds[2].url].error_since == DAY1
    assert feeds[app.config.feeds[0].url].last_error is None


def test_the_same_article_through_two_feeds_is_stored_once(app: App) -> None:
    report = app.fetch()
    assert report.new_entries == 3  # 2 from A, 1 new from B (its second item is A's first)
    assert app.store.count("entries") == 3


def test_refetching_sends_the_etag_and_duplicates_nothing(
    app: App, etag_server: HTTPServer
) -> None:
    app.fetch()
    app.cluster()
    stories = app.store.count("stories")
    etag_server.clear_log()
    report = app.fetch(all_feeds=True)
    assert report.new_entries == 0
    assert report.not_modified == 2  # A by 304, B by an identical body
    a_requests = [r for r, _ in etag_server.log if r.path == "/a.xml"]
    assert a_requests[0].headers.get("If-None-Match") == '"v1"'
    assert app.cluster() == 0
    app.update_topics()
    assert app.store.count("entries") == 3 and app.store.count("stories") == stories


def test_only_due_feeds_are_fetched(app: App, etag_server: HTTPServer) -> None:
    app.fetch()
    etag_server.clear_log()
    assert app.fetch().fetched == 0
    assert len(etag_server.log) == 0
    assert isinstance(app.clock, Clock)
    app.clock.now = DAY1 + timedelta(hours=2)
    assert app.fetch().not_modified == 2


def test_stories_group_outlets_and_keep_their_ids_the_next_day(app: App, tmp_path: Path) -> None:
    app.fetch()
    app.cluster()
    app.update_topics()
    [deepseek] = app.topic_stories("deepseek")
    assert set(deepseek.outlets) == {"Outlet A", "Outlet B"}
    # The next day a third outlet reports it; the story keeps its id and gains the member.
    later = tmp_path / "c.xml"
    later.write_text(
        rss(
            [
                (
                    "DeepSeek R1 rattles Nvidia investors again",
                    "https://c.example/x",
                    DAY1 + timedelta(hours=10),
                )
            ]
        ),
        encoding="utf-8",
    )
    assert isinstance(app.clock, Clock)
    app.clock.now = DAY1 + timedelta(hours=12)
    with app.store.transaction():
        app.store.upsert_feed(
            later.as_uri(), outlet="Outlet C", title="", aggregator=False, source="cli", now=DAY1
        )
    app.fetch()
    app.cluster()
    app.update_topics()
    [again] = app.topic_stories("deepseek")
    assert again.id == deepseek.id
    assert set(again.outlets) == {"Outlet A", "Outlet B", "Outlet C"}


def test_run_builds_the_site_and_writes_the_email(tmp_path: Path, etag_server: HTTPServer) -> None:
    config = write_config(
        tmp_path,
        [
            {"url": etag_server.url_for("/a.xml"), "outlet": "Outlet A"},
            {"url": etag_server.url_for("/b.xml"), "outlet": "Outlet B"},
        ],
        email={"out_dir": "mail", "sender": "digest@example.org", "recipients": ["me@example.org"]},
    )
    (tmp_path / "mail").mkdir()
    with App(config, clock=Clock(DAY1)) as app:
        report = app.run()
    assert report.fetch.new_entries == 3
    assert (tmp_path / "site" / "days" / "2025-01-27.html").exists()
    assert (tmp_path / "site" / "topics" / "deepseek.html").exists()
    eml = tmp_path / "mail" / "digest-2025-01-27.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "me@example.org"
    assert "DeepSeek" in message["Subject"]
    # Once the 27th is over its pages say "generated at the end of the 27th" and keep their
    # bytes from then on: later runs with nothing new write nothing.
    for hours in (24, 26):
        with App(config, clock=Clock(DAY1 + timedelta(hours=hours))) as app:
            again = app.run()
        assert again.fetch.not_modified == 2 and again.fetch.new_entries == 0
    assert again.pages_written == 0


class Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def test_run_sends_the_email_over_smtp(tmp_path: Path, etag_server: HTTPServer) -> None:
    recorder = Recorder()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = write_config(
            tmp_path,
            [{"url": etag_server.url_for("/a.xml"), "outlet": "Outlet A"}],
            email={
                "enabled": True,
                "sender": "digest@example.org",
                "recipients": ["me@example.org"],
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            },
        )
        with App(config, clock=Clock(DAY1)) as app:
            report = app.run()
    finally:
        controller.stop()
    assert report.email == "sent to me@example.org"
    [raw] = recorder.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"


def test_the_daemon_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "schedule: {fetch: '0 0 1 1 *', digest: '0 0 1 1 *', email: null}\n", encoding="utf-8"
    )
    command = [sys.executable, "-m", "tracker", "--config", str(config), "schedule"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        try:
            lines: list[str] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any("started" in x for x in lines):
                lines.append(proc.stderr.readline())
            assert any("scheduled fetch" in x for x in lines), lines
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            assert "stopping" in proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
