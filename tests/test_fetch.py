"""tracker.fetch against a real HTTP server on 127.0.0.1 and real files."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from tracker.errors import FetchError, describe
from tracker.fetch import (
    fetch_concurrently,
    fetch_feed,
    host_key,
    is_local,
    make_client,
    read_file,
)
from tracker.parse import feedparser_headers, html_to_text

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Mon, 27 Jan 2025 10:00:00 GMT"


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
    with pytest.raises(FetchError, match="not a regular file"):
        read_file("/dev/zero", etag='"file-1-0-0"')


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.fifo"
    os.mkfifo(fifo)
    outcome: list[FetchError] = []

    def attempt() -> None:
        for etag in (None, '"file-1-0-0"'):  # with a validator, it is looked at first
            try:
                read_file(str(fifo), etag=etag)
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
    assert [e.message for e in outcome] == ["not a regular file"] * 2


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


# --- issue 3: politeness, Retry-After, compression, connect timeout, DNS, many feeds ----------


def test_default_user_agent_names_the_project_and_its_url(http: HTTPServer) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("User-Agent", ""))
        return Response(FEED)

    http.expect_request("/feed").respond_with_handler(handler)
    with make_client() as c:
        fetch_feed(c, http.url_for("/feed"))
    assert seen[0].startswith("tracker/") and "(+https://" in seen[0]


@pytest.mark.parametrize(
    ("status", "value"), [(429, "120"), (503, "Mon, 27 Jan 2025 13:00:00 GMT")]
)
def test_retry_after_comes_with_the_error(
    http: HTTPServer, client: httpx.Client, status: int, value: str
) -> None:
    http.expect_request("/feed").respond_with_data(
        b"slow down", status=status, headers={"Retry-After": value}
    )
    with pytest.raises(FetchError) as caught:
        fetch_feed(client, http.url_for("/feed"))
    assert caught.value.status == status
    assert caught.value.retry_after == value


def test_retry_after_is_ignored_on_other_statuses(http: HTTPServer, client: httpx.Client) -> None:
    http.expect_request("/feed").respond_with_data(b"", status=404, headers={"Retry-After": "5"})
    with pytest.raises(FetchError) as caught:
        fetch_feed(client, http.url_for("/feed"))
    assert caught.value.retry_after is None


def test_deflate_body_is_decoded(http: HTTPServer, client: httpx.Client) -> None:
    big = FEED * 100
    http.expect_request("/feed").respond_with_data(
        zlib.compress(big), headers={"Content-Encoding": "deflate"}
    )
    assert fetch_feed(client, http.url_for("/feed")).body == big


def test_brotli_is_advertised_and_decoded(http: HTTPServer, client: httpx.Client) -> None:
    brotli = pytest.importorskip("brotli")
    big = FEED * 100
    seen: dict[str, str] = {}

    def handler(request: Request) -> Response:
        seen["accept-encoding"] = request.headers.get("Accept-Encoding", "")
        return Response(brotli.compress(big), headers={"Content-Encoding": "br"})

    http.expect_request("/feed").respond_with_handler(handler)
    assert fetch_feed(client, http.url_for("/feed")).body == big
    assert "br" in seen["accept-encoding"].split(", ")


def test_brotli_bomb_is_capped_after_decoding(http: HTTPServer, client: httpx.Client) -> None:
    brotli = pytest.importorskip("brotli")
    bomb = brotli.compress(b"\0" * (8 * 1024 * 1024))
    http.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "br"})
    with pytest.raises(FetchError, match="too large"):
        fetch_feed(client, http.url_for("/bomb"), max_bytes=1024 * 1024)


def test_wrong_content_type_is_passed_on_untouched(http: HTTPServer, client: httpx.Client) -> None:
    # Deciding what the bytes are is parse's job (feedparser sniffs them); fetch keeps both.
    http.expect_request("/feed").respond_with_data(FEED, content_type="text/html; charset=utf-8")
    fetched = fetch_feed(client, http.url_for("/feed"))
    assert fetched.body == FEED
    assert fetched.headers["content-type"] == "text/html; charset=utf-8"


def test_a_server_that_never_accepts_hits_the_connect_timeout() -> None:
    # A listening socket whose accept queue is full: the handshake never completes.
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        port = srv.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        try:
            with (
                make_client(timeout_seconds=5.0, connect_timeout_seconds=0.3) as c,
                pytest.raises(FetchError, match="timed out connecting") as caught,
            ):
                fetch_feed(c, f"http://127.0.0.1:{port}/feed", timeout_seconds=5.0)
        finally:
            for filler in fillers:
                filler.close()
    assert isinstance(caught.value.__cause__, httpx.ConnectTimeout)


def test_dns_failure_says_so() -> None:
    # Resolving a name is the one thing a loopback server cannot fail at; the transport
    # raises what httpx raises for a failed getaddrinfo.
    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known") from socket.gaierror(
            -2, "Name or service not known"
        )

    with (
        httpx.Client(transport=httpx.MockTransport(no_dns)) as c,
        pytest.raises(FetchError, match="cannot resolve host"),
    ):
        fetch_feed(c, "http://no-such-host.invalid/feed")


class InFlight:
    """Counts requests being served at once, per Host header and in total."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total = 0
        self.peak_total = 0

    def __call__(self, request: Request) -> Response:
        host = request.headers.get("Host", "").split(":")[0]
        with self.lock:
            self.now[host] = self.now.get(host, 0) + 1
            self.total += 1
            self.peak[host] = max(self.peak.get(host, 0), self.now[host])
            self.peak_total = max(self.peak_total, self.total)
        try:
            time.sleep(0.05)  # long enough for requests to overlap if nothing held them back
            return Response(FEED, content_type="application/rss+xml")
        finally:
            with self.lock:
                self.now[host] -= 1
                self.total -= 1


def test_fetch_concurrently_keeps_the_per_host_limit_on_the_server_side(
    http: HTTPServer,
) -> None:
    counter = InFlight()
    http.expect_request(re.compile(r"/f\d+\.xml")).respond_with_handler(counter)
    port = http.port
    # Two host names for the one server: 127.0.0.1 and localhost.
    urls = [f"http://127.0.0.1:{port}/f{i}.xml" for i in range(12)]
    urls += [f"http://localhost:{port}/f{i}.xml" for i in range(12)]
    with make_client(timeout_seconds=10.0) as c:
        results = list(
            fetch_concurrently(
                urls,
                lambda u: fetch_feed(c, u, timeout_seconds=10.0),
                host_of=host_key,
                concurrency=6,
                per_host=2,
            )
        )
    assert [u for u, _ in results] == urls  # in the order given
    assert all(not isinstance(r, FetchError) and r.body == FEED for _, r in results)
    assert set(counter.peak) == {"127.0.0.1", "localhost"}
    assert max(counter.peak.values()) <= 2
    assert counter.peak_total <= 4  # 2 hosts x 2, under the global 6


def test_the_per_host_limit_counts_a_redirect_against_the_host_it_goes_to(
    http: HTTPServer,
) -> None:
    # Feeds on two host names (127.0.0.1 and localhost, one server) all redirect to a third
    # host, 127.0.0.2 (the loopback network): with one request per host, the third host must
    # never see two at once, although two origin hosts send their feeds there in parallel.
    target = HTTPServer(host="127.0.0.2", port=0, threaded=True)
    target.start()
    try:
        counter = InFlight()
        target.expect_request(re.compile(r"/t\d+\.xml")).respond_with_handler(counter)
        for i in range(8):
            http.expect_request(f"/f{i}.xml").respond_with_data(
                b"", status=302, headers={"Location": target.url_for(f"/t{i}.xml")}
            )
        port = http.port
        urls = [f"http://127.0.0.1:{port}/f{i}.xml" for i in range(0, 8, 2)]
        urls += [f"http://localhost:{port}/f{i}.xml" for i in range(1, 8, 2)]
        with make_client(timeout_seconds=10.0) as c:
            results = list(
                fetch_concurrently(
                    urls,
                    lambda u: fetch_feed(c, u, timeout_seconds=10.0),
                    host_of=host_key,
                    concurrency=4,
                    per_host=1,
                )
            )
        assert all(not isinstance(r, FetchError) and r.body == FEED for _, r in results)
        assert [r.final_url for _, r in results] == [  # type: ignore[union-attr]
            target.url_for(f"/t{u.rsplit('/f', 1)[1].split('.')[0]}.xml") for u in urls
        ]
        assert counter.peak == {"127.0.0.2": 1}
    finally:
        target.clear()
        if target.is_running():
            target.stop()


def test_fetch_concurrently_yields_errors_and_goes_on(http: HTTPServer) -> None:
    http.expect_request("/ok.xml").respond_with_data(FEED)
    http.expect_request("/bad.xml").respond_with_data(b"no", status=500)
    urls = [http.url_for("/bad.xml"), http.url_for("/ok.xml"), "/no/such/file.xml"]
    with make_client() as c:
        results = dict(
            fetch_concurrently(
                urls, lambda u: fetch_feed(c, u), host_of=host_key, concurrency=3, per_host=1
            )
        )
    assert isinstance(results[urls[0]], FetchError)
    assert not isinstance(results[urls[1]], FetchError)
    assert isinstance(results[urls[2]], FetchError)


def test_host_key() -> None:
    assert host_key("https://Feeds.Example.com:8443/x") == "feeds.example.com"
    assert host_key("/tmp/feed.xml") is None and host_key("file:///tmp/x") is None
    assert host_key("http://[::1") is None


# --- the feed-robustness corpus's encoding cases, over real HTTP -------------------------------

ENCODING = Path(__file__).parent / "data" / "fetch" / "encoding"
_HEADER_CODECS = ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")


def corpus_case(path: Path) -> tuple[str | None, str]:
    """A case file's ``Header: Content-type: ...`` (or None) and its ``Expect:`` expression.

    The comment header is written in the file's own encoding (UTF-16, UTF-32, EUC-KR...), so
    try the codecs that can spell "Expect:", then Latin-1, which reads any bytes.
    """
    data = path.read_bytes()
    for codec in (*_HEADER_CODECS, "latin-1"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        expect = re.search(r"Expect:\s*(.*?)\s*(?:-->|$)", text, re.MULTILINE)
        if expect:
            header = re.search(r"Header:\s*Content-type:\s*(.*?)\s*$", text, re.MULTILINE)
            return (header.group(1) if header else None), expect.group(1)
    raise AssertionError(f"{path.name}: no Expect: line")


ENCODING_CASES = sorted(ENCODING.glob("*.xml"))

# Cases whose Expect: line holds only with feedparser's own HTML sanitiser, which tracker.parse
# turns off (nh3 cleans instead). The characters are decoded identically; what differs is
# HTML clean-up, and the value our html_to_text makes of it is given here, with why.
ENCODING_DIFFERENCES: dict[str, tuple[str, str]] = {
    # feedparser's sanitiser drops the stray "<>" of the CDATA; as text we keep it.
    "bozo_linenoise.xml": ("\xe2\u20ac\u2122<>\xe2\u20ac\x9d\u0160", "sanitiser drops '<>'"),
    # The sanitiser rewrites the cp1252 reference &#146; to &#x2019;; html.unescape maps it
    # to the same U+2019 through HTML's table of cp1252 references.
    "demoronize-3.xml": ("don\u2019t", "sanitiser rewrites &#146; to &#x2019;"),
}


def test_encoding_corpus_is_present() -> None:
    assert len(ENCODING_CASES) == 82


@pytest.mark.parametrize("path", ENCODING_CASES, ids=[p.name for p in ENCODING_CASES])
def test_encoding_case_comes_out_right_over_http(
    http: HTTPServer, client: httpx.Client, path: Path
) -> None:
    """Served with the case's Content-Type, fetched by us, the Expect: line holds.

    The expression is evaluated against what feedparser makes of the fetched bytes and
    headers with the options tracker.parse uses, the way feedparser's own suite evaluates it.
    """
    content_type, expect = corpus_case(path)
    body = path.read_bytes()

    def handler(request: Request) -> Response:
        response = Response(body)
        del response.headers["Content-Type"]
        if content_type is not None:
            response.headers["Content-Type"] = content_type
        return response

    http.expect_request("/case").respond_with_handler(handler)
    fetched = fetch_feed(client, http.url_for("/case"))
    assert fetched.body == body  # no transcoding on the way
    assert fetched.headers.get("content-type") == content_type
    result = feedparser.parse(
        io.BytesIO(fetched.body),
        response_headers=feedparser_headers(fetched.headers),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if path.name in ENCODING_DIFFERENCES:
        ours, _why = ENCODING_DIFFERENCES[path.name]
        assert html_to_text(result["entries"][0]["summary"]) == ours
        # With feedparser's sanitiser on, the same bytes and headers meet the Expect: line.
        result = feedparser.parse(
            io.BytesIO(fetched.body), response_headers=feedparser_headers(fetched.headers)
        )
    assert eval(expect, {"feedparser": feedparser}, result), expect


def test_a_settled_local_file_has_a_validator_and_answers_304_while_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    fresh = read_file(str(path))
    assert fresh.body == FEED and fresh.etag is None  # just written: may change again unseen
    old = time.time() - 60
    os.utime(path, (old, old))
    first = read_file(str(path))
    assert first.body == FEED and first.etag
    again = read_file(str(path), etag=first.etag)
    assert again.not_modified and again.status == 304 and again.etag == first.etag
    # A new version (same size, written later) is read again.
    path.write_bytes(FEED.replace(b"a", b"b", 1))
    os.utime(path, (old + 1, old + 1))
    changed = read_file(str(path), etag=first.etag)
    assert changed.body == FEED.replace(b"a", b"b", 1) and changed.etag != first.etag
    # fetch_feed passes the validator on for local files too.
    with make_client() as c:
        assert fetch_feed(c, path.as_uri(), etag=changed.etag).not_modified
