"""tracker.schedule_policy: next-fetch decisions, pure, with the time given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.schedule_policy import (
    DEFAULT_POLICY,
    MOVED_NOTICE,
    Policy,
    backoff,
    cache_lifetime,
    health,
    next_after_failure,
    next_after_success,
    publishing_interval,
    retry_after,
    spread,
    ttl,
)

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
URL = "https://example.com/feed.xml"
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


# --- publishing rate ------------------------------------------------------------------------


def test_no_dated_entries_means_no_opinion() -> None:
    assert publishing_interval([], NOW) is None
    assert publishing_interval([NOW + HOUR], NOW) is None  # only future dates


def test_a_busy_feed_is_looked_at_twice_per_mean_gap() -> None:
    # 12 posts in the last 6 hours: a mean gap of 30 minutes, looked at every 15.
    posts = [NOW - i * 30 * MIN for i in range(1, 13)]
    assert publishing_interval(posts, NOW) == 15 * MIN


def test_a_feed_that_went_quiet_slows_down() -> None:
    burst = [NOW - 3 * DAY - i * MIN for i in range(10)]  # 10 posts, three days ago
    interval = publishing_interval(burst, NOW)
    assert interval is not None and interval > 3 * HOUR


def test_a_feed_with_nothing_in_the_window_gets_the_longest_interval() -> None:
    assert publishing_interval([NOW - 30 * DAY], NOW) == DEFAULT_POLICY.max_interval


# --- what servers say -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "max-age=3600"}, HOUR),
        ({"cache-control": "public, max-age=600, must-revalidate"}, 10 * MIN),
        ({"cache-control": "max-age=600", "age": "100"}, timedelta(seconds=500)),
        ({"cache-control": "max-age=600", "age": "900"}, None),
        ({"cache-control": "no-cache, max-age=600"}, None),
        ({"cache-control": "no-store"}, None),
        ({"cache-control": "s-maxage=600"}, None),
        ({"expires": "Mon, 27 Jan 2025 14:00:00 GMT"}, 2 * HOUR),
        # Expires is read against the server's Date, so a skewed clock does not matter.
        (
            {"expires": "Mon, 27 Jan 2025 14:00:00 GMT", "date": "Mon, 27 Jan 2025 13:30:00 GMT"},
            30 * MIN,
        ),
        ({"expires": "0"}, None),
        ({"expires": "Mon, 27 Jan 2025 11:00:00 GMT"}, None),
        # max-age wins over Expires (RFC 9111 5.3).
        ({"cache-control": "max-age=60", "expires": "Mon, 27 Jan 2025 14:00:00 GMT"}, MIN),
        ({}, None),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: timedelta | None) -> None:
    assert cache_lifetime(headers, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 3600 ", HOUR),
        ("Mon, 27 Jan 2025 13:00:00 GMT", HOUR),
        ("Mon, 27 Jan 2025 11:00:00 GMT", None),  # in the past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert retry_after(value, NOW) == expected


def test_ttl() -> None:
    assert ttl(60) == HOUR
    assert ttl(None) is None and ttl(0) is None


# --- decisions ------------------------------------------------------------------------------


def test_backoff_doubles_from_15_minutes_and_stops_at_a_day() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [15 * MIN, 30 * MIN, HOUR, 2 * HOUR]
    assert backoff(7) == 16 * HOUR
    assert backoff(8) == DAY and backoff(500) == DAY


def test_a_failing_feed_is_retried_at_least_daily_whatever_the_max_interval() -> None:
    lazy = Policy(max_interval=7 * DAY)
    for count in range(1, 40):
        wait = next_after_failure(URL, NOW, error_count=count, policy=lazy) - NOW
        assert timedelta(0) < wait <= DAY
    # Even a server asking for a week.
    long_ask = next_after_failure(URL, NOW, error_count=1, retry_after=7 * DAY, policy=lazy)
    assert long_ask - NOW == DAY


def test_retry_after_is_a_lower_bound_on_the_retry() -> None:
    plain = next_after_failure(URL, NOW, error_count=1)
    asked = next_after_failure(URL, NOW, error_count=1, retry_after=2 * HOUR)
    assert plain - NOW < HOUR
    assert asked - NOW >= 2 * HOUR


def test_the_learned_interval_is_bounded() -> None:
    policy = Policy(min_interval=15 * MIN, max_interval=DAY, jitter=0.0)
    assert next_after_success(URL, NOW, interval=MIN, policy=policy) - NOW == 15 * MIN
    assert next_after_success(URL, NOW, interval=30 * DAY, policy=policy) - NOW == DAY
    assert next_after_success(URL, NOW, interval=None, policy=policy) - NOW == HOUR


def test_server_freshness_and_ttl_are_lower_bounds_capped_by_the_max_interval() -> None:
    policy = Policy(jitter=0.0)
    bound = next_after_success(URL, NOW, interval=15 * MIN, lower_bounds=[3 * HOUR], policy=policy)
    assert bound - NOW == 3 * HOUR
    both = next_after_success(
        URL, NOW, interval=15 * MIN, lower_bounds=[HOUR, None, 2 * HOUR], policy=policy
    )
    assert both - NOW == 2 * HOUR
    week = next_after_success(URL, NOW, interval=15 * MIN, lower_bounds=[7 * DAY], policy=policy)
    assert week - NOW == policy.max_interval


def test_jitter_is_reproducible_and_spreads_feeds() -> None:
    again = [next_after_success(URL, NOW, interval=2 * HOUR) for _ in range(3)]
    assert len(set(again)) == 1
    feeds = {next_after_success(f"{URL}?n={i}", NOW, interval=2 * HOUR) for i in range(50)}
    assert len(feeds) > 40
    for moment in feeds:
        assert 1.8 * 2 * HOUR <= 2 * (moment - NOW) <= 2.2 * 2 * HOUR


def test_jitter_never_crosses_a_bound() -> None:
    for i in range(200):
        url = f"{URL}?n={i}"
        low = next_after_success(url, NOW, interval=MIN, lower_bounds=[HOUR]) - NOW
        high = next_after_success(url, NOW, interval=30 * DAY) - NOW
        assert HOUR <= low <= 1.1 * HOUR
        assert 0.9 * DAY <= high <= DAY


def test_spread_depends_on_url_and_time() -> None:
    assert 0 <= spread(URL, NOW) < 1
    assert spread(URL, NOW) == spread(URL, NOW)
    assert spread(URL, NOW) != spread(URL, NOW + MIN)
    assert spread(URL, NOW) != spread(URL + "x", NOW)


def test_policy_refuses_nonsense_bounds() -> None:
    with pytest.raises(ValueError):
        Policy(min_interval=HOUR, max_interval=MIN)
    with pytest.raises(ValueError):
        Policy(jitter=1.5)


# --- health ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "errors", "moved_at", "expected"),
    [
        ("active", 0, None, "ok"),
        ("active", 3, None, "failing"),
        ("active", 0, NOW - DAY, "moved"),
        ("active", 0, NOW - MOVED_NOTICE - MIN, "ok"),
        ("active", 2, NOW - DAY, "failing"),
        ("gone", 1, None, "gone"),
        ("moved", 0, NOW - 30 * DAY, "moved"),
    ],
)
def test_health(status: str, errors: int, moved_at: datetime | None, expected: str) -> None:
    assert health(status=status, error_count=errors, moved_at=moved_at, now=NOW) == expected
