"""Clustering cost: a 100,000-entry replay and a one-day increment, next to all-pairs.

    python bench/cluster.py [--entries 100000] [--baseline 8000]

Entries are the bundled demo corpus (examples/technews-jan2025) repeated over many weeks
with shifted dates and ids. Measured in one run, each step in a fresh process-free call:

  replay       cluster.cluster() over all entries, in publication order
  incremental  a 3-day window clustered first; then one more day of 3,000 entries is assigned
               with those as context (what ``tracker run`` does once a day)
  all-pairs    the brute-force baseline: every pair's similarity (the same three views)
               and single-link grouping above the threshold, on a size where it finishes;
               the online pass on the same size is timed next to it

Seconds are wall time; peak memory is tracemalloc's peak of Python allocations (numpy and
scipy buffers included). Results go in docs/clustering.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from tracker import cluster
from tracker.models import Doc
from tracker.resources import examples_dir

T = TypeVar("T")


def corpus() -> list[Doc]:
    path = examples_dir() / "technews-jan2025" / "entries.jsonl"
    out = []
    from datetime import datetime

    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        out.append(
            Doc(
                id=f"c{i:05d}",
                title=row["title"],
                summary=row.get("summary") or "",
                published=datetime.fromisoformat(row["published"]),
                outlet=row["source"],
                aggregator=cluster.is_aggregator_outlet(row["source"]),
            )
        )
    return sorted(out, key=lambda d: (d.published, d.id))


def repeated(base: list[Doc], n: int) -> list[Doc]:
    """``n`` docs: the corpus again and again, each copy shifted by its own span plus a day."""
    start, end = base[0].published, base[-1].published
    shift = end - start + timedelta(days=1)
    out: list[Doc] = []
    copy = 0
    while len(out) < n:
        for d in base[: n - len(out)]:
            out.append(replace(d, id=f"{d.id}w{copy}", published=d.published + copy * shift))
        copy += 1
    return out


def measure(fn: Callable[[], T]) -> tuple[T, float, float]:
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def all_pairs(docs: list[Doc], params: cluster.ClusterParams) -> int:
    """Brute force: the weighted similarity of every pair, single-link above the threshold."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    order = sorted(docs, key=lambda d: (d.published, d.id))
    views = cluster.doc_views(order, params)
    weights = (params.title_weight, params.summary_weight, params.entity_weight)
    sim = sum(w * (v @ v.T).toarray() for w, v in zip(weights, views, strict=True))
    days = np.array([d.published.timestamp() / 86400 for d in order])
    sim = sim / sum(weights) * np.exp(-np.abs(days[:, None] - days[None, :]) / params.decay_days)
    n, _ = connected_components(sim >= params.threshold, directed=False)
    return int(n)


def stories(assignments: list) -> int:  # type: ignore[type-arg]
    return len({a.story_id for a in assignments})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=8_000)
    parser.add_argument("--day", type=int, default=3_000)
    args = parser.parse_args()
    base = corpus()
    params = cluster.DEFAULT_PARAMS
    rows = []

    docs = repeated(base, args.entries)
    span = (docs[-1].published - docs[0].published).days
    got, s, mb = measure(lambda: cluster.cluster(docs))
    rows.append((f"replay, {len(docs):,} entries over {span} days", s, mb, stories(got)))

    # A 3-day window at 3,000 a day, then one more day of 3,000 with it as context.
    day = timedelta(days=1)
    t0 = docs[0].published
    spread = [
        replace(d, published=t0 + day * (i / args.day))
        for i, d in enumerate(repeated(base, 4 * args.day))
    ]
    window, new = spread[: 3 * args.day], spread[3 * args.day :]
    context = [(d, a.story_id) for d, a in zip(window, cluster.cluster(window), strict=True)]
    got, s, mb = measure(lambda: cluster.assign(new, context, params))
    rows.append((f"incremental, {len(new):,} new + {len(window):,} in window", s, mb, stories(got)))

    small = repeated(base, args.baseline)
    got, s, mb = measure(lambda: cluster.cluster(small))
    rows.append((f"online pass, {len(small):,} entries", s, mb, stories(got)))
    n, s, mb = measure(lambda: all_pairs(small, params))
    rows.append((f"all-pairs baseline, {len(small):,} entries", s, mb, n))

    print("| run | seconds | peak MB | stories |")
    print("| --- | ---: | ---: | ---: |")
    for name, s, mb, n in rows:
        print(f"| {name} | {s:.1f} | {mb:.0f} | {n:,} |")


if __name__ == "__main__":
    main()
