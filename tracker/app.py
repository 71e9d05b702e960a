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

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Self

from tracker import cluster as clustering
from tracker import digest as digesting
from tracker import fetch as fetching
from tracker import parse as parsing
from tracker import topics as topicking
from tracker.config import Config
from tracker.errors import FeedError, MailError, describe
from tracker.models import Digest, Doc, Entry, Feed, FeedHealth, Fetched, Story, TopicPage
from tracker.store import Store

if TYPE_CHECKING:
    import httpx

    from tracker.render import Renderer
    from tracker.site import SiteReport

# Until adaptive scheduling lands, a healthy feed is fetched hourly; a failing one backs off
# exponentially from 15 minutes, capped at a day so a failing feed is never silently dropped.
FETCH_INTERVAL = timedelta(hours=1)
BACKOFF_START = timedelta(minutes=15)
BACKOFF_CAP = timedelta(days=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FetchReport:
    """What one fetch round did."""

    fetched: int = 0
    not_modified: int = 0
    new_entries: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RunReport:
    fetch: FetchReport
    clustered: int
    day: date
    pages_written: int
    email: str | None


def backoff(error_count: int) -> timedelta:
    """The wait after the ``error_count``-th consecutive failure."""
    factor: int = 2 ** min(max(error_count - 1, 0), 16)
    return min(BACKOFF_START * factor, BACKOFF_CAP)


class App:
    """The use cases over one configuration."""

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

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync_feeds(self) -> None:
        """Make the database know every feed of config.yaml (config names win)."""
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
                )

    # --- fetch ----------------------------------------------------------------------------

    def fetch(self, *, all_feeds: bool = False) -> FetchReport:
        """Fetch due feeds (or all), store new entries; failures are recorded, not raised."""
        now = self.now()
        feeds = (
            [f for f in self.store.feeds() if f.status == "active"]
            if all_feeds
            else self.store.due_feeds(now)
        )
        report = FetchReport()
        for feed, result in self._retrieve(feeds):
            if isinstance(result, FeedError):
                self._record_failure(feed, result, report)
            else:
                self.ingest(feed, result, report)
        return report

    def _retrieve(self, feeds: Sequence[Feed]) -> list[tuple[Feed, Fetched | FeedError]]:
        """Retrieve feeds concurrently; the database is only touched by the caller's thread."""
        cfg = self.config.fetch
        client: httpx.Client | None = None
        if any(not fetching.is_local(f.url) for f in feeds):
            client = fetching.make_client(
                user_agent=cfg.user_agent, timeout_seconds=cfg.timeout_seconds
            )

        def one(feed: Feed) -> tuple[Feed, Fetched | FeedError]:
            try:
                if fetching.is_local(feed.url):
                    return feed, fetching.read_file(feed.url, max_bytes=cfg.max_bytes)
                assert client is not None
                return feed, fetching.fetch_feed(
                    client,
                    feed.url,
                    etag=feed.etag,
                    last_modified=feed.last_modified,
                    max_bytes=cfg.max_bytes,
                    timeout_seconds=cfg.timeout_seconds,
                )
            except FeedError as e:
                return feed, e

        try:
            with ThreadPoolExecutor(max_workers=max(cfg.concurrency, 1)) as pool:
                return list(pool.map(one, feeds))
        finally:
            if client is not None:
                client.close()

    def _record_failure(self, feed: Feed, error: FeedError, report: FetchReport) -> None:
        now = self.now()
        message = describe(error)
        gone = getattr(error, "status", None) == 410
        with self.store.transaction():
            self.store.record_error(
                feed.url,
                message,
                now=now,
                next_fetch=now + backoff(feed.error_count + 1),
                gone=gone,
            )
        report.failed.append((feed.url, message))

    def ingest(self, feed: Feed, fetched: Fetched, report: FetchReport | None = None) -> int:
        """Parse one retrieved document and store its new entries, all in one transaction."""
        report = report if report is not None else FetchReport()
        now = self.now()
        store = self.store
        body_hash = hashlib.sha256(fetched.body).hexdigest() if fetched.body is not None else None
        if fetched.not_modified or (body_hash is not None and body_hash == feed.body_hash):
            with store.transaction():
                store.record_fetch(
                    feed.url,
                    now=now,
                    next_fetch=now + FETCH_INTERVAL,
                    etag=fetched.etag or feed.etag,
                    last_modified=fetched.last_modified or feed.last_modified,
                    body_hash=None,
                )
            report.not_modified += 1
            return 0
        try:
            parsed = parsing.parse_feed(
                fetched, feed_url=feed.url, now=now, outlet=feed.outlet or feed.title
            )
        except FeedError as e:
            self._record_failure(feed, e, report)
            return 0
        outlet = feed.outlet or parsed.title
        entries = [e if e.outlet else replace(e, outlet=outlet) for e in parsed.entries]
        with store.transaction():
            new = store.add_entries(entries, now)
            store.record_fetch(
                feed.url,
                now=now,
                next_fetch=now + FETCH_INTERVAL,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=body_hash,
                title=parsed.title,
                site_url=parsed.site_url,
                warning=parsed.warning,
            )
            if fetched.permanent_url:
                store.move_feed(feed.url, fetched.permanent_url)
        report.fetched += 1
        report.new_entries += len(new)
        return len(new)

    # --- stories and topics ---------------------------------------------------------------

    def cluster_params(self) -> clustering.ClusterParams:
        params = replace(clustering.DEFAULT_PARAMS, window_days=self.config.cluster.window_days)
        if self.config.cluster.threshold is not None:
            params = replace(params, threshold=self.config.cluster.threshold)
        return params

    def cluster(self) -> int:
        """Put every entry not yet in a story into one; earlier assignments never change."""
        store = self.store
        pending = store.unclustered()
        if not pending:
            return 0
        params = self.cluster_params()
        since = pending[0][0].published - timedelta(days=params.window_days)
        context = [(_doc(e, agg), story) for e, agg, story in store.clustered_since(since)]
        assignments = clustering.assign([_doc(e, agg) for e, agg in pending], context, params)
        with store.transaction():
            store.save_assignments(assignments)
            self._refresh_stories({a.story_id for a in assignments})
        return len(assignments)

    def _refresh_stories(self, story_ids: set[str]) -> None:
        """Recompute headline, link, summary and dates of the given stories."""
        members = self.store.members(story_ids)
        for story_id in sorted(story_ids):
            ms = members.get(story_id, [])
            if not ms:
                continue
            docs = [
                Doc(m.entry_id, m.title, m.summary, m.published, m.outlet, m.aggregator) for m in ms
            ]
            head_id = clustering.representative(docs)
            head = next(m for m in ms if m.entry_id == head_id)
            self.store.save_story(
                Story(
                    id=story_id,
                    headline=head.title,
                    link=head.link,
                    summary=head.summary,
                    first_seen=min(m.published for m in ms),
                    last_seen=max(m.published for m in ms),
                    members=tuple(ms),
                )
            )

    def update_topics(self) -> dict[str, int]:
        """Match every story against the configured topics; returns stories per topic."""
        store = self.store
        stories = store.stories(store.all_story_ids())
        matches = topicking.match_stories(self.config.topics, stories)
        with store.transaction():
            store.drop_topics_except(matches)
            for slug, found in matches.items():
                store.set_topic_stories(slug, found)
        return {slug: len(found) for slug, found in matches.items()}

    # --- digests --------------------------------------------------------------------------

    def days(self) -> list[date]:
        """Local days that have entries, oldest first."""
        tz = self.config.tz
        cursor = self.store.db.execute("SELECT DISTINCT substr(published, 1, 13) FROM entries")
        hours = {datetime.fromisoformat(row[0] + ":00:00+00:00") for row in cursor}
        return sorted({h.astimezone(tz).date() for h in hours})

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
            t.slug: topicking.timeline(self.topic_stories(t.slug), window, tz)
            for t in self.config.topics
        }
        known = list(days) if days is not None else self.days()
        earlier = [d for d in known if d < day]
        later = [d for d in known if d > day]
        # A past day's digest says it was generated at the end of that day, so rebuilding the
        # site does not rewrite every old page just because the clock moved.
        generated = min(self.now(), end - timedelta(seconds=1))
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
        )

    def failing_feeds(self) -> list[FeedHealth]:
        return [
            FeedHealth(f.url, f.outlet or f.title, f.last_error or "", f.error_count, f.error_since)
            for f in self.store.feeds()
            if f.error_count > 0
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
        """(Re)build the static site; unchanged pages keep their bytes."""
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

    def run(self) -> RunReport:
        """Fetch, cluster, topics, site, and the email when configured: one cron run."""
        report = self.fetch()
        clustered = self.cluster()
        self.update_topics()
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
        return RunReport(report, clustered, day, len(site.written), email_note)


def _doc(entry: Entry, aggregator: bool) -> Doc:
    return Doc(entry.id, entry.title, entry.summary, entry.published, entry.outlet, aggregator)
