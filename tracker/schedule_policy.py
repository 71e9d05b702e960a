"""When to fetch a feed next: pure decisions from what the last fetch saw (no I/O, time given).

A success and a failure each turn into one next-fetch time::

    publishing rate ─► interval ─► clamp [min, max] ─► at least the server's lower bound
                                                        (Cache-Control max-age, Expires, <ttl>)
                                                    ─► jitter ─► next fetch

    error count ─► capped exponential backoff ─► at least Retry-After ─► jitter ─► next fetch

Jitter is derived from a hash of the feed URL and the time of the fetch, never from a random
generator, so a replay with the same clock makes the same decisions, and feeds fetched at the
same moment still drift apart. A failing feed is retried at least daily: the backoff cap and
every lower bound are limited by ``Policy.failure_ceiling`` (issue 3: never disable silently).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

#: A failing feed is tried again at least this often, whatever the configuration says.
RETRY_AT_LEAST_EVERY = timedelta(days=1)
#: How long a feed whose URL a permanent redirect rewrote is shown as "moved".
MOVED_NOTICE = timedelta(days=7)


@dataclass(frozen=True)
class Policy:
    """The bounds of every decision (config.yaml ``fetch.*_interval_minutes``)."""

    min_interval: timedelta = timedelta(minutes=15)
    max_interval: timedelta = timedelta(days=1)
    # Used until a feed has dated entries to learn from.
    default_interval: timedelta = timedelta(hours=1)
    backoff_start: timedelta = timedelta(minutes=15)
    # The fraction of an interval that jitter may add or take away.
    jitter: float = 0.1
    # How far back the publishing rate is measured.
    window: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.min_interval <= timedelta(0) or self.max_interval < self.min_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")

    @property
    def failure_ceiling(self) -> timedelta:
        """The longest a failing feed waits: the max interval, and never more than a day."""
        return min(self.max_interval, RETRY_AT_LEAST_EVERY)


DEFAULT_POLICY = Policy()


# --- what the feed and the server say -------------------------------------------------------


def publishing_interval(
    published: Iterable[datetime], now: datetime, policy: Policy = DEFAULT_POLICY
) -> timedelta | None:
    """How often to look, learned from when the feed's entries were published; None: no data.

    The mean gap is the time from the oldest entry in the window to now, divided by the
    entries in it, so a feed that went quiet slows down even though its last posts were close
    together. We look twice per mean gap: news is published in bursts, and a new entry then
    waits a quarter of a gap on average. A feed with entries, none of them in the window, gets
    the longest interval.
    """
    times = [t for t in published if t <= now]
    if not times:
        return None
    recent = [t for t in times if t > now - policy.window]
    if not recent:
        return policy.max_interval
    mean_gap = (now - min(recent)) / len(recent)
    return mean_gap / 2


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:[=,]|$)", re.IGNORECASE)


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000" or no zone: HTTP dates are GMT
        moment = moment.replace(tzinfo=UTC)
    return moment


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the response stays fresh (RFC 9111): max-age minus Age, else Expires - Date.

    ``headers`` has lower-case names. ``no-cache``/``no-store`` or an unreadable Expires
    mean no lower bound. Expires is measured against the server's Date when it sent one, so a
    skewed clock on either side does not matter.
    """
    control = headers.get("cache-control", "")
    if _NO_CACHE.search(control):
        return None
    match = _MAX_AGE.search(control)
    if match:
        age = headers.get("age", "").strip()
        fresh = int(match.group(1)) - (int(age) if age.isdigit() else 0)
        return timedelta(seconds=fresh) if fresh > 0 else None
    expires = _http_date(headers.get("expires", ""))
    if expires is None:
        return None
    sent = _http_date(headers.get("date", "")) or now
    fresh_for = expires - sent
    return fresh_for if fresh_for > timedelta(0) else None


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds, or an HTTP date) as a wait from ``now``; None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    when = _http_date(text)
    if when is None or when <= now:
        return None
    return when - now


def ttl(minutes: int | None) -> timedelta | None:
    """An RSS ``<ttl>`` (minutes the channel may be cached) as a wait."""
    return timedelta(minutes=minutes) if minutes and minutes > 0 else None


def backoff(error_count: int, policy: Policy = DEFAULT_POLICY) -> timedelta:
    """The wait after the ``error_count``-th failure in a row: doubling, capped at a day."""
    factor: int = 2 ** min(max(error_count - 1, 0), 20)
    return min(policy.backoff_start * factor, policy.failure_ceiling)


# --- decisions ------------------------------------------------------------------------------


def spread(key: str, now: datetime) -> float:
    """A number in [0, 1) fixed by ``key`` and ``now``: the jitter of one decision."""
    digest = hashlib.sha256(f"{key}\n{now.astimezone(UTC).isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _jittered(
    target: timedelta, low: timedelta, high: timedelta, u: float, jitter: float
) -> timedelta:
    """``target`` moved by up to ``jitter`` of itself, away from the nearer bound.

    Moving away from the bound (up from ``low``, down from ``high``) keeps feeds held at a
    bound from all landing on the same second.
    """
    offset = target * (jitter * u)
    moved = target + offset if target - low <= high - target else target - offset
    return min(max(moved, low), high)


def next_after_success(
    url: str,
    now: datetime,
    *,
    interval: timedelta | None,
    lower_bounds: Iterable[timedelta | None] = (),
    policy: Policy = DEFAULT_POLICY,
) -> datetime:
    """When to fetch again after a good fetch (200, or 304 / unchanged body).

    ``interval`` is the feed's learned interval (None: the default); ``lower_bounds`` are the
    server's freshness (cache_lifetime) and the feed's ttl. Lower bounds win over the learned
    interval but never push a fetch past ``max_interval``: a server cannot make us stop
    looking at a feed for longer than the user allows.
    """
    learned = interval if interval is not None else policy.default_interval
    floor = max([policy.min_interval, *(b for b in lower_bounds if b is not None)])
    low = min(floor, policy.max_interval)
    target = min(max(learned, low), policy.max_interval)
    wait = _jittered(target, low, policy.max_interval, spread(url, now), policy.jitter)
    return now + wait


def next_after_failure(
    url: str,
    now: datetime,
    *,
    error_count: int,
    retry_after: timedelta | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> datetime:
    """When to try a failing feed again: backoff, at least Retry-After, at most a day."""
    ceiling = policy.failure_ceiling
    low = min(retry_after or timedelta(0), ceiling)
    target = max(backoff(error_count, policy), low)
    wait = _jittered(target, low, ceiling, spread(url, now), policy.jitter)
    return now + wait


# --- what a user is shown ---------------------------------------------------------------------


def health(
    *,
    status: str,
    error_count: int,
    moved_at: datetime | None,
    now: datetime,
) -> str:
    """A feed's state in one word: ok, failing, moved or gone.

    ``status`` is the stored one (active, gone, moved, removed). A feed whose URL a permanent
    redirect rewrote reads "moved" for a week, so the change is noticed; failing wins over
    moved, since it needs action first.
    """
    if status in ("gone", "moved", "removed"):
        return status
    if error_count > 0:
        return "failing"
    if moved_at is not None and now - moved_at < MOVED_NOTICE:
        return "moved"
    return "ok"
