"""Scoring clusterings against gold labels; values below were worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker import evaluate
from tracker.errors import TrackerError

# Gold: a, b, c tell one story, d another.
GOLD = {"a": "x", "b": "x", "c": "x", "d": "y"}


def test_perfect_clustering_with_other_label_names() -> None:
    result = evaluate.score(GOLD, {"a": "s1", "b": "s1", "c": "s1", "d": "s2"})
    perfect = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result == {
        "n_docs": 4,
        "n_gold": 2,
        "n_pred": 2,
        "pairwise": perfect,
        "bcubed": perfect,
        "ari": 1.0,
    }


def test_all_singletons() -> None:
    result = evaluate.score(GOLD, {k: k for k in GOLD})
    # No predicted pairs: precision 1 by definition, none of the 3 gold pairs found.
    assert result["pairwise"] == {"precision": 1.0, "recall": 0.0, "f1": 0.0}
    # B-cubed recall: a, b, c each find 1/3 of their story, d all of it: (3 * 1/3 + 1) / 4.
    assert result["bcubed"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}
    assert result["ari"] == 0.0
    assert (result["n_gold"], result["n_pred"]) == (2, 4)


def test_all_in_one() -> None:
    result = evaluate.score(GOLD, {k: "one" for k in GOLD})
    # 6 predicted pairs, 3 of them right.
    assert result["pairwise"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667}
    # B-cubed precision: (3 * 3/4 + 1/4) / 4 = 0.625; F1 = 2 * 0.625 / 1.625.
    assert result["bcubed"] == {"precision": 0.625, "recall": 1.0, "f1": 0.7692}
    assert result["ari"] == 0.0


def test_a_mixed_clustering() -> None:
    gold = {"a": "1", "b": "1", "c": "1", "d": "2", "e": "2"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}
    result = evaluate.score(gold, predicted)
    # Right pairs ab and de out of 4 predicted (ab, cd, ce, de) and 4 gold (ab, ac, bc, de).
    assert result["pairwise"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    # Precision per doc 1, 1, 1/3, 2/3, 2/3; recall 2/3, 2/3, 1/3, 1, 1: both 11/15.
    assert result["bcubed"] == {"precision": 0.7333, "recall": 0.7333, "f1": 0.7333}
    # ARI: index 2, expected 4 * 4 / 10 = 1.6, max 4: (2 - 1.6) / (4 - 1.6).
    assert result["ari"] == 0.1667


def test_ids_must_match() -> None:
    with pytest.raises(ValueError, match="different ids"):
        evaluate.score(GOLD, {"a": "x"})


def write(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


ROWS: list[object] = [
    {
        "id": "1",
        "title": "Nvidia RTX 5090 review: the fastest graphics card",
        "summary": "The RTX 5090 is fast.",
        "published": "2025-01-23T14:00:00+01:00",
        "source": "Ars Technica",
        "label": "rtx",
        "link": "https://example.com/1",
    },
    {
        "id": "2",
        "title": "Nvidia's RTX 5090 graphics card reviewed: fast and pricey",
        "published": "2025-01-23T15:00:00Z",
        "source": "Hacker News",
        "label": "rtx",
    },
    "",
    {
        "id": "3",
        "title": "TikTok goes dark in the US as the ban takes effect",
        "summary": "",
        "published": "2025-01-19T04:00:00+00:00",
        "label": "tiktok",
        "topics": [],
    },
]


def test_read_labelled(tmp_path: Path) -> None:
    docs, gold = evaluate.read_labelled(write(tmp_path / "l.jsonl", ROWS))
    assert [d.id for d in docs] == ["1", "2", "3"]
    assert gold == {"1": "rtx", "2": "rtx", "3": "tiktok"}
    assert docs[0].published == datetime(2025, 1, 23, 13, 0, tzinfo=UTC)
    assert docs[0].published.tzinfo is UTC
    assert (docs[0].outlet, docs[0].aggregator) == ("Ars Technica", False)
    assert (docs[1].summary, docs[1].aggregator) == ("", True)
    assert docs[2].outlet == ""


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"title": "t", "published": "2025-01-23T15:00:00Z", "label": "x"}', "id"),
        ('{"id": "9", "title": "t", "published": "2025-01-23T15:00:00Z"}', "label"),
        (
            '{"id": "9", "title": "t", "published": "2025-01-23 15:00", "label": "x"}',
            "no UTC offset",
        ),
        ('{"id": "9", "title": "t", "published": "yesterday", "label": "x"}', "ISO 8601"),
        ('{"id": "9", "title": 5, "published": "2025-01-23T15:00:00Z", "label": "x"}', "title"),
        (
            '{"id": "1", "title": "t", "published": "2025-01-23T15:00:00Z", "label": "x"}',
            "duplicate id",
        ),
    ],
)
def test_a_bad_line_names_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = write(tmp_path / "bad.jsonl", [ROWS[0], line])
    with pytest.raises(TrackerError) as info:
        evaluate.read_labelled(path)
    assert str(info.value).startswith(f"{path}: line 2: ")
    assert problem in str(info.value)


def test_unreadable_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match="cannot read"):
        evaluate.read_labelled(tmp_path / "missing.jsonl")
    with pytest.raises(TrackerError, match="no labelled entries"):
        evaluate.read_labelled(write(tmp_path / "empty.jsonl", [""]))


def test_eval_clusters_scores_the_pipeline_clustering(tmp_path: Path) -> None:
    result = evaluate.eval_clusters(write(tmp_path / "l.jsonl", ROWS))
    assert (result["n_docs"], result["n_gold"], result["n_pred"]) == (3, 2, 2)
    assert result["pairwise"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["ari"] == 1.0


def test_format_report() -> None:
    result = evaluate.score(GOLD, {k: "one" for k in GOLD})
    text = evaluate.format_report(result)
    assert "docs 4" in text and "gold stories 2" in text and "predicted stories 1" in text
    lines = text.splitlines()
    assert any(line.split() == ["pairwise", "0.5000", "1.0000", "0.6667"] for line in lines)
    assert any(line.split() == ["B-cubed", "0.6250", "1.0000", "0.7692"] for line in lines)
    assert "adjusted Rand index 0.0000" in text
