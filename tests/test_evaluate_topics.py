"""`tracker eval-topics`: entry-level scores of the pipeline's topic matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tracker.cli import cli
from tracker.errors import TrackerError
from tracker.evaluate_topics import eval_topics, predict, read_topic_labelled, score
from tracker.models import Topic

DATA = Path(__file__).parent / "data" / "topics"
TOPICS = (
    Topic("deepseek", "DeepSeek", ("DeepSeek",)),
    Topic("export-controls", "Export controls", ("export controls",), exclude=("export photos",)),
    Topic("nvidia", "NVIDIA", ("Nvidia",)),
    Topic("openai", "OpenAI", ("OpenAI",)),
)


def test_score_counts_precision_recall_f1_and_support() -> None:
    gold = {"a": frozenset({"x"}), "b": frozenset({"x"}), "c": frozenset()}
    pred = {"a": frozenset({"x"}), "b": frozenset(), "c": frozenset({"x"})}
    assert score(gold, pred, ["x"]) == {
        "x": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    }


def test_prediction_is_the_pipelines_matching_of_each_entry() -> None:
    docs, _ = read_topic_labelled(DATA / "eval-small.jsonl")
    pred = predict(docs, TOPICS)
    assert {i for i, t in pred.items() if "nvidia" in t} == {"e2"}  # e5 mentions in passing
    assert {i for i, t in pred.items() if "export-controls" in t} == {"e4"}  # not e3


def test_eval_scores_only_the_topics_the_labels_use_by_default() -> None:
    result = eval_topics(DATA / "eval-small.jsonl", TOPICS)
    assert set(result["topics"]) == {"deepseek", "export-controls", "nvidia"}
    assert result["topics"]["nvidia"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
    }
    assert result["topics"]["deepseek"]["f1"] == 1.0


def test_eval_rejects_an_unknown_topic_and_a_bad_line(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match="no such topic: tiktok"):
        eval_topics(DATA / "eval-small.jsonl", TOPICS, only=["tiktok"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "published": "2025-01-27T00:00:00+00:00"}\n')
    with pytest.raises(TrackerError, match="line 1: topics"):
        read_topic_labelled(bad)


def test_cli_prints_the_json_shape_with_the_configs_topics(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    topics = [{"slug": t.slug, "name": t.name, "keywords": list(t.keywords)} for t in TOPICS]
    config.write_text(yaml.safe_dump({"feeds": [], "topics": topics}), encoding="utf-8")
    args = ["--config", str(config), "eval-topics", str(DATA / "eval-small.jsonl"), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"topics"}
    for row in data["topics"].values():
        assert set(row) == {"precision", "recall", "f1", "support"}
    text = CliRunner().invoke(cli, [*args[:-1], "--stories"])
    assert text.exit_code == 0 and "nvidia" in text.output


def test_the_committed_labelled_sample_is_well_formed() -> None:
    docs, gold = read_topic_labelled(DATA / "technews-2025-01-27-sample.jsonl")
    assert len(docs) == 300
    assert set().union(*gold.values()) == {"deepseek", "export-controls", "nvidia"}
