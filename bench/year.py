"""A year of daily digests: the full site build, the rebuild after one more day, and the memory
of every stage of a full run, each stage in its own process.

    python bench/year.py [--days 20,365] [--per-day 3000] [--keep DIR [--reuse]] [--json FILE]

At the default sizes this takes about 25 minutes and 6 GB of disk (the 365-day database is
1.3 GB, its site 5 GB). ``--keep DIR`` keeps each archive in DIR/<days>d; ``--reuse`` then
measures the kept archives again (after a code change, say) without generating them: the
full build starts from an empty folder, and the days are added after those already there.

For each archive size (``--days``; the first is the baseline archive the others are set
against) the database is generated straight into SQLite (entries with their FTS index,
stories of one to a few dozen members spanning up to four days, two topics): no fetching or
clustering, this measures what comes after. Then, each stage in a fresh child process whose
peak resident memory (``ru_maxrss``) is read when it ends, so that no stage hides another's
peak:

  topics      ``App.update_topics()`` over every story (the first matching)
  full        ``App.build_site()`` into an empty folder: pages per second
  noop        ``App.build_site()`` again, nothing changed: what a rebuild costs before any page
  +1 day      3,000 more entries, unclustered, then the stages of ``tracker run`` after
              fetching, one process each: ``cluster`` (the real online clustering of the new
              day against its window), ``topics`` (the changed stories), ``site`` (the
              rebuild: seconds and pages written), ``email`` (the day's message, written)
  +1 day, run one more day, and all four stages in ONE process (a full run's peak memory)

Rows: full build pages/s; the rebuild against the full build of the same archive; every
stage's peak memory; and the rebuild of each larger archive against the first (a rebuild that
does not grow with the archive has a ratio near 1).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import NEWS_WORDS, Row, table

OUTLETS = [
    "Ars Technica",
    "The Verge",
    "Wired",
    "TechCrunch",
    "BBC",
    "Reuters",
    "Engadget",
    "The Register",
    "ZDNet",
    "Bloomberg",
    "Hacker News",
]
AGGREGATORS = {"Hacker News"}
WORDS = [
    *NEWS_WORDS,
    "lawsuit",
    "earnings",
    "rollout",
    "feature",
    "app",
    "store",
    "price",
    "deal",
    "leak",
    "breach",
    "ruling",
    "vote",
    "ban",
    "tariff",
    "export",
    "data",
    "center",
    "power",
    "grid",
    "camera",
    "display",
    "sensor",
    "driver",
    "storage",
    "memory",
    "compiler",
]
NAMES = [
    "Nvidia",
    "OpenAI",
    "Google",
    "Apple",
    "Microsoft",
    "Meta",
    "Amazon",
    "Samsung",
    "Intel",
    "AMD",
    "TSMC",
    "Tesla",
    "SpaceX",
    "Anthropic",
    "DeepSeek",
    "Huawei",
    "Qualcomm",
    "Arm",
    "IBM",
    "Oracle",
    "Netflix",
    "Spotify",
    "Uber",
    "Reddit",
    "GitHub",
    "Linux",
    "Android",
    "Windows",
    "iPhone",
    "Pixel",
    "Galaxy",
    "Gemini",
    "Claude",
    "Llama",
    "Copilot",
    "Starlink",
    "FTC",
    "EU",
    "UK",
    "China",
    "Japan",
    "Congress",
    "Senate",
]
SYLLABLES = ["ka", "lo", "mi", "ra", "ze", "tu", "vo", "ni", "xa", "qe", "do", "fi"]


def _name(rng: random.Random) -> str:
    """A made-up product or company name, the kind that suddenly emerges."""
    word = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
    return word + (str(rng.randint(2, 9)) if rng.random() < 0.3 else "")


def _config(folder: Path):  # type: ignore[no-untyped-def]
    from tracker.config import config_from_mapping

    data: dict[str, object] = {
        "database": str(folder / "tracker.db"),
        "feeds": [
            {
                "url": f"https://{i}.example.org/feed",
                "outlet": o,
                "aggregator": o in AGGREGATORS,
            }
            for i, o in enumerate(OUTLETS)
        ],
        "site": {"output_dir": str(folder / "site")},
        # Two topics, each on a few percent of the stories.
        "topics": [
            {"slug": "satellites", "name": "Satellites", "keywords": ["satellite robot"]},
            {"slug": "outages", "name": "Outages", "keywords": ["outage patch"]},
        ],
    }
    return config_from_mapping(data, folder / "config.yaml")


class Generator:
    """Entries of one day after another; a story's members spread over up to four days."""

    def __init__(self, per_day: int, seed: int = 8) -> None:
        self.per_day = per_day
        self.rng = random.Random(seed)
        # story id -> [theme words, first, last, members, outlets, headline, link, summary, day]
        self.open: dict[str, list[Any]] = {}

    def day(self, day: date) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]], list[Any]]:
        """(entry rows, (entry id, story id), the stories touched that day, as rows)."""
        rng = self.rng
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.open = {k: v for k, v in self.open.items() if (day - v[8]).days <= 3}
        live = list(self.open)
        emerging = [_name(rng) for _ in range(3)]
        entries: list[tuple[Any, ...]] = []
        links: list[tuple[str, str]] = []
        touched: dict[str, list[Any]] = {}
        for i in range(self.per_day):
            o = rng.randrange(len(OUTLETS))
            eid = f"{day:%Y%m%d}-{i:05d}"
            published = start + timedelta(seconds=86399 * i // self.per_day)
            if live and rng.random() < 0.66:
                # Mostly a story of the last hours; now and then an older one still open.
                if rng.random() < 0.8:
                    sid = live[-1 - min(int(rng.expovariate(1 / 60)), len(live) - 1)]
                else:
                    sid = rng.choice(live)
                story = self.open[sid]
            else:
                sid = "s" + eid
                theme = rng.sample(WORDS, 3) + rng.sample(NAMES, 1)
                if rng.random() < 0.02:
                    theme.append(rng.choice(emerging))
                story = self.open[sid] = [theme, published, published, 0, set(), "", "", "", day]
                live.append(sid)
            theme = story[0]
            words = theme + rng.choices(WORDS, k=4) + rng.choices(NAMES, k=1)
            rng.shuffle(words)
            title = " ".join(words).capitalize()
            summary = (
                f"{title}. "
                + " ".join(rng.choices(WORDS, k=14))
                + f". {rng.choice(NAMES)} said "
                + " ".join(rng.choices(WORDS + theme, k=12))
                + "."
            )
            link = f"https://{o}.example.org/{day:%Y/%m/%d}/{i}"
            outlet = OUTLETS[o]
            entries.append(
                (
                    eid,
                    f"https://{o}.example.org/feed",
                    link,
                    None,
                    title,
                    summary,
                    "",
                    "",
                    outlet,
                    _ts(published),
                    None,
                    _ts(published),
                )
            )
            links.append((eid, sid))
            if story[3] == 0:
                story[5], story[6], story[7] = title, link, summary[:280]
            story[2] = published
            story[3] += 1
            if outlet not in AGGREGATORS:
                story[4].add(outlet)
            story[8] = day
            touched[sid] = story
        rows = [
            (
                sid,
                s[5],
                s[6],
                s[7],
                _ts(s[1]),
                _ts(s[2]),
                s[3],
                len(s[4]),
                json.dumps(sorted(s[0][:3])),
            )
            for sid, s in sorted(touched.items())
        ]
        return entries, links, rows


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


ENTRY_SQL = (
    "INSERT INTO entries (id, feed_url, link, guid, title, summary, content_html, author,"
    " outlet, published, updated, first_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def generate(folder: Path, days: int, per_day: int) -> tuple[Generator, date]:
    """The archive: ``days`` days from 2025-01-01, stories and all. Returns the generator
    (to add more days with the same stories open) and the last day."""
    from tracker.app import App

    config = _config(folder)
    first = date(2025, 1, 1)
    with App(config, clock=lambda: datetime(2025, 1, 1, tzinfo=UTC)) as app:
        app.sync_feeds()
    gen = Generator(per_day)
    db = sqlite3.connect(folder / "tracker.db")
    for d in range(days):
        entries, links, stories = gen.day(first + timedelta(days=d))
        with db:
            db.executemany(ENTRY_SQL, entries)
            db.executemany(
                "INSERT INTO story_entries (entry_id, story_id, similarity, joined_terms)"
                " VALUES (?, ?, 1.0, '[]')",
                links,
            )
            db.executemany(
                "INSERT OR REPLACE INTO stories (id, headline, link, summary, first_seen,"
                " last_seen, n_entries, n_outlets, shared_terms) VALUES (?,?,?,?,?,?,?,?,?)",
                stories,
            )
    db.close()
    return gen, first + timedelta(days=days - 1)


def add_unclustered(folder: Path, gen: Generator, day: date) -> None:
    """One more day of entries, not yet in any story (``tracker fetch`` stored them)."""
    entries, _, _ = gen.day(day)
    db = sqlite3.connect(folder / "tracker.db")
    with db:
        db.executemany(ENTRY_SQL, entries)
    db.close()


# --- one stage in a child process -------------------------------------------------------------


def stage(name: str, folder: Path, now: datetime) -> dict[str, Any]:
    """Run one stage (or ``run``: every stage after fetching) in this process."""
    from tracker.app import App

    out: dict[str, Any] = {}
    with App(_config(folder), clock=lambda: now) as app:
        t0 = time.perf_counter()
        if name == "full":
            shutil.rmtree(folder / "site", ignore_errors=True)
        if name in ("cluster", "run"):
            t = time.perf_counter()
            out["clustered"] = app.cluster()
            out["cluster_s"] = time.perf_counter() - t
        if name in ("topics", "run"):
            t = time.perf_counter()
            app.update_topics()
            out["topics_s"] = time.perf_counter() - t
        if name in ("full", "noop", "site", "run"):
            t = time.perf_counter()
            report = app.build_site()
            out["site_s"] = time.perf_counter() - t
            out["written"] = len(report.written)
            out["pages"] = len(report.written) + len(report.unchanged)
        if name in ("email", "run"):
            from tracker.mail import write_eml

            t = time.perf_counter()
            write_eml(app.email(app.today()), folder / "digest.eml")
            out["email_s"] = time.perf_counter() - t
        out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child(name: str, folder: Path, now: datetime) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--stage", name, "--dir", str(folder), "--now"]
    done = subprocess.run([*argv, now.isoformat()], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"stage {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {name}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def _end_of(day: date) -> datetime:
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC).replace(microsecond=0)


def measure(days: int, per_day: int, folder: Path, reuse: bool = False) -> dict[str, Any]:
    """Every stage on an archive of ``days`` days; the numbers of each child."""
    print(f"{days} days x {per_day}:", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    if reuse:  # an archive kept by an earlier run, with the days that run added
        db = sqlite3.connect(folder / "tracker.db")
        last = date.fromisoformat(
            db.execute("SELECT max(published) FROM entries").fetchone()[0][:10]
        )
        db.close()
        gen = Generator(per_day, seed=last.toordinal())
    else:
        gen, last = generate(folder, days, per_day)
    result: dict[str, Any] = {"generate_s": time.perf_counter() - t0}
    print(f"  generated in {result['generate_s']:.0f} s", file=sys.stderr, flush=True)
    now = _end_of(last)
    result["topics_all"] = child("topics", folder, now)
    result["full"] = child("full", folder, now)
    result["noop"] = child("noop", folder, now)
    for n, key in ((1, "day"), (2, "run")):
        day = last + timedelta(days=n)
        add_unclustered(folder, gen, day)
        now = _end_of(day)
        if key == "day":
            result[key] = {s: child(s, folder, now) for s in ("cluster", "topics", "site", "email")}
        else:
            result[key] = child("run", folder, now)
    result["db_mb"] = (folder / "tracker.db").stat().st_size / 1e6
    return result


def rows_of(days: int, per_day: int, r: dict[str, Any], base: Any = None) -> list[Row]:
    size = f"site, {days} days x {per_day:,}"
    full, day, run = r["full"], r["day"], r["run"]
    rate = full["pages"] / full["site_s"]
    rebuild = day["site"]["site_s"]
    out = [
        Row(
            size,
            f"pages/s, full build ({full['pages']:,} pages)",
            "-",
            None,
            rate,
            ">= 300 pages/s",
            rate >= 300,
        ),
        Row(
            size,
            "seconds, rebuild with nothing changed",
            "full build",
            full["site_s"],
            r["noop"]["site_s"],
            "",
            None,
        ),
        Row(
            size,
            f"seconds, rebuild after one more day ({day['site']['written']:,} of "
            f"{day['site']['pages']:,} pages written)",
            "full build",
            full["site_s"],
            rebuild,
            "<= 5 s, changed pages only",
            rebuild <= 5.0,
        ),
        Row(
            size,
            f"seconds, rebuild in a full run one day later ({run['written']:,} pages written)",
            "full build",
            full["site_s"],
            run["site_s"],
            "<= 5 s, changed pages only",
            run["site_s"] <= 5.0,
        ),
    ]
    if base is not None:
        b_days, b = base
        out.append(
            Row(
                size,
                "seconds, rebuild after one more day, against the smaller archive",
                f"{b_days} days",
                b["day"]["site"]["site_s"],
                rebuild,
                "does not grow with the archive",
                None,
            )
        )
    peaks = [
        ("topic matching, every story", r["topics_all"]),
        ("full site build", full),
        ("clustering of the new day", day["cluster"]),
        ("topic matching of the new day", day["topics"]),
        ("site rebuild", day["site"]),
        ("email of the day", day["email"]),
    ]
    for what, p in peaks:
        out.append(
            Row(
                f"memory, {days} days x {per_day:,}",
                f"peak MB, {what} (own process)",
                "-",
                None,
                p["peak_mb"],
                "< 1,000 MB",
                p["peak_mb"] < 1000,
            )
        )
    out.append(
        Row(
            f"memory, {days} days x {per_day:,}",
            "peak MB, full run: cluster, topics, site, email in one process "
            f"({run['seconds']:.1f} s)",
            "-",
            None,
            run["peak_mb"],
            "< 1,000 MB",
            run["peak_mb"] < 1000,
        )
    )
    return out


def run(args: argparse.Namespace) -> list[Row]:
    sizes = [int(d) for d in str(args.days).split(",")]
    rows: list[Row] = []
    base = None
    for days in sizes:
        if args.keep:
            folder = Path(args.keep) / f"{days}d"
            if not args.reuse:
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
        else:
            folder = Path(tempfile.mkdtemp(prefix=f"bench-year-{days}-"))
        try:
            result = measure(days, args.per_day, folder, bool(args.reuse))
            if args.json:
                with open(args.json, "a", encoding="utf-8") as out:
                    out.write(json.dumps({"days": days, **result}) + "\n")
            rows += rows_of(days, args.per_day, result, base)
            base = base or (days, result)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    return rows


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", default="20,365", help="archive sizes, comma-separated")
    p.add_argument("--per-day", type=int, default=3000)
    p.add_argument("--keep", default="", help="keep each archive in DIR/<days>d")
    p.add_argument("--json", default="", help="append each size's raw numbers to this file")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: measure the archives an earlier --keep run left (no generating)",
    )
    p.add_argument("--stage", default="", help=argparse.SUPPRESS)
    p.add_argument("--dir", default="", help=argparse.SUPPRESS)
    p.add_argument("--now", default="", help=argparse.SUPPRESS)
    return p


def main() -> None:
    args = parser().parse_args()
    if args.stage:
        result = stage(args.stage, Path(args.dir), datetime.fromisoformat(args.now))
        print(json.dumps(result))
        return
    print(table(run(args)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
