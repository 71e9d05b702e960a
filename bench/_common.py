"""Shared by the bench scripts: medians of several runs, peak memory, one table format.

Every script has ``run(args) -> list[Row]`` (run_all.py calls it) and a ``main()`` that
prints its own rows. A row puts a baseline and tracker side by side, measured in the same
run, with their ratio.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    stage: str
    measure: str  # what the numbers are, with their unit
    baseline_name: str
    baseline: float | None
    tracker: float
    target: str = ""
    met: bool | None = None
    runs: int = 1
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.tracker == 0 or self.baseline == 0:
            return None
        return self.tracker / self.baseline


def median_time(fn: Callable[[], T], runs: int) -> tuple[T, float, list[float]]:
    """fn's last result, the median wall time of ``runs`` calls and every time."""
    times: list[float] = []
    result: T | None = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return result, statistics.median(times), times


def peak_rss_mb() -> float:
    """This process' peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_subprocess(code: str) -> str:
    """Run python code in a fresh interpreter (for a clean peak-memory reading); its stdout."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return done.stdout


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| stage | measure | baseline | baseline value | tracker | ratio | runs | target | met |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        lines.append(
            f"| {r.stage} | {r.measure} | {r.baseline_name} | {fmt(r.baseline)} | "
            f"{fmt(r.tracker)} | {ratio} | {r.runs} | {r.target} | {met} |"
        )
    return "\n".join(lines)


#: Headline vocabulary of the generated benchmark corpora (bench/site_build.py, bench/year.py).
NEWS_WORDS = [
    "chip",
    "model",
    "cloud",
    "open",
    "source",
    "launch",
    "update",
    "security",
    "court",
    "battery",
    "phone",
    "laptop",
    "network",
    "satellite",
    "robot",
    "search",
    "startup",
    "funding",
    "regulator",
    "privacy",
    "browser",
    "kernel",
    "patch",
    "outage",
]
