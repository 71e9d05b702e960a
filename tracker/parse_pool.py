"""Parse a big batch of fetched documents in worker processes while the caller stores (issue 8).

    retrieve (threads) -> ParsePool.ahead: parse_feed in N processes, results in order
                       -> App.ingest in the one thread that owns the database
                       -> Commits: a commit every 16 feeds, 2,000 entries or second

A worker hands back the feed and its entries as rows ready to store (``Ahead``), so the one
process that stores, which a big first fetch keeps as busy as a worker, does little more per
entry than SQLite does. Each feed's entries and fetch state are one savepoint, committed
together with the feeds before it (``Store.batched``): a commit per feed was a third of
storing.

Parsing (lxml, cleaning, the text of titles and summaries) is most of a large first fetch
and is pure CPU, so threads cannot share it out. Workers are new interpreters ("spawn"), not
forks: a fork would inherit the database lock's file and every lock another thread held at
that moment, and a fork stuck on such a lock before it could arrange to die with its parent
was seen to outlive a killed run, holding the database lock. A spawned worker inherits only
its pipes, so it ends when its parent does (the pipe closes), and it is also told to
(PR_SET_PDEATHSIG).
Each worker asks the database which entries are known through its own read-only connection
(``KnownIds``), so entries stored before the batch are not cleaned again. An entry that
an earlier feed of the same batch stores after a worker looked (or that is not committed
yet) is cleaned, then found known when stored: the rows stored are the same as parsing one
feed after the other.

Small batches, a database in memory, or one CPU: no pool, ``ahead`` parses nothing and
App.ingest parses as before. Workers start only once the documents that need parsing add up
to START_BYTES, so a small first fetch, or a fetch where little changed, costs no start-up;
the caller goes on with the documents before that while they start.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self, TypeVar

from tracker import parse as parsing
from tracker.errors import FeedError, ParseError
from tracker.models import Feed, Fetched, ParsedFeed
from tracker.rows import KnownIds, entry_values

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

MIN_FEEDS = 24  # below this a batch is parsed in the caller: a pool would cost more than it saves
#: Workers start once the documents that needed parsing add up to this many bytes.
START_BYTES = 4 * 1024 * 1024
_R = TypeVar("_R")

# One read-only connection per worker process and database.
_known: dict[Path, KnownIds] = {}


def workers_for(feeds: int, db_path: Path | None, wanted: int | None = None) -> int:
    """How many worker processes a batch of ``feeds`` gets: 0 means parse in the caller.

    ``wanted`` None chooses: one per CPU for a batch of MIN_FEEDS or more.
    """
    if db_path is None or feeds < 2 or not sys.platform.startswith("linux"):
        return 0  # (Linux: workers are told to die with their parent, see below)
    if wanted is not None:
        return max(wanted, 0)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cpus if cpus is not None and cpus > 1 and feeds >= MIN_FEEDS else 0


class Ahead(NamedTuple):
    """A document a worker parsed: the feed without its entries, and the entries as
    ``store.entry_values`` rows, ready to store (and cheaper to send back than Entry
    objects: the one process that stores does less per entry, issue 8)."""

    parsed: ParsedFeed
    values: tuple[tuple[Any, ...], ...]


class ParsePool:
    """Worker processes parsing ahead of the caller, results handed back in order."""

    def __init__(self, db_path: Path | None, workers: int, start_bytes: int = START_BYTES) -> None:
        self.db_path = db_path
        self.workers = workers if db_path is not None else 0
        self.start_bytes = start_bytes
        self._seen = 0  # bytes of the documents that needed parsing so far
        self._executor: ProcessPoolExecutor | None = None

    def start(self, wait: bool = True) -> None:
        """Start the workers (at once; ``ahead`` does when the batch proves big enough).

        ``wait`` False returns while they start up: ``ahead`` goes on with what the caller
        parses meanwhile (the documents before the threshold).
        """
        if self._executor is not None or self.workers <= 0:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
        )
        started = [self._executor.submit(os.getpid) for _ in range(self.workers)]
        for worker in started if wait else ():
            worker.result()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def ahead(
        self,
        pairs: Iterable[tuple[Feed, _R]],
        now: Callable[[], datetime],
    ) -> Iterator[tuple[Feed, _R, Callable[[], Ahead] | None]]:
        """Each (feed, result) with a function giving its parsed feed, or None.

        None when there is no pool or nothing to parse (an error, a 304, an unchanged body):
        the caller does what it did without a pool. The function raises ParseError as
        parse_feed would.
        """
        if self.workers <= 0:
            for feed, result in pairs:
                yield feed, result, None
            return
        pending: deque[tuple[Feed, _R, Callable[[], Ahead] | None]] = deque()
        for feed, result in pairs:
            pending.append((feed, result, self._submit(feed, result, now())))
            if len(pending) > 4 * self.workers:
                yield pending.popleft()
        while pending:
            yield pending.popleft()

    def _submit(self, feed: Feed, result: Any, now: datetime) -> Callable[[], Ahead] | None:
        if not isinstance(result, Fetched) or result.body is None or result.not_modified:
            return None
        if hashlib.sha256(result.body).hexdigest() == feed.body_hash:
            return None  # App.ingest skips an unchanged body without parsing it
        if self._executor is None:
            # Until the documents to parse add up to start_bytes, the caller parses them: a
            # small first fetch, or a later one where little changed, would spend more on
            # starting the workers (about 0.3 s) than they save.
            self._seen += len(result.body)
            if self._seen < self.start_bytes:
                return None
            self.start(wait=False)
        assert self._executor is not None and self.db_path is not None
        future = self._executor.submit(
            _parse, result, feed.url, now, feed.outlet or feed.title, self.db_path, feed.identity
        )
        return lambda: _outcome(future, feed.url)


class Commits:
    """When App.fetch commits the feeds it stored (``Store.batched``), and its progress calls.

    Every ``feeds`` feeds, ``entries`` new entries or ``seconds`` since the first feed not
    committed, whichever comes first: a commit per feed was a third of storing a big first
    fetch (issue 8). ``progress`` is called for each feed once it is committed, in order.
    """

    def __init__(
        self,
        commit: Callable[[], None],
        progress: Callable[[Feed], None] | None = None,
        *,
        feeds: int = 16,
        entries: int = 2000,
        seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._commit, self._progress, self._clock = commit, progress, clock
        self.feeds, self.entries, self.seconds = feeds, entries, seconds
        self._pending: list[Feed] = []
        self._new = 0
        self._since = 0.0

    def stored(self, feed: Feed, new_entries: int) -> None:
        """``feed`` was written (its transaction ended); commit if it is time to."""
        if not self._pending:
            self._since = self._clock()
        self._pending.append(feed)
        self._new += new_entries
        if (
            len(self._pending) >= self.feeds
            or self._new >= self.entries
            or self._clock() - self._since >= self.seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Commit now, then report the feeds committed."""
        if not self._pending:
            return
        self._commit()
        done, self._pending, self._new = self._pending, [], 0
        if self._progress is not None:
            for feed in done:
                self._progress(feed)


def _start_worker(parent: int) -> None:
    """In a new worker: die with the process that started it, and leave signals to it.

    If the parent is killed (kill -9, tests/test_crash.py), a worker left alive would waste
    a CPU and memory until its pipe closed; Linux kills it with the parent
    (PR_SET_PDEATHSIG). Ctrl-C and a SIGTERM to the process group are for the parent, which
    then shuts the pool down.
    """
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the line above
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _outcome(future: Future[Ahead | str], feed_url: str) -> Ahead:
    outcome = future.result()
    if isinstance(outcome, str):
        raise ParseError(feed_url, outcome)
    return outcome


def _parse(
    fetched: Fetched, feed_url: str, now: datetime, outlet: str, db_path: Path, identity: str
) -> Ahead | str:
    """In a worker: parse_feed, or the message of its ParseError (errors do not pickle)."""
    known = _known.get(db_path)
    if known is None:
        known = _known[db_path] = KnownIds(db_path)
    try:
        parsed = parsing.parse_feed(
            fetched, feed_url=feed_url, now=now, outlet=outlet, known=known, identity=identity
        )
    except FeedError as e:
        return e.message
    # What App.ingest does next with the entries of a feed with no outlet or title yet (a
    # first fetch), done here so that the one process that stores does not spend its time
    # on it.
    fallback = outlet or parsed.title
    values = tuple(entry_values(e, fallback) for e in parsed.entries)
    return Ahead(replace(parsed, entries=()), values)
