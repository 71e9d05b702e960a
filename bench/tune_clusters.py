"""Grid search of the clustering parameters on labelled dev files (evaluation data only).

    python bench/tune_clusters.py ../shared/data/story-clustering/tech-dev-2025-01.jsonl \
        ../shared/data/story-clustering/gnews-2025-01-27.jsonl [--top 15]

Scores every combination of the grid below on every file and prints the best by the mean of
pairwise F1 and B-cubed F1 over the files, then the scores of the current defaults. The files
are read from where they are; nothing is copied.
"""

from __future__ import annotations

import argparse
import itertools
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

from tracker import cluster, evaluate
from tracker.models import Doc

# The grid behind the defaults of issue 4's second round (docs/clustering.md): 90 points,
# after link slugs and the Title Case rule; the other knobs at their defaults (the first
# round's 96-point grid over threshold, decay, span cap and service bar chose those).
GRID: dict[str, tuple[object, ...]] = {
    "threshold": (0.165, 0.17, 0.175, 0.18, 0.185, 0.19),
    "weights": tuple(
        (0.3, summary, entity) for summary in (0.4, 0.5, 0.6) for entity in (0.15, 0.2, 0.25)
    ),
    "service_threshold": (0.7,),
}

Data = list[tuple[list[Doc], dict[str, str]]]


def _params(point: dict[str, object]) -> cluster.ClusterParams:
    if "weights" not in point:
        return replace(cluster.DEFAULT_PARAMS, **point)  # type: ignore[arg-type]
    title, summary, entity = point["weights"]  # type: ignore[misc]
    rest = {k: v for k, v in point.items() if k != "weights"}
    return replace(
        cluster.DEFAULT_PARAMS,
        title_weight=title,
        summary_weight=summary,
        entity_weight=entity,
        **rest,
    )  # type: ignore[arg-type]


def _score(args: tuple[cluster.ClusterParams, Data]) -> list[dict[str, object]]:
    params, data = args
    out = []
    for docs, gold in data:
        predicted = {a.entry_id: a.story_id for a in cluster.cluster(docs, params)}
        out.append(evaluate.score(gold, predicted))
    return out


def _objective(scores: list[dict[str, object]]) -> float:
    values = [s[k]["f1"] for s in scores for k in ("pairwise", "bcubed")]  # type: ignore[index]
    return sum(values) / len(values)


def _line(params: cluster.ClusterParams, scores: list[dict[str, object]]) -> str:
    knobs = {k: v for k, v in asdict(params).items() if k != "window_days"}
    cells = "  ".join(
        f"pw {s['pairwise']['f1']:.3f} b3 {s['bcubed']['f1']:.3f}"  # type: ignore[index]
        f" ari {s['ari']:.3f}"
        for s in scores
    )
    return f"{_objective(scores):.4f}  {cells}  {knobs}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    data = [evaluate.read_labelled(p) for p in args.files]
    points = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    grid = [_params(p) for p in points]
    with ProcessPoolExecutor() as pool:
        results = list(pool.map(_score, [(p, data) for p in grid], chunksize=4))
    ranked = sorted(zip(grid, results, strict=True), key=lambda r: -_objective(r[1]))
    print("objective  " + "  |  ".join(p.name for p in args.files))
    for params, scores in ranked[: args.top]:
        print(_line(params, scores))
    print("defaults:")
    print(_line(cluster.DEFAULT_PARAMS, _score((cluster.DEFAULT_PARAMS, data))))


if __name__ == "__main__":
    main()
