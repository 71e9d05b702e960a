"""Clustering speed-ups that must not change a result (issue 8): kept tokens, seeded context."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker import cluster
from tracker.app import App
from tracker.cluster import DEFAULT_PARAMS, DocTokens, assign
from tracker.demo import CORPUS, demo_config
from tracker.models import Doc, Entry
from tracker.resources import examples_dir

T0 = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
TITLES = [
    ("DeepSeek releases R1 reasoning model that rivals OpenAI o1", "An open model from China."),
    ("Chinese startup DeepSeek's R1 matches OpenAI o1", "Trained for a few million dollars."),
    ("Nvidia GeForce RTX 5090 review: the fastest card", "Nvidia's RTX 5090 costs $1,999."),
    ("RTX 5090 benchmarks: Nvidia's new flagship tested", "It is fast, hot and loud."),
    ("Samsung Galaxy S25 launch: everything announced", "Galaxy S25 Ultra gets a new chip."),
    ("Best Galaxy S25 deals of 2025", "Save $200 on Samsung's phone."),
    ("TikTok ban delayed by executive order", "The app is back in US stores."),
    ("Beekeepers report record honey harvest", "Bees did well this year."),
]


def docs(n: int, seed: int = 3) -> list[Doc]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        title, summary = TITLES[rnd.randrange(len(TITLES))]
        out.append(
            Doc(
                f"x{i:03d}",
                title,
                summary,
                T0 + timedelta(hours=rnd.random() * 400),
                rnd.choice(["A", "B", "C", "Hacker News"]),
                link=f"https://example.com/2025/01/{title.lower().replace(' ', '-')[:40]}",
            )
        )
    return out


def runs(all_docs: list[Doc], tokens: dict[str, DocTokens] | None) -> dict[str, object]:
    """Runs of twelve docs, the window before as context and the week before as background."""
    params = DEFAULT_PARAMS
    order = sorted(all_docs, key=lambda d: (d.published, d.id))
    done: dict[str, str] = {}
    out: dict[str, object] = {}
    for start in range(0, len(order), 12):
        new = order[start : start + 12]
        since = new[0].published - timedelta(days=params.window_days + params.max_span_days)
        earlier = order[:start]
        context = [(d, done[d.id]) for d in earlier if d.published >= since]
        background = [d for d in earlier if d.published < since]
        for a in assign(new, context, params, background, tokens):
            done[a.entry_id] = a.story_id
            out[a.entry_id] = a
    return out


def test_kept_tokens_change_nothing_and_cover_every_doc() -> None:
    everything = docs(120)
    tokens: dict[str, DocTokens] = {}
    assert runs(everything, tokens) == runs(everything, None)
    assert set(tokens) == {d.id for d in everything}
    # Through storage and back, as the app keeps them.
    stored = {i: DocTokens.load(t.dump()) for i, t in tokens.items()}
    assert stored == tokens
    assert runs(everything, stored) == runs(everything, None)


def test_a_record_made_from_other_text_is_not_used() -> None:
    everything = docs(40)
    tokens: dict[str, DocTokens] = {}
    assign(everything, (), DEFAULT_PARAMS, (), tokens)
    # The same ids with other texts: the kept records no longer match and are made again.
    changed = [replace(d, title=d.title + " update", summary="Beekeepers") for d in everything]
    assert assign(changed, (), DEFAULT_PARAMS, (), tokens) == cluster.cluster(changed)
    assert all(tokens[d.id].key == cluster.token_key(d, True) for d in changed)
    assert cluster.token_key(changed[0], True) != cluster.token_key(changed[0], False)


def test_empty_token_lists_round_trip() -> None:
    record = DocTokens("k", (), ("a",), ("Nvidia", "RTX 5090"), (), True)
    assert DocTokens.load(record.dump()) == record


def test_the_token_version_follows_the_code() -> None:
    version = cluster._token_version()
    assert version == cluster._token_version() and len(version) == 16


@pytest.mark.parametrize("block", [1, 3, 256])
def test_seeded_context_gives_what_a_pass_over_it_gives(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Context docs before the first new one are seeded at once, not compared one by one.
    monkeypatch.setattr(cluster, "_BLOCK", block)
    everything = sorted(docs(90, seed=5), key=lambda d: (d.published, d.id))
    once = {a.entry_id: a for a in cluster.cluster(everything)}
    context = [(d, once[d.id].story_id) for d in everything[:60]]
    later = assign(everything[60:], context)
    assert {a.entry_id: a.story_id for a in later} == {
        d.id: once[d.id].story_id for d in everything[60:]
    }
    assert [a.similarity for a in later] == [once[d.id].similarity for d in everything[60:]]


def test_the_app_keeps_the_tokens_of_recent_entries(tmp_path: Path) -> None:
    config, _ = demo_config(tmp_path, examples_dir() / CORPUS)
    now = T0 + timedelta(days=30)
    with App(config, clock=lambda: now) as app:
        app.sync_feeds()
        feed = app.store.db.execute("SELECT url FROM feeds LIMIT 1").fetchone()[0]
        entries = [
            Entry(
                id=d.id,
                feed_url=feed,
                link=d.link + "/" + d.id,
                title=d.title,
                summary=d.summary,
                published=d.published,
                outlet=d.outlet,
            )
            for d in docs(60)
        ]
        entries.sort(key=lambda e: e.published)
        with app.store.transaction():
            app.store.add_entries(entries[:30], now)
        app.cluster()
        assert app.store.count("cluster_tokens") == 30
        kept = app.store.cluster_tokens([e.id for e in entries[:30]])
        with app.store.transaction():
            app.store.add_entries(entries[30:], now)
        app.cluster()
        # The first run's records were read back, not made again.
        assert app.store.cluster_tokens([e.id for e in entries[:30]]) == kept
        last = entries[-1].published
        cutoff = last - timedelta(days=40)
        with app.store.transaction():
            app.store.save_cluster_tokens([], cutoff + timedelta(days=60))
        assert app.store.count("cluster_tokens") == 0
