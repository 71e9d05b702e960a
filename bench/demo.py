"""``tracker demo`` end to end, in a fresh process each run: seconds and peak memory.

    python bench/demo.py [--runs 3]

Each run replays the bundled corpus (14 days, 2,027 entries) into a new folder: ingest,
stories, topics, the whole site and the last day's email, as a user would run it.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, table


def one_run() -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tracker", "demo", "--out", str(out)],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run(args: argparse.Namespace) -> list[Row]:
    times = sorted(one_run() for _ in range(args.runs))
    seconds = times[len(times) // 2]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return [
        Row(
            "demo",
            "seconds, tracker demo end to end",
            "-",
            None,
            seconds,
            "<= 15 s",
            seconds <= 15,
            args.runs,
        ),
        Row(
            "demo",
            "peak memory MB of the demo process",
            "-",
            None,
            peak,
            "< 1,000 MB",
            peak < 1000,
            args.runs,
        ),
    ]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    return p


def main() -> None:
    print(table(run(parser().parse_args())))


if __name__ == "__main__":
    main()
