"""Time and peak memory of ingesting every file of the feed-robustness corpus (issue 7).

Each file is read as a local feed and goes through the real pipeline (App.ingest: parse,
sanitise, store in a SQLite file), one feed per file; then the entries are clustered.
Reports files, entries, refused files, wall time, the slowest files and peak RSS.

    python bench/ingest_robustness.py ../shared/data/feed-robustness
    python bench/ingest_robustness.py tests/data/robustness      # the copy the tests use
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tracker.app import App, FetchReport
from tracker.config import config_from_mapping
from tracker.fetch import read_file

SKIP_SUFFIXES = (".md", ".serde.json", ".txt", ".py")


def corpus_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(SKIP_SUFFIXES) and p.name != "PROVENANCE.md"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    args.corpus = args.corpus.resolve()
    files = corpus_files(args.corpus)
    now = datetime(2025, 1, 27, 12, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        config = config_from_mapping({"database": "bench.db"}, Path(tmp) / "config.yaml")
        report = FetchReport()
        slow: list[tuple[float, str]] = []
        outcomes: Counter[str] = Counter()
        start = time.perf_counter()
        with App(config, clock=lambda: now) as app:
            with app.store.transaction():
                for path in files:
                    app.store.add_feed(
                        path.as_uri(), title="", outlet="", category="", source="cli", now=now
                    )
            feeds = {f.url: f for f in app.store.feeds()}
            for path in files:
                url = path.as_uri()
                t0 = time.perf_counter()
                failed = len(report.failed)
                app.ingest(feeds[url], read_file(url, max_bytes=config.fetch.max_bytes), report)
                slow.append((time.perf_counter() - t0, str(path.relative_to(args.corpus))))
                outcomes["refused" if len(report.failed) > failed else "ingested"] += 1
            ingest_s = time.perf_counter() - start
            clustered = app.cluster()
        total = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files: {len(files)}  ingested: {outcomes['ingested']}  refused: {outcomes['refused']}")
    print(f"entries stored: {report.new_entries}  clustered: {clustered}")
    print(f"ingest: {ingest_s:.1f} s ({1000 * ingest_s / max(len(files), 1):.1f} ms/file)")
    print(f"ingest + cluster: {total:.1f} s   peak RSS: {peak_mb:.0f} MB")
    print("slowest files:")
    for seconds, name in sorted(slow, reverse=True)[:5]:
        print(f"  {seconds * 1000:7.1f} ms  {name}")
    reasons = Counter(m.split(":")[0] for _, m in report.failed)
    print("refusals by reason:", dict(reasons.most_common(8)))


if __name__ == "__main__":
    sys.exit(main())
