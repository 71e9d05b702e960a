"""Issue 8 at a year's scale: what lets a rebuild skip what did not change, with the output of
doing it all again. Emerging terms from cached day counts, the local days from index seeks,
story changes read from the change log, the search index split by month."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# The incremental-site tests' helpers: store a story as clustering would, read a site folder.
from test_incremental_site import files, save

from tracker import trends
from tracker.app import App
from tracker.config import config_from_mapping
from tracker.models import EmergingTerm, Entry, Topic
from tracker.trends import Text, day_names, emerging_terms, emerging_terms_from, names_of

OUTLETS = ["Ars Technica", "The Verge", "Wired", "BBC", "Reuters"]
WORDS = ["chip", "Nvidia", "cloud", "court", "battery", "Apple", "privacy", "kernel", "TSMC"]
TOPICS = [{"slug": "nvidia", "name": "Nvidia", "keywords": ["Nvidia"]}]


def counted_every_time(
    texts: list[Text], day: date, topics: tuple[Topic, ...] = ()
) -> tuple[EmergingTerm, ...]:
    """Emerging terms as counted before issue 8: every text of the window, every time."""
    start = day - timedelta(days=trends.BASELINE_DAYS)
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    volume: Counter[date] = Counter()
    outlets: dict[str, set[str]] = defaultdict(set)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for text in sorted(texts, key=lambda t: (t.day, t.outlet, t.title)):
        if not start <= text.day <= day:
            continue
        volume[text.day] += 1
        for name in names_of(text):
            key = name.casefold()
            per_day[key][text.day] += 1
            if text.day == day:
                outlets[key].add(text.outlet or text.title)
                surface[key][name] += 1
                if text.title not in examples[key]:
                    examples[key].append(text.title)
    matchers = [trends.Matcher(t) for t in topics]
    past_volume = sum(n for d, n in volume.items() if d < day)
    found: list[tuple[float, EmergingTerm]] = []
    for key in sorted(outlets):
        if len(outlets[key]) < trends.MIN_OUTLETS:
            continue
        term = min(surface[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if any(m.covers(term) for m in matchers):
            continue
        observed = per_day[key][day]
        past = sum(n for d, n in per_day[key].items() if d < day)
        expected = max(past / past_volume * volume[day] if past_volume else 0.0, 1.0)
        if observed < trends.EMERGING_RATIO * expected:
            continue
        if trends.poisson_tail(observed, expected) >= trends.ALPHA:
            continue
        t = EmergingTerm(
            term, len(outlets[key]), observed, round(past / 14, 4), tuple(examples[key][:3])
        )
        found.append((observed / expected, t))
    found.sort(key=lambda f: (-f[1].outlets, -f[0], f[1].term.casefold()))
    return tuple(trends._without_overlaps([f[1] for f in found]))[: trends.MAX_EMERGING]


def random_texts(seed: int, last: date) -> list[Text]:
    rng = random.Random(seed)
    texts = []
    for back in range(17):
        day = last - timedelta(days=back)
        burst = f"Zorb{seed}" if back == 0 else None
        for _ in range(rng.randint(0, 40)):
            words = rng.choices(WORDS, k=5) + ([burst] if burst and rng.random() < 0.5 else [])
            title = " ".join(words)
            texts.append(Text(day, rng.choice(OUTLETS), title, f"{title}. Then {title.upper()}."))
    return texts


@pytest.mark.parametrize("seed", range(8))
def test_emerging_terms_from_day_counts_equal_counting_every_text(seed: int) -> None:
    last = date(2025, 1, 20)
    texts = random_texts(seed, last)
    topic = (Topic("apple", "Apple", ("Apple",)),)
    for day in (last, last - timedelta(days=1)):
        for topics in ((), topic):
            expected = counted_every_time(texts, day, topics)
            assert emerging_terms(texts, day, topics) == expected
            history = {
                d: day_names(t for t in texts if t.day == d)
                for d in {t.day for t in texts}
                if d < day
            }
            history = {d: trends.DayNames.from_json(n.to_json()) for d, n in history.items()}
            today = [t for t in texts if t.day == day]
            assert emerging_terms_from(today, history, day, topics) == expected


# --- the app ------------------------------------------------------------------------------


def make_app(tmp_path: Path, site: str = "site", tz: str = "UTC", now: date | None = None) -> App:
    data: dict[str, Any] = {
        "database": str(tmp_path / "tracker.db"),
        "timezone": tz,
        "feeds": [
            {"url": f"https://{i}.example.org/feed", "outlet": o} for i, o in enumerate(OUTLETS)
        ],
        "topics": TOPICS,
        "site": {"output_dir": str(tmp_path / site)},
    }
    clock = datetime.combine(now or date(2025, 2, 3), datetime.max.time(), tzinfo=UTC)
    return App(config_from_mapping(data, tmp_path / "config.yaml"), clock=lambda: clock)


def entry(day: date, i: int, minute: int | None = None) -> Entry:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    o = i % len(OUTLETS)
    title = " ".join(WORDS[(i * 7 + k * day.day) % len(WORDS)] for k in range(5)).capitalize()
    return Entry(
        id=f"{day:%Y%m%d}-{i:03d}",
        feed_url=f"https://{o}.example.org/feed",
        link=f"https://{o}.example.org/{day:%Y/%m/%d}/{i}",
        title=title,
        summary=title + ". More words about " + WORDS[i % len(WORDS)],
        published=start + timedelta(minutes=37 * i if minute is None else minute),
        content_html="",
        outlet=OUTLETS[o],
    )


def add_day(app: App, day: date, n: int = 9) -> None:
    entries = [entry(day, i) for i in range(n)]
    with app.store.transaction():
        for k in range(0, n, 3):
            save(app, f"s{entries[k].id}", entries[k : k + 3])


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_days_are_the_local_days_of_the_entries(tmp_path: Path, tz: str) -> None:
    from zoneinfo import ZoneInfo

    with make_app(tmp_path, tz=tz) as app:
        entries = [
            entry(date(2025, 1, d), i, minute)
            for d in (1, 2, 5)
            for i, minute in enumerate(
                (0, 5 * 60 + 20, 5 * 60 + 40, 18 * 60 + 20, 18 * 60 + 40, 1439)
            )
        ]
        with app.store.transaction():
            app.store.add_entries(entries, entries[0].published)
        expected = sorted({e.published.astimezone(ZoneInfo(tz)).date() for e in entries})
        assert app.days() == expected


def test_trends_from_cached_day_counts_equal_counting_again(tmp_path: Path) -> None:
    last = date(2025, 1, 17)
    with make_app(tmp_path, now=last) as app:
        for d in range(17):
            add_day(app, date(2025, 1, 1) + timedelta(days=d), n=12)
        with app.store.transaction():  # a name five outlets use, on the last day only
            burst = [entry(last, 60 + i, minute=10 * i) for i in range(8)]
            burst = [
                replace(e, title=f"Zorblax {e.title}", outlet=OUTLETS[i % 5])
                for i, e in enumerate(burst)
            ]
            save(app, "szorblax", burst)
        app.update_topics()
        cold = app.trends(last)
        assert [t.term for t in cold[1]] == ["Zorblax"]
        counted = "SELECT count(*) FROM day_names WHERE data IS NOT NULL"
        assert app.store.db.execute(counted).fetchone()[0] == 14  # the trailing days
        assert app.store.day_emerging(last) is not None
        assert app.trends(last) == cold
        # Cached counts or terms that no longer match their inputs are counted again.
        app.store.db.execute('UPDATE day_names SET data = \'{"v": 1, "c": {"x": 1}}\'')
        assert app.trends(last) == cold
        app.store.db.execute("UPDATE day_names SET emerging = '[]', fingerprint = 'stale'")
        app.store.db.execute(
            "UPDATE day_names SET emerging_key = 'stale' WHERE emerging_key IS NOT NULL"
        )
        assert app.trends(last) == cold
        # A past day gains entries: its hash changes and its names are counted again.
        with app.store.transaction():
            burst = [entry(last - timedelta(days=3), 50 + i, minute=i) for i in range(6)]
            save(app, "sburst", burst)
        fresh = app.trends(last)
        app.store.db.execute("DELETE FROM day_names")
        assert app.trends(last) == fresh


def test_a_rebuild_reads_changed_stories_from_the_change_log(tmp_path: Path) -> None:
    with make_app(tmp_path) as app:
        for d in range(3):
            add_day(app, date(2025, 1, 30) + timedelta(days=d))
        app.update_topics()
        app.build_site()
        assert app.store.db.execute("SELECT count(*) FROM story_changes").fetchone()[0] == 0
        assert app.build_site().written == ()
        # An old story in January grows a member that makes it start a day earlier: its page,
        # the days it touches and both months of the search index change.
        with app.store.transaction():
            save(app, "s20250201-000", [entry(date(2025, 1, 31), 30)])
        with app.store.transaction():
            app.store.db.execute(
                "UPDATE stories SET headline = 'Edited' WHERE id = ?", ["s20250130-003"]
            )
        app.update_topics()
        again = app.build_site()
        assert {"stories/s20250201-000.html", "stories/s20250130-003.html"} <= set(again.written)
        assert "stories/s20250130-000.html" in again.unchanged
        assert {"search/2025-01.js", "search/2025-02.js"} <= set(again.written)
    with make_app(tmp_path, site="full") as app:
        app.build_site_full()
    assert files(tmp_path / "site") == files(tmp_path / "full")


def test_the_change_log_is_kept_for_the_folder_built_longest_ago(tmp_path: Path) -> None:
    with make_app(tmp_path, site="a") as app:
        add_day(app, date(2025, 2, 1))
        app.update_topics()
        app.build_site()
        with app.store.transaction():
            save(app, "s20250201-000", [entry(date(2025, 2, 1), 40)])
        app.update_topics()
    with make_app(tmp_path, site="b") as app:
        app.build_site()
        assert app.store.db.execute("SELECT count(*) FROM story_changes").fetchone()[0] > 0
    with make_app(tmp_path, site="a") as app:
        again = app.build_site()
        assert "stories/s20250201-000.html" in again.written
        assert app.store.db.execute("SELECT count(*) FROM story_changes").fetchone()[0] == 0
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_a_missing_search_part_is_written_again(tmp_path: Path) -> None:
    with make_app(tmp_path) as app:
        add_day(app, date(2025, 1, 31))
        add_day(app, date(2025, 2, 1))
        app.build_site()
        before = files(tmp_path / "site")
        (tmp_path / "site" / "search" / "2025-01.js").unlink()
        again = app.build_site()
        assert set(again.written) == {"search/2025-01.js"}
    assert files(tmp_path / "site") == before


def names_before(text: str, skip_first: bool) -> list[str]:
    """trends._names before issue 8 made it skip plain lower-case words first."""
    out: list[str] = []
    words = trends._WORD.findall(text.replace("\u2019", "'"))
    previous: str | None = None
    for i, raw in enumerate(words):
        word = raw.strip(".-")
        name = None
        if (
            len(word) >= 2
            and word.casefold() not in trends.EXTRA_STOP
            and not (skip_first and i == 0)
        ):
            has_digit = any(c.isdigit() for c in word)
            if (word[0].isupper() or has_digit) and any(c.isalpha() for c in word):
                name = word
        if name is not None:
            out.append(name)
            if previous is not None:
                out.append(f"{previous} {name}")
        previous = name
    return out


def test_names_are_found_as_before() -> None:
    rng = random.Random(3)
    pieces = [
        *WORDS,
        "iPhone",
        "GPT-4o",
        "r1",
        "x86",
        "Ⅷ2",
        "ÉCOLE",
        "über",
        "The",
        "it's",
        "Apple\u2019s",
        "M4.",
        "-Zed-",
        "ok",
        "A",
        "3",
        "Straße",
        "ǅemal",
        "H100s",
        "e.g.",
    ]
    for _ in range(3000):
        text = " ".join(rng.choices(pieces, k=rng.randint(1, 9)))
        for skip in (False, True):
            assert trends._names(text, skip) == names_before(text, skip), text


def test_the_year_bench_still_runs_at_a_tiny_size() -> None:
    """bench/year.py (a stage per process) at 2 days of 30 entries; no timing is asserted."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "bench/year.py", "--days", "2", "--per-day", "30"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| site, 2 days x 30 | pages/s, full build" in done.stdout
    assert "full run: cluster, topics, site, email in one process" in done.stdout


def test_the_archive_of_many_days_reads_old_days_slim_with_the_bytes_of_a_full_build(
    tmp_path: Path,
) -> None:
    first = date(2025, 1, 1)
    with make_app(tmp_path, now=first + timedelta(days=35)) as app:
        for d in range(35):
            add_day(app, first + timedelta(days=d), n=3)
        app.update_topics()
        app.build_site()
        add_day(app, first + timedelta(days=35), n=3)
        with app.store.transaction():  # a story of the second day grows
            save(app, "s20250102-000", [entry(first + timedelta(days=35), 40)])
        app.update_topics()
        again = app.build_site()
        assert "days/2025-01-02.html" in again.written
        assert "days/2025-01-10.html" in again.unchanged
        assert "archive.html" in again.written
    with make_app(tmp_path, site="full", now=first + timedelta(days=35)) as app:
        app.build_site_full()
    assert files(tmp_path / "site") == files(tmp_path / "full")
