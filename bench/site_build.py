"""Static site: a full build of many days of digests, then a rebuild after one more day.

    python bench/site_build.py [--days 365] [--per-day 3000] [--story-size 3] [--runs 3]

The database is generated straight into the store (entries, stories of ``--story-size``
members, no clustering: this measures the site, not the pipeline before it). Measured:

  full build    ``App.build_site()`` into an empty folder: every page rendered and written;
                pages per second, and the process' peak memory
  rebuild       one more day of entries and stories added, ``App.build_site()`` again over
                the same folder: seconds and pages written; the baseline is the full build
                of the same database into an empty folder (what a site generator without
                change detection does)
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import NEWS_WORDS, Row, peak_rss_mb, table

OUTLETS = ["Ars Technica", "The Verge", "Wired", "TechCrunch", "BBC", "Reuters", "Engadget"]
WORDS = NEWS_WORDS


def _app(folder: Path, topics: bool = False):  # type: ignore[no-untyped-def]
    from tracker.app import App
    from tracker.config import config_from_mapping

    data: dict[str, object] = {
        "database": str(folder / "tracker.db"),
        "feeds": [
            {"url": f"https://{i}.example.org/feed", "outlet": o} for i, o in enumerate(OUTLETS)
        ],
        "site": {"output_dir": str(folder / "site")},
    }
    if topics:  # two topics, each on a few percent of the stories
        data["topics"] = [
            {"slug": "satellites", "name": "Satellites", "keywords": ["satellite robot"]},
            {"slug": "outages", "name": "Outages", "keywords": ["outage patch"]},
        ]
    end = [datetime(2025, 1, 1, tzinfo=UTC)]
    return App(config_from_mapping(data, folder / "config.yaml"), clock=lambda: end[0]), end


def add_day(app, day: date, per_day: int, story_size: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """``per_day`` entries of one day, grouped into stories of ``story_size``."""
    from tracker.models import Assignment, Entry, Member, Story

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    entries = []
    for i in range(per_day):
        o = i % len(OUTLETS)
        title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
        entries.append(
            Entry(
                id=f"{day:%Y%m%d}-{i:05d}",
                feed_url=f"https://{o}.example.org/feed",
                link=f"https://{o}.example.org/{day:%Y/%m/%d}/{i}",
                title=title,
                summary=title + ". " + " ".join(rng.choice(WORDS) for _ in range(30)),
                published=start + timedelta(seconds=86399 * i // per_day),
                content_html="",
                outlet=OUTLETS[o],
            )
        )
    store = app.store
    with store.transaction():
        store.add_entries(entries, start)
        assignments = []
        for k in range(0, len(entries), story_size):
            group = entries[k : k + story_size]
            sid = "s" + group[0].id
            assignments += [Assignment(e.id, sid, 1.0, ()) for e in group]
            members = tuple(
                Member(e.id, e.title, e.link, e.outlet, e.published, e.summary) for e in group
            )
            store.save_story(
                Story(
                    sid,
                    group[0].title,
                    group[0].link,
                    group[0].summary[:280],
                    group[0].published,
                    group[-1].published,
                    members,
                )
            )
        store.save_assignments(assignments)


def run(args: argparse.Namespace) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="bench-site-"))
    rng = random.Random(4)
    rows: list[Row] = []
    try:
        app, clock = _app(folder, args.topics)
        with app:
            first = date(2025, 1, 1)
            for d in range(args.days):
                add_day(app, first + timedelta(days=d), args.per_day, args.story_size, rng)
            last = first + timedelta(days=args.days - 1)
            clock[0] = datetime.combine(last, datetime.max.time(), tzinfo=UTC)
            app.update_topics()
            fulls: list[float] = []
            pages = 0
            for _ in range(args.runs):
                shutil.rmtree(folder / "site", ignore_errors=True)
                t0 = time.perf_counter()
                report = app.build_site()
                fulls.append(time.perf_counter() - t0)
                pages = len(report.written) + len(report.unchanged)
            full = sorted(fulls)[len(fulls) // 2]
            rate = pages / full
            rows.append(
                Row(
                    f"site, {args.days} days x {args.per_day:,}",
                    f"pages/s, full build ({pages:,} pages)",
                    "-",
                    None,
                    rate,
                    ">= 300 pages/s",
                    rate >= 300,
                    args.runs,
                )
            )
            add_day(app, last + timedelta(days=1), args.per_day, args.story_size, rng)
            clock[0] += timedelta(days=1)
            t0 = time.perf_counter()
            app.update_topics()
            matched = time.perf_counter() - t0
            if args.topics:  # the same matching again, over every story (what it did before)
                app.store.set_meta("topics_hash", "")
                t0 = time.perf_counter()
                app.update_topics()
                rows.append(
                    Row(
                        f"site, {args.days} days x {args.per_day:,}",
                        "seconds, topic matching after one more day (2 topics)",
                        "every story matched",
                        time.perf_counter() - t0,
                        matched,
                        "only changed stories",
                        True,
                        1,
                    )
                )
            t0 = time.perf_counter()
            report = app.build_site()
            again = time.perf_counter() - t0
            rows.append(
                Row(
                    f"site, {args.days} days x {args.per_day:,}",
                    f"seconds, rebuild after one more day ({len(report.written):,} of "
                    f"{len(report.written) + len(report.unchanged):,} pages written)",
                    "full build",
                    full,
                    again,
                    "<= 5 s, changed pages only",
                    again <= 5.0,
                    1,
                )
            )
            rows.append(
                Row(
                    f"site, {args.days} days x {args.per_day:,}",
                    "peak memory MB (whole bench process)",
                    "-",
                    None,
                    peak_rss_mb(),
                    "< 1,000 MB",
                    peak_rss_mb() < 1000,
                    1,
                )
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--per-day", type=int, default=3000)
    p.add_argument("--story-size", type=int, default=3)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--topics", action="store_true", help="configure two topics")
    return p


def main() -> None:
    print(table(run(parser().parse_args())))


if __name__ == "__main__":
    main()
