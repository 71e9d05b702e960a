"""Use cases: the one place that opens the database, the HTTP client and SMTP.

The pipeline, as a shell pipeline would read::

    feeds due | fetch | parse | store entries      App.fetch()     (one bad feed never stops it)
    unclustered entries | assign to stories         App.cluster()
    stories | match topics                          App.update_topics()
    stories of day D | rank | render               App.digest(D), App.build_site()
    digest | email                                  App.write_email(), App.send_email()

Deciding lives in the pure modules (parse, cluster, topics, digest, render); this module does
the doing. Time comes from one seam, ``App.now()``, so the demo and tests can set the clock.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from tracker import cluster as clustering
from tracker import digest as digesting
from tracker import fetch as fetching
from tracker import parse as parsing
from tracker import parse_pool, schedule_policy, trends
from tracker import topics as topicking
from tracker.config import Config
from tracker.errors import FeedError, MailError, describe
from tracker.models import (
    Burst,
    Digest,
    Doc,
    EmergingTerm,
    Entry,
    Feed,
    FeedHealth,
    FeedState,
    Fetched,
    Story,
    Topic,
    TopicDay,
    TopicPage,
)
from tracker.rows import VALUE_ID, VALUE_PUBLISHED, entry_values, ts
from tracker.store import Store
from tracker.trends import DayNames
from tracker.trends import Text as TrendText

if TYPE_CHECKING:
    import threading

    import httpx

    from tracker.discover import Candidate
    from tracker.lock import DatabaseLock
    from tracker.render import Renderer
    from tracker.site import SiteReport

# A feed is fetched hourly until its entries say how often it publishes (then the adaptive
# schedule of tracker.schedule_policy takes over); a failing one backs off exponentially from
# 15 minutes, capped at a day so a failing feed is never silently dropped.
FETCH_INTERVAL = timedelta(hours=1)
BACKOFF_START = timedelta(minutes=15)
BACKOFF_CAP = timedelta(days=1)
#: The digest names a feed once it has been failing for this long.
FAILING_NOTICE = timedelta(days=1)


log = logging.getLogger("tracker.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FetchReport:
    """What one fetch round did."""

    fetched: int = 0
    not_modified: int = 0
    new_entries: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old URL, new URL)
    gone: list[str] = field(default_factory=list)  # retired by 410 Gone this round


@dataclass(frozen=True)
class TopicTest:
    """What a topic definition would match over the stored stories (``tracker topics test``)."""

    topic: Topic
    timeline: tuple[TopicDay, ...]
    stories: int
    entries: int
    sample: tuple[tuple[str, str], ...]  # (headline, matched terms), newest first


@dataclass(frozen=True)
class AddResult:
    """What ``tracker feeds add`` did.

    ``outcome`` is added, reactivated, known, or several (nothing added: ``candidates`` holds
    the feeds the page links to, best first).
    """

    url: str
    outcome: str
    title: str = ""
    candidates: tuple[Candidate, ...] = ()


@dataclass
class ImportReport:
    """What an OPML import did, URL by URL."""

    added: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


@dataclass(frozen=True)
class RunReport:
    fetch: FetchReport
    clustered: int
    day: date
    pages_written: int
    email: str | None
    pruned: int = 0  # entries whose bodies retention deleted this run (issue 7)


def backoff(error_count: int) -> timedelta:
    """The wait after the ``error_count``-th consecutive failure (before jitter)."""
    return schedule_policy.backoff(error_count, schedule_policy.DEFAULT_POLICY)


class App:
    """The use cases over one configuration."""

    # Parse worker processes for a big fetch: None chooses (tracker/parse_pool.py), 0 never.
    parse_workers: int | None = None

    def __init__(self, config: Config, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self.clock = clock
        self._store: Store | None = None
        self._renderer: Renderer | None = None

    # --- seams ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.database)
            self.sync_feeds()
        return self._store

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            from tracker.render import Renderer

            self._renderer = Renderer(
                base_url=self.config.site.base_url, tz_name=self.config.timezone
            )
        return self._renderer

    def lock(self, *, wait: float = 0, cancel: threading.Event | None = None) -> DatabaseLock:
        """The database's run lock: ``tracker run``, ``fetch`` and the daemon's jobs hold it.

        ``with app.lock():`` raises BusyError at once when another run holds it (``wait``
        seconds later with ``wait``); see tracker.lock.
        """
        from tracker.lock import DatabaseLock

        return DatabaseLock(self.config.database, wait=wait, cancel=cancel)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync_feeds(self) -> None:
        """Make the database know every feed of config.yaml (config names win).

        A feed config.yaml added and no longer lists is marked removed (its entries stay);
        one that moved (301/308) is found by its old URL, so it is not added twice.
        """
        store = self.store
        with store.transaction():
            for f in self.config.feeds:
                store.upsert_feed(
                    f.url,
                    outlet=f.outlet,
                    title=f.title,
                    aggregator=f.aggregator,
                    source="config",
                    now=self.now(),
                    category=f.category,
                )
            store.retire_config_feeds(f.url for f in self.config.feeds)

    # --- fetch ----------------------------------------------------------------------------

    def fetch_policy(self) -> schedule_policy.Policy:
        """The schedule's bounds from config.yaml ``fetch``."""
        cfg = self.config.fetch
        low = timedelta(minutes=cfg.min_interval_minutes)
        high = timedelta(minutes=cfg.max_interval_minutes)
        return schedule_policy.Policy(
            min_interval=low,
            max_interval=high,
            default_interval=min(max(FETCH_INTERVAL, low), high),
            backoff_start=min(BACKOFF_START, high),
        )

    def feeds_to_fetch(self, *, all_feeds: bool = False) -> list[Feed]:
        """The feeds due now (or every active one): what ``fetch`` would fetch."""
        if all_feeds:
            return [f for f in self.store.feeds() if f.status == "active"]
        return self.store.due_feeds(self.now())

    def fetch(
        self,
        *,
        all_feeds: bool = False,
        feeds: Sequence[Feed] | None = None,
        progress: Callable[[Feed], None] | None = None,
    ) -> FetchReport:
        """Fetch due feeds (or all, or ``feeds``), store new entries; failures are recorded.

        ``progress`` is called once per feed, after it was stored, in the caller's thread.
        """
        todo = list(feeds) if feeds is not None else self.feeds_to_fetch(all_feeds=all_feeds)
        report = FetchReport()
        # Issue 8: a big batch is parsed ahead in worker processes (tracker/parse_pool.py).
        path = self.store.path
        workers = parse_pool.workers_for(len(todo), path, self.parse_workers)
        # Workers chosen by hand (tests, benches) start at once; chosen here, when needed.
        start = 0 if self.parse_workers else parse_pool.START_BYTES
        # Each feed's transaction is whole; several are committed together (Store.batched).
        with (
            parse_pool.ParsePool(path, workers, start) as pool,
            self.store.batched() as commit,
        ):
            commits = parse_pool.Commits(commit, progress)
            for feed, result, ahead in pool.ahead(self._retrieve(todo), self.now):
                new = 0
                if isinstance(result, FeedError):
                    self._record_failure(feed, result, report)
                    log.debug("failed: %s", describe(result))
                else:
                    new = self.ingest(feed, result, report, parsed_ahead=ahead)
                    log.debug("fetched %s: %d new entries", feed.url, new)
                commits.stored(feed, new)
            commits.flush()
        return report

    def _retrieve(self, feeds: Sequence[Feed]) -> Iterator[tuple[Feed, Fetched | FeedError]]:
        """Retrieve feeds concurrently, in order; only the caller's thread touches the database.

        At most ``fetch.concurrency`` requests at once, and ``fetch.per_host`` to one host.
        """
        cfg = self.config.fetch
        client: httpx.Client | None = None
        if any(not fetching.is_local(f.url) for f in feeds):
            client = fetching.make_client(
                user_agent=cfg.user_agent,
                timeout_seconds=cfg.timeout_seconds,
                connect_timeout_seconds=cfg.connect_timeout_seconds,
                max_connections=max(cfg.concurrency, 1),
            )

        def one(feed: Feed) -> Fetched:
            if fetching.is_local(feed.url):
                return fetching.read_file(feed.url, max_bytes=cfg.max_bytes, etag=feed.etag)
            assert client is not None
            return fetching.fetch_feed(
                client,
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                max_bytes=cfg.max_bytes,
                timeout_seconds=cfg.timeout_seconds,
            )

        try:
            yield from fetching.fetch_concurrently(
                feeds,
                one,
                host_of=lambda f: fetching.host_key(f.url),
                concurrency=cfg.concurrency,
                per_host=cfg.per_host,
            )
        finally:
            if client is not None:
                client.close()

    def _record_failure(self, feed: Feed, error: FeedError, report: FetchReport) -> None:
        """Note the error on the feed and back off; 410 Gone retires it (kept, not fetched)."""
        now = self.now()
        message = describe(error)
        gone = getattr(error, "status", None) == 410
        wait = schedule_policy.retry_after(getattr(error, "retry_after", None), now)
        next_fetch = schedule_policy.next_after_failure(
            feed.url,
            now,
            error_count=feed.error_count + 1,
            retry_after=wait,
            policy=self.fetch_policy(),
        )
        with self.store.transaction():
            self.store.record_error(feed.url, message, now=now, next_fetch=next_fetch, gone=gone)
        report.failed.append((feed.url, message))
        if gone:
            report.gone.append(feed.url)

    def ingest(
        self,
        feed: Feed,
        fetched: Fetched,
        report: FetchReport | None = None,
        *,
        parsed_ahead: Callable[[], parse_pool.Ahead] | None = None,
    ) -> int:
        """Parse one retrieved document and store its new entries, all in one transaction.

        A 304, or a body identical to the last one (by hash) when the server sends no
        validators, is not parsed at all. ``parsed_ahead`` gives the document already parsed
        (by a worker process, tracker/parse_pool.py) instead of parsing it here.
        """
        report = report if report is not None else FetchReport()
        now = self.now()
        store = self.store
        policy = self.fetch_policy()
        fresh_for = schedule_policy.cache_lifetime(fetched.headers, now)
        body_hash = hashlib.sha256(fetched.body).hexdigest() if fetched.body is not None else None
        if fetched.not_modified or (body_hash is not None and body_hash == feed.body_hash):
            learned = feed.interval_seconds
            next_fetch = schedule_policy.next_after_success(
                feed.url,
                now,
                interval=timedelta(seconds=learned) if learned else None,
                lower_bounds=(fresh_for, schedule_policy.ttl(feed.ttl_minutes)),
                policy=policy,
            )
            with store.transaction():
                store.record_fetch(
                    feed.url,
                    now=now,
                    next_fetch=next_fetch,
                    etag=fetched.etag or feed.etag,
                    last_modified=fetched.last_modified or feed.last_modified,
                    body_hash=None,
                )
                self._follow_move(feed, fetched, report)
            report.not_modified += 1
            return 0
        try:
            if parsed_ahead is not None:
                parsed, values = parsed_ahead()  # the entries as store.entry_values already
            else:
                parsed = parsing.parse_feed(
                    fetched,
                    feed_url=feed.url,
                    now=now,
                    outlet=feed.outlet or feed.title,
                    known=store.known_ids,  # entries already stored are not cleaned again
                    identity=feed.identity,
                )
                outlet = feed.outlet or parsed.title
                values = tuple(entry_values(e, outlet) for e in parsed.entries)
        except FeedError as e:
            self._record_failure(feed, e, report)
            return 0
        with store.transaction():
            new = store.add_entry_values(values, now)
            # The feed's own entries, dated as first stored: how often it really publishes
            # (those stored just now as they were given, the others as the database has them).
            fresh = {v[VALUE_ID] for v in new}
            published = [datetime.fromisoformat(v[VALUE_PUBLISHED]) for v in new]
            published += store.published_of(
                [v[VALUE_ID] for v in values if v[VALUE_ID] not in fresh] + list(parsed.known_ids)
            )
            interval = schedule_policy.publishing_interval(published, now, policy)
            next_fetch = schedule_policy.next_after_success(
                feed.url,
                now,
                interval=interval,
                lower_bounds=(fresh_for, schedule_policy.ttl(parsed.ttl_minutes)),
                policy=policy,
            )
            store.record_fetch(
                feed.url,
                now=now,
                next_fetch=next_fetch,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=body_hash,
                title=parsed.title,
                site_url=parsed.site_url,
                warning=parsed.warning,
                interval_seconds=int(interval.total_seconds()) if interval else None,
                parsed=True,
                ttl_minutes=parsed.ttl_minutes,
            )
            self._follow_move(feed, fetched, report)
        report.fetched += 1
        report.new_entries += len(new)
        return len(new)

    def _follow_move(self, feed: Feed, fetched: Fetched, report: FetchReport) -> None:
        """301/308 all the way: the stored URL becomes the new one (entries follow)."""
        if fetched.permanent_url and fetched.permanent_url != feed.url:
            self.store.move_feed(feed.url, fetched.permanent_url, self.now())
            report.moved.append((feed.url, fetched.permanent_url))

    # --- managing feeds (issue 3) ---------------------------------------------------------

    def _get_once(self, url: str) -> Fetched:
        """One unconditional retrieval, outside any batch (adding a feed)."""
        cfg = self.config.fetch
        if fetching.is_local(url):
            return fetching.read_file(url, max_bytes=cfg.max_bytes)
        with fetching.make_client(
            user_agent=cfg.user_agent,
            timeout_seconds=cfg.timeout_seconds,
            connect_timeout_seconds=cfg.connect_timeout_seconds,
        ) as client:
            return fetching.fetch_feed(
                client, url, max_bytes=cfg.max_bytes, timeout_seconds=cfg.timeout_seconds
            )

    def add_feed(
        self, url: str, *, outlet: str = "", best: bool = False, check: bool = True
    ) -> AddResult:
        """Add a feed given its URL, or a web page that links to feeds (autodiscovery).

        The URL is fetched: a feed is added as it is (at its new URL after a 301/308); an HTML
        page is searched for ``<link rel="alternate">`` feeds and the best one is added, unless
        the top ones are equally good: then nothing is added and the candidates come back
        (``best=True`` takes the first anyway). ``check=False`` adds the URL without fetching.
        """
        from tracker import discover

        title = ""
        candidates: tuple[Candidate, ...] = ()
        if check:
            fetched = self._get_once(url)
            try:
                parsed = parsing.parse_feed(fetched, feed_url=url, now=self.now())
                url, title = fetched.permanent_url or url, parsed.title
            except FeedError as error:
                found = tuple(discover.find_feeds(_html_text(fetched), fetched.final_url or url))
                if not found:
                    raise FeedError(url, "no feed here, and no feed linked from it") from error
                chosen = discover.best(list(found)) or (found[0] if best else None)
                if chosen is None:
                    return AddResult("", "several", candidates=found)
                url, candidates = chosen.url, found
                feed_doc = self._get_once(url)
                url = feed_doc.permanent_url or url
                title = parsing.parse_feed(feed_doc, feed_url=url, now=self.now()).title
        with self.store.transaction():
            outcome = self.store.add_feed(
                url, title=title, outlet=outlet, category="", source="cli", now=self.now()
            )
        return AddResult(self.store.resolve(url), outcome, title, candidates)

    def import_opml(self, data: bytes) -> ImportReport:
        """Add every http(s) feed of an OPML file that the database does not know yet.

        Known feeds are left alone (their names, category and source), so importing the same
        file twice changes nothing, and config.yaml's feeds keep what config.yaml says.
        """
        from tracker.opml import parse_opml

        report = ImportReport()
        with self.store.transaction():
            for item in parse_opml(data):
                url = parsing.canonical_url(item.url)
                if url is None:
                    report.skipped.append((item.url, "not an http(s) url"))
                    continue
                outcome = self.store.add_feed(
                    url,
                    title=item.title,
                    outlet="",
                    category=item.category,
                    source="opml",
                    now=self.now(),
                )
                getattr(report, outcome).append(url)
        return report

    def export_opml(self) -> str:
        """Every followed feed (not gone, not moved into another) as OPML 2.0 by category."""
        from tracker.opml import OpmlFeed, to_opml

        feeds = [
            OpmlFeed(
                url=f.url,
                title=f.outlet or f.title,
                category=f.category,
                site_url=f.site_url,
            )
            for f in self.store.feeds()
            if f.status == "active"
        ]
        return to_opml(feeds, title=f"{self.config.digest.title}: feeds")

    # --- stories and topics ---------------------------------------------------------------

    def cluster_params(self) -> clustering.ClusterParams:
        params = replace(clustering.DEFAULT_PARAMS, window_days=self.config.cluster.window_days)
        if self.config.cluster.threshold is not None:
            params = replace(params, threshold=self.config.cluster.threshold)
        return params

    def cluster(self) -> int:
        """Put every entry not yet in a story into one; earlier assignments never change."""
        pending = self.store.unclustered()
        if not pending:
            return 0
        # A run reads a fortnight of rows and their tokens, small tuples and strings that
        # make no reference cycles: the cycle collector would only walk them again and again.
        # It is back on once _cluster has returned and they are freed (issue 8).
        with clustering.no_cycle_collection():
            return self._cluster(pending)

    def _cluster(self, pending: list[tuple[Entry, bool]]) -> int:
        store = self.store
        params = self.cluster_params()
        # Every member of a story still open to the pending entries: a story is open for
        # window_days after its latest member and max_span_days after its first (issue 4).
        since = pending[0][0].published - timedelta(days=params.window_days + params.max_span_days)
        # Older entries only weigh terms: each entry's IDF counts the idf_days before it.
        known = store.cluster_window(since - timedelta(days=params.idf_days))
        context: list[tuple[Doc, str]] = []
        background: list[Doc] = []
        # Tokens kept from earlier runs: only the new entries are tokenised (issue 8).
        kept: dict[str, clustering.DocTokens] = {}
        for row in known:
            doc = Doc(*row[:7])
            if doc.published >= since:
                context.append((doc, row[7]))
            else:
                background.append(doc)
            if row[8] is not None:
                kept[doc.id] = clustering.DocTokens.load(row[8])
        tokens = dict(kept)
        new = [_doc(e, agg) for e, agg in pending]
        assignments = clustering.assign(new, context, params, background, tokens)
        published = {d.id: d.published for d in new} | {r[0]: r[3] for r in known}
        # The records assign made (new entries, or kept ones whose texts or tokeniser changed).
        made = [
            (i, published[i], t.dump())
            for i, t in tokens.items()
            if i in published and t is not kept.get(i)
        ]
        with store.transaction():
            store.save_cluster_tokens(made, since - timedelta(days=params.idf_days))
            store.save_assignments(assignments)
            self._refresh_stories({a.story_id for a in assignments})
        return len(assignments)

    def _refresh_stories(self, story_ids: set[str]) -> None:
        """Recompute headline, link, summary and dates of the given stories."""
        members = self.store.members(story_ids)
        stories: list[Story] = []
        for story_id in sorted(story_ids):
            ms = members.get(story_id, [])
            if not ms:
                continue
            docs = [
                Doc(m.entry_id, m.title, m.summary, m.published, m.outlet, m.aggregator) for m in ms
            ]
            head_id = clustering.representative(docs)
            head = next(m for m in ms if m.entry_id == head_id)
            stories.append(
                Story(
                    id=story_id,
                    headline=head.title,
                    link=head.link,
                    summary=clustering.short_summary(head.summary),
                    first_seen=min(m.published for m in ms),
                    last_seen=max(m.published for m in ms),
                    members=tuple(ms),
                    why=clustering.shared_terms(docs),
                )
            )
        self.store.save_stories(stories)  # in one go: the same rows as save_story one by one

    def update_topics(self) -> dict[str, int]:
        """Match stories against the configured topics; returns stories per topic.

        Only stories saved since the last matching are matched again, unless the topic
        definitions (or the matching rules) changed since: then every story is (issue 8).
        """
        store = self.store
        topics = self.config.topics
        definitions = _topics_hash(topics)
        full = store.get_meta("topics_hash") != definitions
        ids = store.all_story_ids() if full else store.topics_pending()
        with store.transaction():
            if full:
                store.drop_topics_except([t.slug for t in topics])
                for t in topics:
                    store.set_topic_stories(t.slug, {})
            for start in range(0, len(ids), 2000):
                chunk = ids[start : start + 2000]
                matches = topicking.match_stories(topics, store.stories(chunk))
                store.set_story_topics(chunk, matches)
            store.clear_topics_pending()
            store.set_meta("topics_hash", definitions)
            counts = store.topic_counts()
        return {t.slug: counts.get(t.slug, 0) for t in topics}

    # --- digests --------------------------------------------------------------------------

    def days(self) -> list[date]:
        """Local days that have entries, oldest first.

        One index seek per day (the first entry at or after the start of the next local
        day), not a scan of every entry (issue 8).
        """
        tz = self.config.tz
        found: list[date] = []
        after = ""
        while True:
            row = self.store.db.execute(
                "SELECT min(published) FROM entries WHERE published >= ?", [after]
            ).fetchone()
            if row[0] is None:
                return found
            day = datetime.fromisoformat(row[0]).astimezone(tz).date()
            found.append(day)
            after = ts(topicking.day_bounds(day, tz)[1])

    def today(self) -> date:
        return self.now().astimezone(self.config.tz).date()

    def topic_stories(self, slug: str) -> list[Story]:
        return self.store.stories(self.store.topic_story_ids(slug))

    def digest(self, day: date, *, days: Sequence[date] | None = None) -> Digest:
        """The digest of one local day."""
        tz = self.config.tz
        cfg = self.config.digest
        start, end = topicking.day_bounds(day, tz)
        stories = self.store.stories(self.store.story_ids_between(start, end))
        window = topicking.days_ending(day, cfg.timeline_days)
        timelines = {
            t.slug: topicking.timeline(self._topic_stories_in(t.slug, window), window, tz)
            for t in self.config.topics
        }
        known = list(days) if days is not None else self.days()
        earlier = [d for d in known if d < day]
        later = [d for d in known if d > day]
        # A past day's digest says it was generated at the end of that day, so rebuilding the
        # site does not rewrite every old page just because the clock moved.
        generated = min(self.now(), end - timedelta(seconds=1))
        bursts, emerging = self.trends(day)
        return digesting.build_digest(
            day,
            stories,
            self.config.topics,
            timelines,
            title=cfg.title,
            generated=generated,
            tz=tz,
            max_top_stories=cfg.max_top_stories,
            max_stories_per_topic=cfg.max_stories_per_topic,
            failing_feeds=self.failing_feeds(),
            previous_day=earlier[-1] if earlier else None,
            next_day=later[0] if later else None,
            bursts=bursts,
            emerging=emerging,
        )

    def trends(self, day: date) -> tuple[dict[str, Burst], tuple[EmergingTerm, ...]]:
        """Each topic's burst on ``day`` and the day's emerging terms (issue 5)."""
        tz = self.config.tz
        window = topicking.days_ending(day, trends.BASELINE_DAYS + 1)
        bursts = {
            t.slug: trends.timeline_burst(
                topicking.timeline(self._topic_stories_in(t.slug, window), window, tz), day
            )
            for t in self.config.topics
        }
        # The texts of the clustered entries of each day, and a hash of each day's. A trailing
        # day's names are counted once and kept with that hash; the day's emerging terms are
        # kept with the hashes of the whole window (issue 8).
        texts: dict[date, list[tuple[str, str, str, str]]] = {}
        hashes: list[str] = [repr(tuple(self.config.topics)), day.isoformat()]
        for d in window:
            texts[d] = self.store.clustered_texts(*topicking.day_bounds(d, tz))
            hashes.append(_texts_hash(texts[d]))
        key = hashlib.blake2b("\0".join(hashes).encode(), digest_size=16).hexdigest()
        cached = self.store.day_emerging(day)
        if cached is not None and cached[0] == key:
            return bursts, trends.terms_from_json(cached[1])
        history = {
            d: self._day_names(d, hashes[n + 2], rows)
            for n, (d, rows) in enumerate(texts.items())
            if d != day
        }
        today = [
            trends.Text(day, outlet, title, summary) for _, outlet, title, summary in texts[day]
        ]
        emerging = trends.emerging_terms_from(today, history, day, self.config.topics)
        self._cache(self.store.save_day_emerging, day, key, trends.terms_to_json(emerging))
        return bursts, emerging

    def _topic_stories_in(self, slug: str, window: Sequence[date]) -> list[Story]:
        """A topic's stories with a member in the window of days: all a timeline counts."""
        tz = self.config.tz
        start, _ = topicking.day_bounds(window[0], tz)
        _, end = topicking.day_bounds(window[-1], tz)
        return self.store.stories(self.store.topic_story_ids_between(slug, start, end))

    def _day_names(
        self, day: date, fingerprint: str, rows: Sequence[tuple[str, str, str, str]]
    ) -> DayNames:
        """``trends.day_names`` of a day's texts, from the cache when they did not change."""
        cached = self.store.day_names(day)
        if cached is not None and cached[0] == fingerprint:
            return DayNames.from_json(cached[1])
        names = trends.day_names(TrendText(day, o, title, summary) for _, o, title, summary in rows)
        self._cache(self.store.save_day_names, day, fingerprint, names.to_json())
        return names

    def _cache(self, save: Callable[[date, str, str], None], *args: Any) -> None:
        try:  # only a cache: a read-only or busy database counts again next time
            save(*args)
        except sqlite3.OperationalError as e:
            log.debug("trends not cached: %s", e)

    def test_topic(self, topic: Topic, days: int = 14) -> TopicTest:
        """A dry run: what ``topic`` would match over the stored stories; nothing is saved."""
        tz = self.config.tz
        stories = self.store.stories(self.store.all_story_ids())
        found = topicking.match_stories([topic], stories)[topic.slug]
        matched = [s for s in stories if s.id in found]
        known = self.days()
        last = known[-1] if known else self.today()
        window = topicking.days_ending(last, days)
        matched.sort(key=lambda s: (s.last_seen, s.id), reverse=True)
        return TopicTest(
            topic=topic,
            timeline=topicking.timeline(matched, window, tz),
            stories=len(matched),
            entries=sum(len(s.members) for s in matched),
            sample=tuple((s.headline, found[s.id]) for s in matched[:10]),
        )

    def failing_feeds(self) -> list[FeedHealth]:
        """Active feeds failing for more than a day: what the digest's health note names.

        A feed that failed once an hour ago is retried on its own; a day of failures needs a
        person (issue 3). Every failing feed is on the site's feed-health page at once.
        """
        since = self.now() - FAILING_NOTICE
        return [
            FeedHealth(f.url, f.outlet or f.title, f.last_error or "", f.error_count, f.error_since)
            for f in self.store.feeds()
            if f.status == "active"
            and f.error_count > 0
            and f.error_since is not None
            and f.error_since <= since
        ]

    def feed_states(self) -> list[FeedState]:
        """Every followed feed with its health (ok / failing / moved / gone), by URL."""
        now = self.now()
        return [
            FeedState(
                url=f.url,
                title=f.title,
                outlet=f.outlet,
                health=schedule_policy.health(
                    status=f.status, error_count=f.error_count, moved_at=f.moved_at, now=now
                ),
                category=f.category,
                source=f.source,
                last_success=f.last_success,
                last_fetched=f.last_fetched,
                last_error=f.last_error,
                error_count=f.error_count,
                error_since=f.error_since,
                next_fetch=f.next_fetch if f.status == "active" else None,
                moved_from=f.moved_from,
            )
            for f in self.store.feeds()
        ]

    def topic_pages(self, last_day: date) -> list[TopicPage]:
        window = topicking.days_ending(last_day, max(self.config.digest.timeline_days, 14))
        pages = []
        for t in self.config.topics:
            stories = self.topic_stories(t.slug)
            pages.append(
                TopicPage(t, topicking.timeline(stories, window, self.config.tz), tuple(stories))
            )
        return pages

    def build_site(self) -> SiteReport:
        """(Re)build the static site; unchanged pages keep their bytes.

        Incremental (issue 8): only pages whose inputs changed since the last build into the
        same folder are rendered; the bytes are those of a full build (``build_site_full``).
        """
        from tracker.site import SiteSource, build_site_incremental

        days = self.days()
        last = days[-1] if days else self.today()
        failing = self.failing_feeds()
        now = self.now()

        def generated(day: date) -> datetime:  # as App.digest sets it
            _, end = topicking.day_bounds(day, self.config.tz)
            return min(now, end - timedelta(seconds=1))

        def day_inputs(day: date) -> str:
            return repr((generated(day), failing))

        def refresh(digest: Digest) -> Digest:
            fresh = digesting.build_digest(
                digest.day,
                (),
                (),
                {},
                title="",
                generated=generated(digest.day),
                tz=self.config.tz,
                failing_feeds=failing,
            )
            return replace(digest, generated=fresh.generated, failing_feeds=fresh.failing_feeds)

        window = topicking.days_ending(last, max(self.config.digest.timeline_days, 14))
        source = SiteSource(
            days=days,
            digest=lambda d: self.digest(d, days=days),
            day_inputs=day_inputs,
            refresh=refresh,
            topic_page=lambda t: self._topic_page(t, window),
            last_day=last,
            window=max(self.config.digest.timeline_days, trends.BASELINE_DAYS + 1, 2),
            settings=repr((self.config, [(f.url, f.aggregator) for f in self.store.feeds()])),
        )
        return build_site_incremental(
            self.config.site.output_dir,
            self.renderer,
            self.store,
            source,
            topics=self.config.topics,
            feeds=self.store.feeds(),
            feed_states=self.feed_states(),
        )

    def _topic_page(self, topic: Topic, window: Sequence[date]) -> TopicPage:
        stories = self.topic_stories(topic.slug)
        return TopicPage(topic, topicking.timeline(stories, window, self.config.tz), tuple(stories))

    def build_site_full(self) -> SiteReport:
        """Render every page of the site (what ``build_site`` does without its records)."""
        from tracker.site import build_site

        days = self.days()
        digests = [self.digest(d, days=days) for d in days]
        last = days[-1] if days else self.today()
        return build_site(
            self.config.site.output_dir,
            self.renderer,
            digests=digests,
            topic_pages=self.topic_pages(last),
            stories=self.store.stories(self.store.all_story_ids()),
            topics=self.config.topics,
            feeds=self.store.feeds(),
            feed_states=self.feed_states(),
        )

    # --- email ----------------------------------------------------------------------------

    def email(self, day: date) -> EmailMessage:
        from tracker.mail import build_message

        cfg = self.config.email
        return build_message(
            self.digest(day),
            self.renderer,
            sender=cfg.sender or "tracker@localhost",
            recipients=cfg.recipients or ("digest@localhost",),
            now=self.now(),
            subject_prefix=cfg.subject_prefix,
        )

    def write_email(self, day: date, path: Path) -> Path:
        from tracker.mail import write_eml

        write_eml(self.email(day), path)
        return path

    def send_email(self, message: EmailMessage) -> None:
        from tracker.mail import send

        smtp = self.config.email.smtp
        password = os.environ.get(smtp.password_env, "") if smtp.username else ""
        if smtp.username and not password:
            raise MailError(
                f"cannot send digest: environment variable {smtp.password_env} is not set"
            )
        send(
            message,
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=password,
            timeout=smtp.timeout_seconds,
        )

    # --- the cron job ---------------------------------------------------------------------

    def prune(self) -> int:
        """Retention (config ``retention_days``): delete old entries' bodies; see Store."""
        days = self.config.retention_days
        if days is None:
            return 0
        now = self.now()
        with self.store.transaction():
            pruned = self.store.prune_bodies(now - timedelta(days=days), now)
        if pruned:
            log.info("retention: deleted the bodies of %d entries older than %d days", pruned, days)
        return pruned

    def run(self) -> RunReport:
        """Fetch, cluster, topics, site, and the email when configured: one cron run."""
        report = self.fetch()
        clustered = self.cluster()
        self.update_topics()
        pruned = self.prune()
        site = self.build_site()
        day = self.today()
        email_note = None
        cfg = self.config.email
        if cfg.out_dir is not None or cfg.enabled:
            message = self.email(day)
            if cfg.out_dir is not None:
                path = cfg.out_dir / f"digest-{day.isoformat()}.eml"
                from tracker.mail import write_eml

                write_eml(message, path)
                email_note = str(path)
            if cfg.enabled:
                self.send_email(message)
                email_note = f"sent to {', '.join(cfg.recipients)}"
        return RunReport(report, clustered, day, len(site.written), email_note, pruned)


def _topics_hash(topics: Sequence[Topic]) -> str:
    """The topic definitions and the matching rules' source: stored matches stay valid while
    this is unchanged."""
    digest = hashlib.sha256(repr(tuple(topics)).encode())
    digest.update(Path(topicking.__file__).read_bytes())
    return digest.hexdigest()


@functools.cache
def _trends_code() -> bytes:
    return hashlib.sha256(Path(trends.__file__).read_bytes()).digest()


def _texts_hash(rows: Sequence[tuple[str, ...]]) -> str:
    """A day's texts and the code that counts their names: the key of its cached counts."""
    digest = hashlib.blake2b(_trends_code(), digest_size=16)
    for row in rows:
        digest.update("\0".join(row).encode() + b"\1")
    return digest.hexdigest()


def _html_text(fetched: Fetched) -> str:
    """A fetched web page as text: the charset its Content-Type names, else UTF-8."""
    content_type = fetched.headers.get("content-type", "")
    charset = content_type.partition("charset=")[2].split(";")[0].strip(" \"'") or "utf-8"
    try:
        return (fetched.body or b"").decode(charset, errors="replace")
    except LookupError:
        return (fetched.body or b"").decode("utf-8", errors="replace")


def _doc(entry: Entry, aggregator: bool) -> Doc:
    return Doc(
        entry.id, entry.title, entry.summary, entry.published, entry.outlet, aggregator, entry.link
    )
