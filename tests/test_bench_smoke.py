"""The bench scripts still run (at a tiny size); their timings are never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_run_all_tiny_prints_every_stage() -> None:
    out = _run("bench/run_all.py", "--tiny")
    for stage in ("clustering", "ingest, generated", "steady state", "site, 2 days"):
        assert stage in out
    assert "| stage | measure | baseline |" in out


def test_compare_parsers_agrees_on_the_test_feeds() -> None:
    out = _run("bench/compare_parsers.py", "tests/data/feeds")
    assert "fast path took" in out
    assert "DIFF" not in out
