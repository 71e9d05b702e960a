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
    for stage in (
        "clustering",
        "ingest, generated",
        "steady state",
        "ingest floor",
        "site, 2 days",
    ):
        assert stage in out
    assert "| stage | measure | baseline |" in out


def test_compare_parsers_agrees_on_the_test_feeds() -> None:
    out = _run("bench/compare_parsers.py", "tests/data/feeds")
    assert "fast path took" in out
    assert "DIFF" not in out


def test_ingest_floor_runs_on_the_bundled_corpus() -> None:
    out = _run("bench/ingest_floor.py", "--runs", "1", "--reader-python", "")
    assert "the bare steps' sum vs tracker's ingest" in out


def test_cluster_ceiling_scores_an_obvious_file(tmp_path: Path) -> None:
    import json

    stories = {
        "a": [
            "Nvidia shares plunge after DeepSeek model",
            "DeepSeek model sends Nvidia shares down",
        ],
        "b": ["Colombia accepts deportation flights", "Colombia backs down on deportation flights"],
        "c": ["Wordle hints for Monday puzzle"],
    }
    lines = [
        json.dumps(
            {
                "id": f"{label}{k}",
                "title": title,
                "published": f"2025-01-27T0{k}:00:00+00:00",
                "source": f"Outlet {k}",
                "label": label,
            }
        )
        for label, titles in stories.items()
        for k, title in enumerate(titles)
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = json.loads(_run("bench/cluster_ceiling.py", str(path), "--json"))
    by_method = {row["method"]: row for row in rows}
    assert "tracker, defaults (online)" in by_method
    best = by_method["agglomerative average, oracle: TF-IDF headline+summary"]
    assert best["bcubed_f1"] == 1.0 and best["pairwise_f1"] == 1.0
