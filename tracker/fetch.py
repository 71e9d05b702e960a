"""Retrieve one feed document: a single GET with conditional headers and limits -> Fetched.

HTTP(S) goes through an httpx client; ``file://`` URLs and plain paths are read from disk.
Nothing here parses, decides schedules or touches the database::

    url, etag, last_modified  ->  fetch_feed  ->  Fetched(status, body | None, headers, ...)

Redirects are followed here, not by httpx, so that a chain made only of 301/308 can be told
apart from a temporary one: only a permanent move may rewrite the stored feed URL.

Many feeds at once go through ``fetch_concurrently``: a global limit (the thread pool) and a
per-host limit (a semaphore per host name, held for each request, counted against the host
the request goes to: a redirect to another host counts there), so several feeds on one server,
or redirected to it, never hit it harder than ``per_host`` requests at a time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from tracker import __version__
from tracker.errors import FeedError, FetchError
from tracker.models import Fetched

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Names the project and where to read about it, so a server's admin knows who is asking.
DEFAULT_USER_AGENT = f"tracker/{__version__} (+https://github.com/tracker-news/tracker)"
DEFAULT_CONNECT_TIMEOUT = 10.0

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# Statuses whose Retry-After header says when to come back (RFC 9110 10.2.3).
_RETRY_AFTER = frozenset({429, 503})


def _accept_encoding() -> str:
    # httpx decodes br only when a brotli binding is installed; never advertise what we
    # cannot decode.
    has_brotli = any(importlib.util.find_spec(m) for m in ("brotli", "brotlicffi"))
    return "gzip, deflate, br" if has_brotli else "gzip, deflate"


def make_client(
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout_seconds: float = 20.0,
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT,
    max_connections: int = 100,
) -> httpx.Client:
    """An HTTP/1.1 client that does not follow redirects (fetch_feed follows them itself).

    ``connect_timeout_seconds`` bounds the TCP (and TLS) handshake; ``timeout_seconds`` each
    read, and fetch_feed also makes it the deadline of a whole exchange.
    """
    return httpx.Client(
        headers={
            "User-Agent": user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": _accept_encoding(),
        },
        timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        follow_redirects=False,
        http1=True,
        http2=False,
    )


def is_local(url: str) -> bool:
    """True for ``file://`` URLs and plain paths, i.e. anything without an http(s) scheme."""
    # A prefix test, not urlsplit: that raises on malformed URLs ("https://[::1").
    return not url.strip().lower().startswith(("http:", "https:"))


def fetch_feed(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_seconds: float = 20.0,
    max_redirects: int = 5,
) -> Fetched:
    """GET ``url`` (or read it from disk when local) and return what came back.

    Raises FetchError for network failures, timeouts, 4xx/5xx statuses (``status`` set),
    redirect loops and bodies over ``max_bytes``.
    """
    if is_local(url):
        return read_file(url, max_bytes=max_bytes, etag=etag)
    deadline = time.monotonic() + timeout_seconds
    headers = _conditional_headers(etag, last_modified)
    try:
        return _fetch_http(client, url, headers, deadline, max_bytes, max_redirects)
    except httpx.ConnectTimeout as e:
        raise FetchError(url, "timed out connecting") from e
    except httpx.TimeoutException as e:
        raise FetchError(url, "timed out") from e
    except httpx.ConnectError as e:
        if _caused_by(e, socket.gaierror):
            raise FetchError(url, "cannot resolve host") from e
        raise FetchError(url, "cannot connect") from e
    except httpx.DecodingError as e:
        raise FetchError(url, "cannot decode response body") from e
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
        raise FetchError(url, "invalid url") from e
    except httpx.HTTPError as e:
        raise FetchError(url, "cannot fetch feed") from e


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is anywhere in the chain of causes and contexts under ``error``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind) or any(isinstance(a, kind) for a in current.args):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpx.ReadTimeout("total time limit for the exchange passed")
    return left


def _fetch_http(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    max_redirects: int,
) -> Fetched:
    current, seen, permanent = url, {url}, True
    for _ in range(max_redirects + 1):
        # Each hop gets only the time left, so the whole exchange keeps one deadline.
        left = _remaining(deadline)
        connect = client.timeout.connect
        timeout = httpx.Timeout(left, connect=min(connect, left) if connect else left)
        request = client.build_request("GET", current, headers=headers, timeout=timeout)
        with _host_gate(current):
            response = client.send(request, stream=True)
            try:
                target = _redirect_target(url, current, response)
                if target is None:
                    moved = permanent and current != url
                    return _finish(url, current, moved, response, headers, deadline, max_bytes)
            finally:
                response.close()
        if target in seen:
            raise FetchError(url, "redirect loop")
        seen.add(target)
        permanent = permanent and response.status_code in _PERMANENT
        current = target
    raise FetchError(url, f"too many redirects (over {max_redirects})")


def _redirect_target(url: str, current: str, response: httpx.Response) -> str | None:
    """Where a redirect points, or None when the response is not a redirect."""
    location: str | None = response.headers.get("location")
    if response.status_code not in _REDIRECTS or not location:
        return None
    try:
        target = urljoin(current, location.strip())
        scheme = urlsplit(target).scheme.lower()
    except ValueError as e:
        raise FetchError(url, "invalid redirect location", status=response.status_code) from e
    if scheme not in ("http", "https"):
        # A server must not be able to point us at file:// or another scheme.
        raise FetchError(url, "redirect to a non-http url", status=response.status_code)
    return target


def _finish(
    url: str,
    final_url: str,
    moved: bool,
    response: httpx.Response,
    sent: dict[str, str],
    deadline: float,
    max_bytes: int,
) -> Fetched:
    status = response.status_code
    headers = {k.lower(): v for k, v in response.headers.items()}
    if status == 304:
        body = None
    elif 200 <= status < 300:
        body = _read_body(url, response, deadline, max_bytes)
    else:
        retry = headers.get("retry-after") if status in _RETRY_AFTER else None
        message = f"HTTP {status} {_reason(response)}".strip()
        raise FetchError(url, message, status=status, retry_after=retry)
    return Fetched(
        url=url,
        status=status,
        body=body,
        headers=headers,
        final_url=final_url,
        permanent_url=final_url if moved else None,
        # A 304 may omit the validators; the ones we sent are still the right ones.
        etag=headers.get("etag") or (sent.get("If-None-Match") if body is None else None),
        last_modified=headers.get("last-modified")
        or (sent.get("If-Modified-Since") if body is None else None),
    )


def _reason(response: httpx.Response) -> str:
    """The standard reason phrase; servers send their own spelling, or none (HTTP/2)."""
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError(url, f"response body too large (over {max_bytes} bytes)")


def _read_body(url: str, response: httpx.Response, deadline: float, max_bytes: int) -> bytes:
    """The decoded body, aborting past ``max_bytes`` or the deadline."""
    declared = response.headers.get("content-length", "")
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    if declared.isdigit() and int(declared) > max_bytes and not encoded:
        raise _too_large(url, max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(url, max_bytes)
        chunks.append(chunk)
        _remaining(deadline)
    return b"".join(chunks)


#: A file changed less than this long ago may change again within the clock's granularity
#: without its size or time changing, so it gets no validator yet ("racily clean" in git).
_SETTLED_SECONDS = 2.0


def read_file(
    url_or_path: str, *, max_bytes: int = DEFAULT_MAX_BYTES, etag: str | None = None
) -> Fetched:
    """Read a local feed file (``file://`` URL or path) as a 200 response.

    The response's ``etag`` names the file's version (inode, size, modification time), as a
    web server's does; given back as ``etag``, an unchanged file answers like a 304 (no body)
    without being read. A file modified in the last ``_SETTLED_SECONDS`` gets no validator,
    since a second write within the clock's granularity could leave all three the same.
    """
    path = _local_path(url_or_path)
    if etag is not None:
        # An unchanged file is answered from its status alone, without opening it (issue 8:
        # most of a second fetch over local files).
        with contextlib.suppress(OSError):
            info = os.stat(path)
            same = stat.S_ISREG(info.st_mode) and _file_version(info) == etag
            if same and os.access(path, os.R_OK):  # (one it can no longer read fails below)
                return Fetched(url=url_or_path, status=304, body=None, etag=etag)
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer before we can look at it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        with os.fdopen(os.open(path, flags), "rb") as f:
            info = os.fstat(f.fileno())
            # FIFOs and devices (/dev/zero) would block or never end.
            if not stat.S_ISREG(info.st_mode):
                raise FetchError(url_or_path, "not a regular file")
            version = _file_version(info)
            if etag is not None and version == etag:
                return Fetched(url=url_or_path, status=304, body=None, etag=etag)
            if info.st_size > max_bytes:
                raise _file_too_large(url_or_path, max_bytes)
            body = f.read(max_bytes + 1)
    except OSError as e:
        raise FetchError(url_or_path, "cannot read file") from e
    if len(body) > max_bytes:  # the file grew while we read it
        raise _file_too_large(url_or_path, max_bytes)
    return Fetched(url=url_or_path, status=200, body=body, etag=version)


def _file_version(info: os.stat_result) -> str | None:
    """A local file's validator, like a web server's ETag; None while it may still change."""
    if time.time() - info.st_mtime < _SETTLED_SECONDS:
        return None
    return f'"file-{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}"'


def _file_too_large(url_or_path: str, max_bytes: int) -> FetchError:
    return FetchError(url_or_path, f"file too large (over {max_bytes} bytes)")


def _local_path(url_or_path: str) -> Path:
    """The path a ``file://`` URL or plain path names; other schemes are refused."""
    text = url_or_path.strip()
    try:
        parts = urlsplit(text)
    except ValueError as e:  # "//[x": a broken authority
        raise FetchError(url_or_path, "invalid file url") from e
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError(url_or_path, "file url names another host")
        return Path(url2pathname(parts.path))
    # One letter is a Windows drive (C:\feeds\x.xml), not a scheme.
    if len(scheme) > 1:
        raise FetchError(url_or_path, f"unsupported url scheme {scheme!r}")
    return Path(text)


# --- many feeds at once ---------------------------------------------------------------------


def host_key(url: str) -> str | None:
    """The host that a per-host limit counts ``url`` against; None for local files."""
    if is_local(url):
        return None
    try:
        return (urlsplit(url.strip()).hostname or "").lower() or None
    except ValueError:
        return None


class _HostGates:
    """One semaphore per host name, made when a host is first met (redirects find new ones)."""

    def __init__(self, per_host: int) -> None:
        self.per_host = max(per_host, 1)
        self.lock = threading.Lock()
        self.gates: dict[str, threading.BoundedSemaphore] = {}

    def __call__(self, host: str) -> threading.BoundedSemaphore:
        with self.lock:
            if host not in self.gates:
                self.gates[host] = threading.BoundedSemaphore(self.per_host)
            return self.gates[host]


# The per-host limits of the ``fetch_concurrently`` call whose work this thread is doing;
# unset outside one (a single fetch waits for no one).
_WORKER = threading.local()


def _host_gate(url: str) -> contextlib.AbstractContextManager[object]:
    """The per-host limit a request to ``url`` must hold, if a batch set one on this thread."""
    gates: _HostGates | None = getattr(_WORKER, "gates", None)
    host = host_key(url)
    if gates is None or host is None:
        return contextlib.nullcontext()
    return gates(host)


def _round_robin(items: Sequence[T], host_of: Callable[[T], str | None]) -> list[int]:
    """Indexes of ``items`` taking one per host in turn, so that queued work is spread out.

    Workers that pick tasks in this order rarely all wait on one busy host's limit.
    """
    queues: dict[str | None, deque[int]] = {}
    for i, item in enumerate(items):
        queues.setdefault(host_of(item), deque()).append(i)
    order: list[int] = []
    while queues:
        for host in list(queues):
            order.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return order


def fetch_concurrently(
    items: Sequence[T],
    get: Callable[[T], R],
    *,
    host_of: Callable[[T], str | None],
    concurrency: int,
    per_host: int,
) -> Iterator[tuple[T, R | FeedError]]:
    """Run ``get`` over ``items`` on ``concurrency`` threads, at most ``per_host`` per host.

    Results come back in the order of ``items`` (so what the caller stores is deterministic)
    while later items are still being fetched. A FeedError is yielded, not raised: one bad
    feed never stops a batch. Other exceptions are bugs and propagate.
    """
    if all(host_of(item) is None for item in items):
        # Local files only: reading them is quick, and threads would cost more than they save.
        for item in items:
            try:
                yield item, get(item)
            except FeedError as e:
                yield item, e
        return
    gates = _HostGates(per_host)

    def one(item: T) -> R | FeedError:
        # Each request ``get`` makes through fetch_feed holds the limit of the host it goes
        # to, for that request only: a feed redirected to another host counts there, and a
        # worker never holds one host's turn while it waits for another's.
        _WORKER.gates = gates
        try:
            return get(item)
        except FeedError as e:
            return e
        finally:
            _WORKER.gates = None

    pool = ThreadPoolExecutor(max_workers=max(min(concurrency, len(items)), 1))
    try:
        futures: dict[int, Future[R | FeedError]] = {}
        for i in _round_robin(items, host_of):
            futures[i] = pool.submit(one, items[i])
        for i, item in enumerate(items):
            yield item, futures[i].result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
