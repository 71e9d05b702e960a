"""tracker.fetch against a real HTTP server on 127.0.0.1 and real files."""

from __future__ import annotations

import gzip
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from tracker.errors import FetchError, describe
from tracker.fetch import fetch_feed, is_local, make_client, read_file

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Mon, 27 Jan 2025 10:00:00 GMT"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    # Threaded, so a handler that sleeps cannot hold up the requests of the next test.
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def http(server: HTTPServer) -> HTTPServer:
    server.clear()
    return server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(user_agent="tracker-tests/1.0", timeout_seconds=5.0) as c:
        yield c


# --- 200, validators, conditional requests ------------------------------------------------


def test_200_returns_body_headers_and_validators(http: HTTPServer, client: httpx.Client) -> None:
    http.expect_request("/feed").respond_with_data(
        FEED,
        content_type="application/rss+xml",
        headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED, "X-Custom": "yes"},
    )
    fetched = fetch_feed(client, http.url_for("/feed"))
    assert fetched.status == 200
    assert fetched.body == FEED
    assert not fetched.not_modified
    assert fetched.etag == ETAG
    assert fetched.last_modified == LAST_MODIFIED
    assert fetched.headers["x-custom"] == "yes"
    assert fetched.headers["content-type"] == "application/rss+xml"
    assert fetched.url == fetched.final_url == http.url_for("/feed")
    assert fetched.permanent_url is None


def test_client_sends_user_agent_and_accepts_compression(
    http: HTTPServer, client: httpx.Client
) -> None:
    seen: dict[str, str] = {}

    def handler(request: Request) -> Response:
        seen.update({k.lower(): v for k, v in request.headers.items()})
        return Response(FEED)

    http.expect_request("/feed").respond_with_handler(handler)
    fetch_feed(client, http.url_for("/feed"))
    assert seen["user-agent"] == "tracker-tests/1.0"
    assert "gzip" in seen["accept-encoding"]
    assert "rss+xml" in seen["accept"]
    assert "if-none-match" not in seen and "if-modified-since" not in seen


def test_conditional_request_gets_304_and_no_body(http: HTTPServer, client: httpx.Client) -> None:
    http.expect_request(
        "/feed", headers={"If-None-Match": ETAG, "If-Modified-Since": LAST_MODIFIED}
    ).respond_with_data(b"", status=304)
    http.expect_request("/feed").respond_with_data(FEED)  # reached only if headers are missing
    fetched = fetch_feed(client, http.url_for("/feed"), etag=ETAG, last_modified=LAST_MODIFIED)
    assert fetched.status == 304
    assert fetched.body is None
    assert fetched.not_modified
    # The 304 carried no validators, so the ones we sent are kept.
    assert fetched.etag == ETAG
    assert fetched.last_modified == LAST_MODIFIED


def test_304_with_new_etag_reports_it(http: HTTPServer, client: httpx.Client) -> None:
    http.expect_request("/feed").respond_with_data(b"", status=304, headers={"ETag": '"v2"'})
    fetched = fetch_feed(client, http.url_for("/feed"), etag=ETAG)
    assert fetched.etag == '"v2"'


# --- redirects ----------------------------------------------------------------------------


def _redirect(http: HTTPServer, path: str, status: int, target: str) -> None:
    http.expect_request(path).respond_with_data(b"", status=status, headers={"Location": target})


def test_permanent_chain_sets_permanent_url(http: HTTPServer, client: httpx.Client) -> None:
    _redirect(http, "/old", 301, "/older")
    _redirect(http, "/older", 308, http.url_for("/feed"))
    http.expect_request("/feed").respond_with_data(FEED)
    fetched = fetch_feed(client, http.url_for("/old"))
    assert fetched.body == FEED
    assert fetched.url == http.url_for("/old")
    assert fetched.final_url == http.url_for("/feed")
    assert fetched.permanent_url == http.url_for("/feed")


def test_temporary_redirect_does_not_set_permanent_url(
    http: HTTPServer, client: httpx.Client
) -> None:
    _redirect(http, "/temp", 302, "/feed")
    http.expect_request("/feed").respond_with_data(FEED)
    fetched = fetch_feed(client, http.url_for("/temp"))
    assert fetched.final_url == http.url_for("/feed")
    assert fetched.permanent_url is None


def test_one_temporary_hop_spoils_a_permanent_chain(http: HTTPServer, client: httpx.Client) -> None:
    _redirect(http, "/a", 301, "/b")
    _redirect(http, "/b", 307, "/feed")
    http.expect_request("/feed").respond_with_data(FEED)
    fetched = fetch_feed(client, http.url_for("/a"))
    assert fetched.final_url == http.url_for("/feed")
    assert fetched.permanent_url is None


def test_redirect_then_304_keeps_conditional_headers(
    http: HTTPServer, client: httpx.Client
) -> None:
    _redirect(http, "/old", 301, "/feed")
    http.expect_request("/feed", headers={"If-None-Match": ETAG}).respond_with_data(b"", status=304)
    fetched = fetch_feed(client, http.url_for("/old"), etag=ETAG)
    assert fetched.status == 304
    assert fetched.permanent_url == http.url_for("/feed")


def test_redirect_loop_is_an_error(http: HTTPServer, client: httpx.Client) -> None:
    _redirect(http, "/a", 302, "/b")
    _redirect(http, "/b", 302, "/a")
    with pytest.raises(FetchError, match="redirect loop"):
        fetch_feed(client, http.url_for("/a"))


def test_too_many_redirects_is_an_error(http: HTTPServer, client: httpx.Client) -> None:
    for i in range(6):
        _redirect(http, f"/r{i}", 301, f"/r{i + 1}")
    http.expect_request("/r6").respond_with_data(FEED)
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_feed(client, http.url_for("/r0"), max_redirects=3)
    # The same chain is fine with enough allowance.
    assert fetch_feed(client, http.url_for("/r0"), max_redirects=6).body == FEED


def test_redirect_to_a_file_url_is_refused(
    http: HTTPServer, client: httpx.Client, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(FEED)
    _redirect(http, "/evil", 302, secret.as_uri())
    with pytest.raises(FetchError, match="non-http"):
        fetch_feed(client, http.url_for("/evil"))


def test_bad_redirect_location_is_a_fetch_error() -> None:
    # werkzeug refuses to send a malformed Location, so a mock transport plays the server.
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://[::1"})

    client = httpx.Client(transport=httpx.MockTransport(broken))
    with client, pytest.raises(FetchError) as caught:
        fetch_feed(client, "http://feeds.example/old")
    assert "location" in describe(caught.value).lower()


@pytest.mark.parametrize("url", ["http://", "https://[::1", "http:/no-host"])
def test_invalid_url_is_a_fetch_error(client: httpx.Client, url: str) -> None:
    with pytest.raises(FetchError, match="invalid url"):
        fetch_feed(client, url)


# --- refused statuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error"), (410, "Gone")]
)
def test_error_status_is_a_fetch_error_with_status(
    http: HTTPServer, client: httpx.Client, status: int, reason: str
) -> None:
    http.expect_request("/feed").respond_with_data(b"nope", status=status)
    with pytest.raises(FetchError) as caught:
        fetch_feed(client, http.url_for("/feed"))
    assert caught.value.status == status
    assert caught.value.message == f"HTTP {status} {reason}"
    assert caught.value.url == http.url_for("/feed")


# --- limits -------------------------------------------------------------------------------


def test_streamed_body_over_the_limit_is_aborted(http: HTTPServer, client: httpx.Client) -> None:
    def endless(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(200):  # 12.8 MB if nobody stops reading
                yield b"x" * 65536

        return Response(chunks(), content_type="application/rss+xml")  # chunked, no length

    http.expect_request("/big").respond_with_handler(endless)
    with pytest.raises(FetchError, match=r"response body too large \(over 1048576 bytes\)"):
        fetch_feed(client, http.url_for("/big"), max_bytes=1024 * 1024)


def test_declared_length_over_the_limit_is_refused(http: HTTPServer, client: httpx.Client) -> None:
    http.expect_request("/big").respond_with_data(b"y" * 5000)
    with pytest.raises(FetchError, match="too large"):
        fetch_feed(client, http.url_for("/big"), max_bytes=4999)
    assert fetch_feed(client, http.url_for("/big"), max_bytes=5000).body == b"y" * 5000


def test_gzip_body_is_decoded(http: HTTPServer, client: httpx.Client) -> None:
    big = FEED * 200
    http.expect_request("/feed").respond_with_data(
        gzip.compress(big), headers={"Content-Encoding": "gzip"}
    )
    fetched = fetch_feed(client, http.url_for("/feed"))
    assert fetched.body == big


def test_gzip_bomb_is_capped_after_decoding(http: HTTPServer, client: httpx.Client) -> None:
    bomb = gzip.compress(b"\0" * (4 * 1024 * 1024))  # about 4 KB on the wire
    http.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="too large"):
        fetch_feed(client, http.url_for("/bomb"), max_bytes=1024 * 1024)


def test_slow_server_times_out(http: HTTPServer, client: httpx.Client) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response(FEED)

    http.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchError, match="timed out") as caught:
        fetch_feed(client, http.url_for("/slow"), timeout_seconds=0.5)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


def test_trickling_body_hits_the_total_deadline(http: HTTPServer, client: httpx.Client) -> None:
    # Every read returns within the per-read timeout; only a deadline for the whole
    # exchange stops this.
    def trickle(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(12):
                time.sleep(0.2)
                yield b"<!-- still here -->"

        return Response(chunks())

    http.expect_request("/trickle").respond_with_handler(trickle)
    with pytest.raises(FetchError, match="timed out"):
        fetch_feed(client, http.url_for("/trickle"), timeout_seconds=0.5)


def test_connection_refused_is_a_fetch_error(client: httpx.Client) -> None:
    with socket.socket() as s:  # take a free port, then close it: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    with pytest.raises(FetchError, match="cannot connect") as caught:
        fetch_feed(client, url)
    assert caught.value.url == url
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


# --- local files --------------------------------------------------------------------------


def test_plain_path_and_file_url_read_the_same_bytes(client: httpx.Client, tmp_path: Path) -> None:
    path = tmp_path / "feed one.xml"
    path.write_bytes(FEED)
    by_path = fetch_feed(client, str(path))
    by_url = fetch_feed(client, path.as_uri())
    assert by_path.body == by_url.body == FEED
    assert by_path.status == by_url.status == 200
    assert by_path.url == str(path)
    assert by_url.url == path.as_uri()
    assert read_file(path.as_uri()).body == FEED


def test_missing_file_is_a_fetch_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xml"
    with pytest.raises(FetchError, match="cannot read file") as caught:
        read_file(str(missing))
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    with pytest.raises(FetchError):
        read_file(missing.as_uri())


def test_directory_is_a_fetch_error(tmp_path: Path) -> None:
    with pytest.raises(FetchError):
        read_file(str(tmp_path))


def test_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"z" * 101)
    with pytest.raises(FetchError, match="too large"):
        read_file(str(path), max_bytes=100)
    assert read_file(str(path), max_bytes=101).body == b"z" * 101


def test_device_file_is_refused() -> None:
    # /dev/zero never ends; it must be refused, not read up to the limit.
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(FetchError, match="not a regular file"):
        read_file("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.fifo"
    os.mkfifo(fifo)
    outcome: list[FetchError] = []

    def attempt() -> None:
        try:
            read_file(str(fifo))
        except FetchError as e:
            outcome.append(e)

    # In a thread, so a regression that blocks on open() fails the test instead of hanging it.
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    blocked = worker.is_alive()
    if blocked:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # release the blocked reader
    assert not blocked, "read_file blocked on a named pipe"
    assert [e.message for e in outcome] == ["not a regular file"]


def test_file_url_naming_another_host_is_refused() -> None:
    with pytest.raises(FetchError, match="another host"):
        read_file("file://example.com/etc/feed.xml")


def test_other_schemes_are_refused() -> None:
    with pytest.raises(FetchError, match="unsupported url scheme"):
        read_file("ftp://example.com/feed.xml")


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("https://example.com/feed", False),
        ("HTTP://example.com/feed", False),
        ("file:///tmp/feed.xml", True),
        ("/tmp/feed.xml", True),
        ("feeds/feed.xml", True),
        ("C:\\feeds\\feed.xml", True),
        ("https://[::1", False),
    ],
)
def test_is_local(url: str, local: bool) -> None:
    assert is_local(url) is local
