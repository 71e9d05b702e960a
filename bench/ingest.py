"""Ingest (parse, clean, dedupe, store with FTS) next to the ``reader`` library; steady state.

    python bench/ingest.py [--feeds 250] [--per-feed 200] [--runs 3]
                           [--reader-python /tmp/readerenv/bin/python] [--no-feedparser]

Two corpora of local files: the bundled demo corpus (examples/technews-jan2025, 104 daily
snapshots of 8 feeds, overlapping from day to day) and a generated one (``--feeds`` files of
``--per-feed`` entries, 3 in 5 RSS 2.0 and 2 in 5 Atom, HTML summaries of 0.3-1.5 KB and,
in one feed of four, 2-6 KB of content). Each run starts from an empty database; the
contenders take turns within each run (medians of ``--runs``; every run's rate goes to
stderr).

  tracker        ``App.fetch(all_feeds=True)`` over the files as ``file://`` feeds: read,
                 parse (lxml fast path, feedparser fallback), clean with nh3, dedupe, store
                 in SQLite with the FTS5 index; parse worker processes as tracker chooses
                 (one per CPU for 24 feeds or more, tracker/parse_pool.py)
  tracker, 1 process
                 the same, parsing in the one process
  tracker, feedparser only
                 one process with the fast path off (``parse_feed(fast=False)``): the
                 parsing tracker had before issue 8
  reader         the ``reader`` library (feedparser-based) updating the same files into its
                 own SQLite store, in its own venv (never a tracker dependency):
                 python -m venv /tmp/readerenv && /tmp/readerenv/bin/pip install reader sgmllib3k
  steady state   a second ``fetch --all`` over the unchanged files, as a share of the first:
                 an unchanged body (same hash) is not parsed

Entries per second count entries stored (new ones). One row also compares seconds for the
same files (reader keeps each snapshot's copy of an entry, tracker one, so on overlapping
snapshots entries per second undersell tracker).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, table

WORDS = [
    "chip",
    "model",
    "cloud",
    "data",
    "open",
    "source",
    "launch",
    "update",
    "security",
    "breach",
    "court",
    "ruling",
    "battery",
    "phone",
    "laptop",
    "network",
    "satellite",
    "robot",
    "vision",
    "speech",
    "search",
    "startup",
    "funding",
    "billion",
    "regulator",
    "privacy",
    "browser",
    "kernel",
    "release",
    "patch",
    "outage",
    "market",
    "share",
    "quarter",
    "revenue",
    "energy",
    "grid",
    "solar",
    "quantum",
    "processor",
    "memory",
    "storage",
    "camera",
    "display",
    "foldable",
    "tariff",
    "export",
    "control",
    "lawsuit",
    "antitrust",
    "merger",
    "layoffs",
    "hiring",
    "research",
    "paper",
    "benchmark",
    "agent",
]
NAMES = [
    "Nvidia",
    "Apple",
    "Google",
    "Microsoft",
    "OpenAI",
    "DeepSeek",
    "Samsung",
    "Intel",
    "AMD",
    "TSMC",
    "Meta",
    "Amazon",
]


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[rng.randrange(n)] = rng.choice(NAMES)
    return " ".join(words).capitalize() + "."


def _html(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        text = escape(_sentence(rng, rng.randint(8, 20)))
        link = f'<a href="https://example.com/{rng.randrange(10**6)}">more</a>'
        parts.append(f"<p>{text} {link}</p>")
    return "".join(parts)


def generate(folder: Path, feeds: int, per_feed: int, seed: int = 8) -> list[Path]:
    """``feeds`` feed files of ``per_feed`` entries each under ``folder``; deterministic."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    paths = []
    for f in range(feeds):
        atom = f % 5 >= 3
        full = f % 4 == 0
        host = f"https://news{f}.example.org"
        items = []
        for i in range(per_feed):
            when = start + timedelta(minutes=37 * i + f)
            title = escape(_sentence(rng, rng.randint(5, 12)))
            summary = escape(_html(rng, rng.randint(300, 1500)))
            content = escape(_html(rng, rng.randint(2000, 6000))) if full else ""
            link = f"{host}/{when:%Y/%m/%d}/story-{i}"
            if atom:
                items.append(
                    f"<entry><title>{title}</title><link href='{link}'/>"
                    f"<id>tag:news{f},2025:{i}</id><updated>{when.isoformat()}</updated>"
                    f"<author><name>Writer {i % 7}</name></author>"
                    f"<summary type='html'>{summary}</summary>"
                    + (f"<content type='html'>{content}</content>" if full else "")
                    + "</entry>"
                )
            else:
                items.append(
                    f"<item><title>{title}</title><link>{link}</link>"
                    f"<guid isPermaLink='false'>news{f}-{i}</guid>"
                    f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
                    f"<dc:creator>Writer {i % 7}</dc:creator><description>{summary}</description>"
                    + (f"<content:encoded>{content}</content:encoded>" if full else "")
                    + "</item>"
                )
        if atom:
            doc = (
                "<?xml version='1.0' encoding='utf-8'?>\n"
                "<feed xmlns='http://www.w3.org/2005/Atom'>"
                f"<title>News {f}</title><link href='{host}/'/><id>{host}/</id>"
                f"<updated>{start.isoformat()}</updated>" + "".join(items) + "</feed>"
            )
        else:
            doc = (
                "<?xml version='1.0' encoding='utf-8'?>\n"
                "<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/' "
                "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
                f"<title>News {f}</title><link>{host}/</link><description>d</description>"
                + "".join(items)
                + "</channel></rss>"
            )
        path = folder / f"feed{f:04d}.xml"
        path.write_text(doc, encoding="utf-8")
        paths.append(path)
    return paths


def bundled_files() -> list[Path]:
    from tracker.resources import examples_dir

    return sorted((examples_dir() / "technews-jan2025" / "feeds").glob("*/*.xml"))


def _app(folder: Path, files: list[Path]):  # type: ignore[no-untyped-def]
    from tracker.app import App
    from tracker.config import config_from_mapping

    data = {
        "database": str(folder / "tracker.db"),
        "feeds": [{"url": p.resolve().as_uri()} for p in files],
        "site": {"output_dir": str(folder / "site")},
    }
    return App(config_from_mapping(data, folder / "config.yaml"))


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children so far."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def tracker_ingest(
    files: list[Path], fast: bool = True, workers: int | None = None
) -> tuple[int, float, float, float]:
    """(entries stored, seconds of the first fetch --all, of the second, CPU seconds of the
    first, parse workers included: they have finished when fetch returns).

    ``workers`` None lets tracker choose its parse processes (tracker/parse_pool.py); 0 parses
    in the one process.
    """
    from tracker import parse

    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    original = parse.parse_feed
    try:
        with (
            mock.patch.object(
                parse, "parse_feed", lambda *a, **k: original(*a, **{**k, "fast": fast})
            ),
            _app(folder, files) as app,
        ):
            app.parse_workers = workers
            cpu, t0 = _cpu_seconds(), time.perf_counter()
            first = app.fetch(all_feeds=True)
            t1, cpu = time.perf_counter(), _cpu_seconds() - cpu
            second = app.fetch(all_feeds=True)
            t2 = time.perf_counter()
            assert not first.failed, first.failed[:3]
            assert second.new_entries == 0
            return first.new_entries, t1 - t0, t2 - t1, cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)


READER_SCRIPT = """
import sys, time, json, tempfile, os
from reader import make_reader
paths = json.load(sys.stdin)
folder = tempfile.mkdtemp(prefix="bench-reader-")
reader = make_reader(os.path.join(folder, "reader.sqlite"), feed_root="")
for p in paths:
    reader.add_feed(p)
cpu, t0 = time.process_time(), time.perf_counter()
reader.update_feeds()
seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
print(json.dumps([reader.get_entry_counts().total, seconds, cpu]))
reader.close()
import shutil
shutil.rmtree(folder, ignore_errors=True)
"""


def reader_ingest(python: str, files: list[Path]) -> tuple[int, float, float]:
    """(entries, seconds, CPU seconds) for reader's update_feeds over the same files, from
    empty (reader updates in one thread of one process)."""
    done = subprocess.run(
        [python, "-c", READER_SCRIPT],
        input=json.dumps([str(p.resolve()) for p in files]),
        capture_output=True,
        text=True,
        check=True,
    )
    entries, seconds, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return int(entries), float(seconds), float(cpu)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def measure(
    args: argparse.Namespace, files: list[Path]
) -> dict[str, list[tuple[int, float, float]]]:
    """Every contender once per run, interleaved, so they share the machine's moods alike.

    Keys: "tracker" (its own choice of parse processes), "tracker 1 process",
    "feedparser only" (tracker with the fast path off, one process, as before issue 8),
    "reader", "steady" (the second fetch of the "tracker" runs). Values: (entries, seconds,
    CPU seconds).
    """
    reader = args.reader_python and Path(args.reader_python).exists()
    got: dict[str, list[tuple[int, float, float]]] = {}
    for _ in range(args.runs):
        n, first, second, cpu = tracker_ingest(files)
        got.setdefault("tracker", []).append((n, first, cpu))
        got.setdefault("steady", []).append((n, second, 0.0))
        n, first, _, cpu = tracker_ingest(files, workers=0)
        got.setdefault("tracker 1 process", []).append((n, first, cpu))
        if args.feedparser:
            n, first, _, cpu = tracker_ingest(files, fast=False, workers=0)
            got.setdefault("feedparser only", []).append((n, first, cpu))
        if reader:
            got.setdefault("reader", []).append(reader_ingest(args.reader_python, files))
    for name, runs in got.items():
        rates = ", ".join(f"{n / s:,.0f}" for n, s, _ in runs)
        cpu = ", ".join(f"{n / c:,.0f}" for n, _, c in runs if c)
        print(
            f"  {name}: {runs[0][0]:,} entries; entries/s per run: {rates}"
            + (f"; per CPU second: {cpu}" if cpu else ""),
            file=sys.stderr,
        )
    return got


def rows_for(
    name: str, files: list[Path], got: dict[str, list[tuple[int, float, float]]]
) -> list[Row]:
    runs = len(got["tracker"])
    n = got["tracker"][0][0]
    first = _median([s for _, s, _ in got["tracker"]])
    rate = n / first
    one = n / _median([s for _, s, _ in got["tracker 1 process"]])
    one_cpu = n / _median([c for _, _, c in got["tracker 1 process"]])
    stage = f"ingest, {name}"
    rows = [
        Row(stage, f"entries/s ({n:,} entries, {len(files)} files)", "-", None, rate,
            ">= 5,000/s", rate >= 5000, runs),
        Row(stage, "entries/s, parse workers vs one process", "tracker, 1 process", one, rate,
            "", None, runs),
    ]  # fmt: skip
    if "feedparser only" in got:
        slow = n / _median([s for _, s, _ in got["feedparser only"]])
        rows.append(
            Row(stage, "entries/s, vs tracker before issue 8", "tracker, feedparser only",
                slow, rate, "", None, runs)
        )  # fmt: skip
    if "reader" in got:
        entries = got["reader"][0][0]
        theirs = entries / _median([s for _, s, _ in got["reader"]])
        theirs_cpu = entries / _median([c for _, _, c in got["reader"]])
        rows.append(
            Row(stage, f"entries/s (reader stored {entries:,})", "reader 3.x", theirs, rate,
                ">= 10x reader", rate >= 10 * theirs, runs)
        )  # fmt: skip
        rows.append(
            Row(stage, "entries per CPU second, tracker in 1 process", "reader 3.x", theirs_cpu,
                one_cpu, "", None, runs)
        )  # fmt: skip
        # Added for issue 8: the same files into each one's store, whatever each keeps of
        # them (reader keeps every snapshot's copy of an entry, tracker one), in seconds; the
        # ratio is tracker's share of reader's time (0.10x is 10 times faster).
        rows.append(
            Row(stage, "seconds for the same files (ratio: tracker's share of reader's)",
                "reader 3.x", _median([s for _, s, _ in got["reader"]]), first, "", None, runs)
        )  # fmt: skip
    second = _median([s for _, s, _ in got["steady"]])
    rows.append(
        Row(f"steady state, {name}", "seconds, second fetch --all (unchanged) vs first",
            "first fetch", first, second, "<= 5% of first", second / first <= 0.05, runs)
    )  # fmt: skip
    return rows


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    try:
        corpora = [("bundled corpus", bundled_files())] if args.bundled else []
        corpora.append(
            (
                f"generated {args.feeds}x{args.per_feed}",
                generate(folder, args.feeds, args.per_feed),
            )
        )
        for name, files in corpora:
            print(f"{name}:", file=sys.stderr)
            rows += rows_for(name, files, measure(args, files))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--feeds", type=int, default=250)
    p.add_argument("--per-feed", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--reader-python", default="/tmp/readerenv/bin/python")
    p.add_argument("--no-bundled", dest="bundled", action="store_false")
    p.add_argument(
        "--no-feedparser",
        dest="feedparser",
        action="store_false",
        help="skip the feedparser-only run (tracker as before issue 8; the slowest)",
    )
    return p


def main() -> None:
    print(table(run(parser().parse_args())))


if __name__ == "__main__":
    main()
