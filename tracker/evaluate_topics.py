"""Scoring the pipeline's topic matching against gold topics (``tracker eval-topics``).

    labelled .jsonl --read--> docs + gold topics --cluster.cluster--> stories
        --topics.match_stories--> each entry gets its story's topics --score--> per topic P/R/F1

The entries are clustered and their stories matched exactly as the pipeline does (same
clustering defaults, same headline choice, same ``match_stories``), so an entry is predicted
to be about a topic when the story it lands in belongs to the topic. ``score`` is pure;
``eval_topics`` reads the one file it is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker import cluster as clustering
from tracker import topics as topicking
from tracker.errors import TrackerError
from tracker.evaluate import read_rows
from tracker.models import Doc, Member, Story, Topic


def _row(line: str) -> tuple[Doc, frozenset[str]]:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    for key in ("id", "published"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f"{key}: expected a non-empty string")
    gold = row.get("topics")
    if not isinstance(gold, list) or not all(isinstance(t, str) for t in gold):
        raise ValueError("topics: expected a list of topic slugs")
    when = datetime.fromisoformat(row["published"])
    if when.tzinfo is None:
        raise ValueError(f"published: no UTC offset: {row['published']!r}")
    source = str(row.get("source") or "")
    doc = Doc(
        id=row["id"],
        title=str(row.get("title") or ""),
        summary=str(row.get("summary") or ""),
        published=when.astimezone(UTC),
        outlet=source,
        aggregator=clustering.is_aggregator_outlet(source),
        link=str(row.get("link") or ""),
    )
    return doc, frozenset(gold)


def read_topic_labelled(path: Path) -> tuple[list[Doc], dict[str, frozenset[str]]]:
    """The docs of a JSON Lines file with gold ``topics`` lists, and the gold sets by id."""
    return read_rows(path, _row)


def stories_of(docs: Sequence[Doc], params: clustering.ClusterParams) -> list[Story]:
    """Cluster docs as the pipeline does and build its stories (headline: the representative)."""
    by_id = {d.id: d for d in docs}
    by_story: dict[str, list[Doc]] = {}
    for a in clustering.cluster(docs, params):
        by_story.setdefault(a.story_id, []).append(by_id[a.entry_id])
    stories = []
    for story_id in sorted(by_story):
        members = by_story[story_id]
        head = by_id[clustering.representative(members)]
        stories.append(
            Story(
                id=story_id,
                headline=head.title,
                link="",
                summary=head.summary,
                first_seen=min(d.published for d in members),
                last_seen=max(d.published for d in members),
                members=tuple(
                    Member(d.id, d.title, "", d.outlet, d.published, d.summary, 1.0, d.aggregator)
                    for d in members
                ),
            )
        )
    return stories


def _alone(doc: Doc) -> Story:
    """An entry as a story of its own, as the pipeline stores an entry nobody else covered."""
    member = Member(
        doc.id, doc.title, "", doc.outlet, doc.published, doc.summary, 1.0, doc.aggregator
    )
    return Story(doc.id, doc.title, "", doc.summary, doc.published, doc.published, (member,))


def predict(
    docs: Sequence[Doc],
    topics: Sequence[Topic],
    params: clustering.ClusterParams | None = None,
) -> dict[str, frozenset[str]]:
    """Entry id -> the slugs of the topics its story belongs to, as the pipeline decides."""
    stories = stories_of(docs, params) if params is not None else [_alone(d) for d in docs]
    matches = topicking.match_stories(topics, stories)
    out: dict[str, set[str]] = {d.id: set() for d in docs}
    for story in stories:
        for slug, found in matches.items():
            if story.id in found:
                for m in story.members:
                    out[m.entry_id].add(slug)
    return {k: frozenset(v) for k, v in out.items()}


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0  # nothing claimed (or nothing to find), nothing wrong


def score(
    gold: Mapping[str, frozenset[str]],
    predicted: Mapping[str, frozenset[str]],
    slugs: Sequence[str],
) -> dict[str, dict[str, float | int]]:
    """Per topic: entry-level precision, recall, F1 (4 decimals) and support (gold entries)."""
    out: dict[str, dict[str, float | int]] = {}
    for slug in slugs:
        g = {i for i, t in gold.items() if slug in t}
        p = {i for i, t in predicted.items() if slug in t}
        precision, recall = _ratio(len(g & p), len(p)), _ratio(len(g & p), len(g))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[slug] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": len(g),
        }
    return out


def eval_topics(
    path: Path,
    topics: Sequence[Topic],
    only: Sequence[str] = (),
    params: clustering.ClusterParams | None = None,
) -> dict[str, Any]:
    """Score the configured topics on a labelled file.

    Scored are the slugs in ``only`` or, by default, the configured topics that the file's gold
    labels use at least once (a file labelled for three topics says nothing about a fourth).
    """
    docs, gold = read_topic_labelled(path)
    configured = [t.slug for t in topics]
    unknown = [s for s in only if s not in configured]
    if unknown:
        raise TrackerError(f"no such topic: {unknown[0]} (see tracker topics list)")
    used = set().union(*gold.values())
    slugs = list(only) or [s for s in configured if s in used] or configured
    return {"topics": score(gold, predict(docs, topics, params), slugs)}


def format_report(result: Mapping[str, Any]) -> str:
    lines = [f"{'topic':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for slug, row in result["topics"].items():
        lines.append(
            f"{slug:<20}{row['precision']:>10.4f}{row['recall']:>10.4f}"
            f"{row['f1']:>10.4f}{row['support']:>9}"
        )
    return "\n".join(lines) + "\n"
