"""Every stage's benchmark, one table: baseline and tracker side by side, ratio, medians.

    python bench/run_all.py            # the sizes of the issue (takes many minutes)
    python bench/run_all.py --quick    # smaller sizes, about a minute
    python bench/run_all.py --tiny     # a few seconds: only checks the scripts still work
    python bench/run_all.py --only demo,cluster

Stages: demo, cluster, ingest (with steady state), ingest_floor (the bare steps of ingest on
the bundled corpus, under the 10x reader target), site_build, year (the site and every
stage's memory on a generated year of digests, each stage in its own process; not in --tiny,
tests/test_site_scale.py runs it small). The fetch stage over HTTP is bench/fetch.py.
Results and how to read them: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, table

SIZES: dict[str, dict[str, list[str]]] = {
    "full": {
        "demo": ["--runs", "3"],
        "cluster": ["--runs", "3"],
        "ingest": ["--runs", "3"],
        "ingest_floor": ["--runs", "5"],
        "site_build": ["--runs", "1", "--topics"],
        "year": ["--days", "20,365"],
    },
    "quick": {
        "demo": ["--runs", "1"],
        "cluster": ["--entries", "20000", "--baseline", "4000", "--runs", "1"],
        "ingest": ["--feeds", "50", "--per-feed", "200", "--runs", "1"],
        "ingest_floor": ["--runs", "1"],
        "site_build": ["--days", "10", "--per-day", "1000", "--runs", "1", "--topics"],
        "year": ["--days", "5,20", "--per-day", "1000"],
    },
    "tiny": {
        "demo": [],
        "cluster": ["--entries", "600", "--baseline", "200", "--day", "100", "--runs", "1"],
        "ingest": [
            "--feeds",
            "3",
            "--per-feed",
            "10",
            "--runs",
            "1",
            "--reader-python",
            "",
            "--no-bundled",
        ],
        "ingest_floor": ["--runs", "1", "--reader-python", ""],
        "site_build": ["--days", "2", "--per-day", "30", "--runs", "1", "--topics"],
    },
}


def stage_rows(name: str, argv: list[str]) -> list[Row]:
    module = importlib.import_module(name)
    return list(module.run(module.parser().parse_args(argv)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated stages")
    args = parser.parse_args()
    size = "tiny" if args.tiny else "quick" if args.quick else "full"
    stages = [s for s in SIZES[size] if not args.only or s in args.only.split(",")]
    if size == "tiny":
        stages = [s for s in stages if s != "demo"]  # the demo has no tiny size
    rows: list[Row] = []
    for stage in stages:
        rows += stage_rows(stage, SIZES[size][stage])
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, sizes: {size}"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
