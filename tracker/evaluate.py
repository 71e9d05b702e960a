"""Scoring the pipeline's clustering against gold story labels (``tracker eval-clusters``).

    labelled .jsonl --read_labelled--> docs + gold --cluster.cluster--> predicted --score--> report

``score`` and ``format_report`` are pure; ``read_labelled`` and ``eval_clusters`` read the one
file they are given. The clustering is called exactly as the pipeline calls it, defaults
included, so the published numbers are the pipeline's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tracker import cluster as clustering
from tracker.errors import TrackerError
from tracker.models import Doc

T = TypeVar("T")


def _text(row: Mapping[str, Any], key: str, required: bool) -> str:
    value = row.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(
            f"{key}: expected a non-empty string" if required else f"{key}: expected a string"
        )
    return value


def _published(row: Mapping[str, Any]) -> datetime:
    value = _text(row, "published", required=True)
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"published: not an ISO 8601 date-time: {value!r}") from e
    if when.tzinfo is None:
        raise ValueError(f"published: no UTC offset: {value!r}")
    return when.astimezone(UTC)


def _row(line: str) -> tuple[Doc, str]:
    """One labelled line as a Doc and its gold label; ValueError says what is wrong."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e.msg}") from e
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    source = _text(row, "source", required=False)
    doc = Doc(
        id=_text(row, "id", required=True),
        title=_text(row, "title", required=False),
        summary=_text(row, "summary", required=False),
        published=_published(row),
        outlet=source,
        aggregator=clustering.is_aggregator_outlet(source),
        link=_text(row, "link", required=False),
    )
    return doc, _text(row, "label", required=True)


def read_rows(path: Path, row: Callable[[str], tuple[Doc, T]]) -> tuple[list[Doc], dict[str, T]]:
    """The docs of a labelled JSON Lines file, in file order, and what ``row`` read for each id.

    Blank lines are skipped. Raises TrackerError naming the file and line of the first problem
    (``row`` raises ValueError for a bad line).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise TrackerError(f"cannot read labelled file: {path}") from e
    docs: list[Doc] = []
    gold: dict[str, T] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc, label = row(line)
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            raise TrackerError(f"{path}: line {n}: {e}") from e
        if doc.id in gold:
            raise TrackerError(f"{path}: line {n}: duplicate id {doc.id!r}")
        docs.append(doc)
        gold[doc.id] = label
    if not docs:
        raise TrackerError(f"{path}: no labelled entries")
    return docs, gold


def read_labelled(path: Path) -> tuple[list[Doc], dict[str, str]]:
    """The docs of an ``eval-clusters`` file and their gold story labels by id."""
    return read_rows(path, _row)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _ratio(num: float, den: float) -> float:
    return num / den if den else 1.0  # nothing claimed, nothing wrong


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _prf(p: float, r: float) -> dict[str, float]:
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(_f1(p, r), 4)}


def score(gold: Mapping[str, str], predicted: Mapping[str, str]) -> dict[str, object]:
    """Pairwise and B-cubed precision/recall/F1 and the adjusted Rand index of a clustering.

    Both mappings go from doc id to cluster label and must cover the same ids. Pairwise scores
    count same-cluster pairs; with no predicted (gold) pairs, precision (recall) is 1.0.
    B-cubed scores average each doc's overlap of its predicted and gold clusters. Floats are
    rounded to 4 decimals. Raises ValueError when the ids differ.
    """
    from sklearn.metrics import adjusted_rand_score

    if set(gold) != set(predicted):
        raise ValueError("gold and predicted labels cover different ids")
    ids = sorted(gold)
    both = Counter((gold[i], predicted[i]) for i in ids)
    gold_size = Counter(gold[i] for i in ids)
    pred_size = Counter(predicted[i] for i in ids)
    together = sum(_pairs(n) for n in both.values())
    pairwise = _prf(
        _ratio(together, sum(_pairs(n) for n in pred_size.values())),
        _ratio(together, sum(_pairs(n) for n in gold_size.values())),
    )
    # Each doc of a (gold, predicted) cell scores cell/|predicted| and cell/|gold|.
    b_p = sum(n * n / pred_size[p] for (_, p), n in both.items())
    b_r = sum(n * n / gold_size[g] for (g, _), n in both.items())
    ari = adjusted_rand_score([gold[i] for i in ids], [predicted[i] for i in ids]) if ids else 1.0
    return {
        "n_docs": len(ids),
        "n_gold": len(gold_size),
        "n_pred": len(pred_size),
        "pairwise": pairwise,
        "bcubed": _prf(_ratio(b_p, len(ids)), _ratio(b_r, len(ids))),
        "ari": round(float(ari), 4),
    }


def eval_clusters(
    path: Path, params: clustering.ClusterParams = clustering.DEFAULT_PARAMS
) -> dict[str, object]:
    """Cluster a labelled file the way the pipeline does and score it against its labels."""
    docs, gold = read_labelled(path)
    predicted = {a.entry_id: a.story_id for a in clustering.cluster(docs, params)}
    return score(gold, predicted)


def format_report(result: Mapping[str, object]) -> str:
    """The scores of ``score`` as a small text table."""
    lines = [
        f"docs {result['n_docs']}   gold stories {result['n_gold']}   "
        f"predicted stories {result['n_pred']}",
        "",
        f"{'':<10}{'precision':>10}{'recall':>10}{'f1':>10}",
    ]
    for name in ("pairwise", "bcubed"):
        row = result[name]
        assert isinstance(row, Mapping)
        label = "B-cubed" if name == "bcubed" else name
        lines.append(
            f"{label:<10}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
        )
    lines += ["", f"adjusted Rand index {result['ari']:.4f}"]
    return "\n".join(lines) + "\n"
