"""How far shared words can go on a labelled file: ceilings next to the pipeline's score.

    python bench/cluster_ceiling.py ../shared/data/story-clustering/gnews-2025-01-27.jsonl \
        [--embeddings VECTORS.npy] [--json]

Scores, on one ``eval-clusters`` file (evaluation data: read from where it is, never copied):

  tracker                 ``cluster.cluster`` with the defaults, as ``tracker eval-clusters``
  online, oracle          a plain online pass (each entry joins the story whose centroid is
                          most similar, or starts one) over one TF-IDF vector of headline,
                          summary and link slug, at the threshold that scores best ON THIS FILE
  agglomerative, oracle   scikit-learn's AgglomerativeClustering (average and complete
                          linkage) over the whole file at once, on plain TF-IDF of headline and
                          summary (the issue's baseline) and with the link slug's words added,
                          each at the threshold that scores best on this file

The oracle rows see the whole file and pick their threshold on the gold labels they are
scored against, which no pipeline can do; they bound what a better threshold or a better
grouping algorithm over the same words could reach. ``--embeddings`` adds the same rows
over sentence vectors computed elsewhere (a float array, one L2-normalised row per line of
the file, in file order) and over the mean of their cosine and the TF-IDF cosine; no model
is part of tracker. docs/clustering.md ("How far words go") has the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracker import cluster, evaluate
from tracker.models import Doc

THRESHOLDS = tuple(round(0.10 + 0.02 * k, 2) for k in range(45))  # cosine distances 0.10-0.98
ONLINE = tuple(round(0.06 + 0.02 * k, 2) for k in range(25))  # similarities 0.06-0.54


def _texts(docs: Sequence[Doc], slug: bool) -> list[str]:
    return [
        " ".join(
            [d.title, cluster.plain_text(d.summary), cluster.link_words(d.link) if slug else ""]
        )
        for d in docs
    ]


def tfidf(texts: Sequence[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)


def _scores(gold: dict[str, str], labels: dict[str, str]) -> tuple[float, float]:
    result = evaluate.score(gold, labels)
    return result["bcubed"]["f1"], result["pairwise"]["f1"]  # type: ignore[index]


def best(
    gold: dict[str, str],
    ids: Sequence[str],
    cut: Callable[[float], Sequence[int]],
    grid: Sequence[float],
) -> tuple[float, float, float]:
    """(B-cubed F1, pairwise F1, setting) of the grid point with the best B-cubed F1."""
    found = (-1.0, -1.0, 0.0)
    for t in grid:
        labels = {i: str(label) for i, label in zip(ids, cut(t), strict=True)}
        b3, pairwise = _scores(gold, labels)
        if (b3, pairwise) > found[:2]:
            found = (b3, pairwise, t)
    return found


def agglomerative(similarity: Any, linkage: str) -> Callable[[float], Sequence[int]]:
    from sklearn.cluster import AgglomerativeClustering

    distance = np.clip(1.0 - similarity, 0.0, None)

    def cut(t: float) -> Sequence[int]:
        model = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage=linkage, distance_threshold=t
        )
        return list(model.fit_predict(distance))

    return cut


def online(vectors: Any, order: Sequence[int]) -> Callable[[float], Sequence[int]]:
    """A plain online centroid pass in publication order (no decay, no window: one day)."""

    def cut(t: float) -> Sequence[int]:
        sums: list[Any] = []
        label = [0] * len(order)
        for i in order:
            x = vectors[i]
            sims = [float(x @ s) / float(np.linalg.norm(s)) for s in sums]
            k = int(np.argmax(sims)) if sims else -1
            if k >= 0 and sims[k] >= t:
                sums[k] = sums[k] + x
            else:
                k = len(sums)
                sums.append(np.array(x, dtype=float))
            label[i] = k
        return label

    return cut


def run(path: Path, embeddings: Path | None = None) -> list[dict[str, object]]:
    docs, gold = evaluate.read_labelled(path)
    ids = [d.id for d in docs]
    order = sorted(range(len(docs)), key=lambda i: (docs[i].published, docs[i].id))
    predicted = {a.entry_id: a.story_id for a in cluster.cluster(docs)}
    b3, pairwise = _scores(gold, predicted)
    rows: list[dict[str, object]] = [
        {"method": "tracker, defaults (online)", "bcubed_f1": b3, "pairwise_f1": pairwise}
    ]
    views: dict[str, Any] = {
        "TF-IDF headline+summary": tfidf(_texts(docs, slug=False)),
        "TF-IDF headline+summary+slug": tfidf(_texts(docs, slug=True)),
    }
    dense = {name: (m @ m.T).toarray() for name, m in views.items()}
    sparse_slug = views["TF-IDF headline+summary+slug"].toarray()
    candidates: list[tuple[str, Callable[[float], Sequence[int]], Sequence[float]]] = [
        ("online, oracle: TF-IDF headline+summary+slug", online(sparse_slug, order), ONLINE)
    ]
    if embeddings is not None:
        vectors = np.load(embeddings)
        if vectors.shape[0] != len(docs):
            raise SystemExit(f"{embeddings}: {vectors.shape[0]} rows for {len(docs)} entries")
        dense["embeddings"] = vectors @ vectors.T
        dense["embeddings + TF-IDF slug (mean)"] = (
            dense["embeddings"] + dense["TF-IDF headline+summary+slug"]
        ) / 2
        candidates.append(("online, oracle: embeddings", online(vectors, order), ONLINE))
    for name, similarity in dense.items():
        for linkage in ("average", "complete"):
            candidates.append(
                (
                    f"agglomerative {linkage}, oracle: {name}",
                    agglomerative(similarity, linkage),
                    THRESHOLDS,
                )
            )
    for method, cut, grid in candidates:
        b3, pairwise, t = best(gold, ids, cut, grid)
        rows.append({"method": method, "bcubed_f1": b3, "pairwise_f1": pairwise, "best_at": t})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labelled", type=Path, help="an eval-clusters .jsonl file")
    parser.add_argument("--embeddings", type=Path, help="one vector a line of the file (.npy)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(args.labelled, args.embeddings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{args.labelled.name}: B-cubed F1 and pairwise F1 (oracle rows: best threshold on it)")
    print("| method | B-cubed F1 | pairwise F1 | best at |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        at = row.get("best_at", "")
        print(f"| {row['method']} | {row['bcubed_f1']:.3f} | {row['pairwise_f1']:.3f} | {at} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
