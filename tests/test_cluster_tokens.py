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


def _stored_entries(app: App, texts: list[Doc]) -> list[Entry]:
    """The docs as entries of the app's first feed (each its own link), oldest first."""
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
        for d in texts
    ]
    return sorted(entries, key=lambda e: e.published)


def test_the_app_keeps_the_tokens_of_recent_entries(tmp_path: Path) -> None:
    config, _ = demo_config(tmp_path, examples_dir() / CORPUS)
    now = T0 + timedelta(days=30)
    with App(config, clock=lambda: now) as app:
        app.sync_feeds()
        entries = _stored_entries(app, docs(60))
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


def test_the_token_version_does_not_depend_on_what_was_tokenised_before() -> None:
    # The stem and entity memos are caches, not rules: a process that clustered something
    # before its first kept-token run must still read the stored records back.
    cluster._token_version.cache_clear()
    cluster.clear_memos()
    before = cluster._token_version()
    cluster.cluster(docs(40))
    cluster._token_version.cache_clear()
    assert cluster._token_version() == before


def _corpus_docs() -> list[Doc]:
    import json

    rows = (examples_dir() / CORPUS / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(rows):
        row = json.loads(line)
        out.append(
            Doc(
                f"c{i:04d}",
                row["title"],
                row.get("summary") or "",
                datetime.fromisoformat(row["published"]),
                row["source"],
                cluster.is_aggregator_outlet(row["source"]),
            )
        )
    return out


def _vectorizer_scores(story: list[Doc]) -> tuple[list[float], list[str]] | None:
    """representative's scores as scikit-learn's TfidfVectorizer computes them (the former code)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    pool = sorted([d for d in story if not d.aggregator] or story, key=cluster._sort_key)
    titles = [cluster.plain_text(d.title) for d in story]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    if not any(vectorizer.build_analyzer()(t) for t in titles):
        return None
    vectorizer.fit(titles)
    centroid = np.asarray(vectorizer.transform(titles).mean(axis=0)).ravel()
    scores = vectorizer.transform([cluster.plain_text(d.title) for d in pool]) @ centroid
    return [float(s) for s in scores], [d.id for d in pool]


def test_representative_scores_are_the_vectorizers_to_the_bit() -> None:
    corpus = sorted(_corpus_docs(), key=cluster._sort_key)
    rnd = random.Random(8)
    compared = 0
    for k in range(400):
        size = rnd.choice([2, 3, 4, 6, 12, 30])
        if k % 3:
            story = rnd.sample(corpus, size)
        else:  # neighbours in time: often one story told several times
            start = rnd.randrange(len(corpus) - size)
            story = corpus[start : start + size]
        if k % 5 == 0:  # repeated words and a repeated title
            story = [replace(story[0], id="again", title=story[0].title * 2), *story]
        if k % 7 == 0:
            story = [replace(d, title=rnd.choice(["The", "A", d.title])) for d in story]
        expected = _vectorizer_scores(story)
        if expected is None:
            continue
        scores, pool_ids = expected
        pool = sorted([d for d in story if not d.aggregator] or story, key=cluster._sort_key)
        stop = cluster._stop_words()
        titles = [
            [
                w
                for w in cluster._SKLEARN_TOKEN.findall(cluster.plain_text(d.title).lower())
                if w not in stop
            ]
            for d in story
        ]
        got = cluster._title_scores(titles, cluster._positions(story, pool))
        assert [d.id for d in pool] == pool_ids
        assert got == scores  # exactly equal floats, not approximately
        best = max(range(len(pool)), key=lambda i: (round(scores[i], 9), -i))
        assert cluster.representative(story) == pool_ids[best]
        compared += 1
    assert compared > 300


def _story_tables(app: App) -> dict[str, list[tuple[object, ...]]]:
    db = app.store.db
    return {
        table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        for table in ("stories", "story_changes", "topics_pending")
    } | {"rowids": db.execute("SELECT rowid, story_id FROM topics_pending").fetchall()}


def test_save_stories_writes_what_save_story_writes_one_by_one(tmp_path: Path) -> None:
    from tracker.models import Member, Story

    def story(i: int, headline: str) -> Story:
        member = Member(f"e{i}", headline, f"https://x/{i}", "s", T0, "Outlet", False)
        return Story(
            id=f"s{i}",
            headline=headline,
            link=f"https://x/{i}",
            summary="s",
            first_seen=T0,
            last_seen=T0 + timedelta(hours=i),
            members=(member,),
            why=("Nvidia", "RTX 5090"),
        )

    first = [story(i, f"first {i}") for i in (3, 1, 2)]
    again = [story(i, f"again {i}") for i in (2, 5, 4)]  # one saved before, two new
    tables = []
    for folder, batched in (("one", False), ("many", True)):
        (tmp_path / folder).mkdir()
        config, _ = demo_config(tmp_path / folder, examples_dir() / CORPUS)
        with App(config, clock=lambda: T0) as app:
            for group in (first, again):
                with app.store.transaction():
                    if batched:
                        app.store.save_stories(group)
                    else:
                        for s in group:
                            app.store.save_story(s)
            tables.append(_story_tables(app))
    assert tables[0] == tables[1]
    assert len(tables[0]["story_changes"]) >= 6


def test_an_edited_entry_is_tokenised_again_and_clustered_as_from_scratch(
    tmp_path: Path,
) -> None:
    config, _ = demo_config(tmp_path, examples_dir() / CORPUS)
    now = T0 + timedelta(days=30)
    with App(config, clock=lambda: now) as app:
        app.sync_feeds()
        entries = _stored_entries(app, docs(60, seed=11))
        with app.store.transaction():
            app.store.add_entries(entries[:40], now)
        app.cluster()
        edited = entries[35]
        with app.store.transaction():
            app.store.db.execute(
                "UPDATE entries SET title = ? WHERE id = ?",
                ["Nvidia GeForce RTX 5090 review: the fastest card", edited.id],
            )
            app.store.add_entries(entries[40:], now)
        # What the run reads: the same rows the entries and the kept tokens give.
        since = entries[40].published - timedelta(days=13)
        window = app.store.cluster_window(since)
        known = app.store.clustered_since(since)
        kept = app.store.cluster_tokens([e.id for e, _, _ in known])
        assert [r[:8] for r in window] == [
            (e.id, e.title, e.summary, e.published, e.outlet, agg, e.link, story)
            for e, agg, story in known
        ]
        assert [r[8] for r in window] == [kept.get(e.id) for e, _, _ in known]
        app.cluster()
        # The edited entry's record was made again from its new text, and kept.
        row = app.store.cluster_window(since)
        record = {r[0]: r for r in row}[edited.id]
        doc = Doc(*record[:7])
        assert record[8][0] == cluster.token_key(doc, DEFAULT_PARAMS.stem)
        assert DocTokens.load(record[8])[1:] == cluster._doc_tokens([doc], DEFAULT_PARAMS)[0][1:]


@pytest.mark.parametrize("width", [50, 70_000])  # terms that fit in 16 bits, and more
def test_the_trailing_idf_counts_what_a_loop_counts(width: int) -> None:
    import numpy as np
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    rnd = random.Random(width)
    n_rows = 300
    days = np.sort(np.array([rnd.random() * 20 for _ in range(n_rows)]))
    pool = rnd.sample(range(width), 40)  # few terms, so that windows share them
    rows = [sorted(rnd.sample(pool, rnd.randrange(0, 8))) for _ in range(n_rows)]
    data = [1.0 + rnd.randrange(3) for r in rows for _ in r]
    indices = [c for r in rows for c in r]
    indptr = np.cumsum([0] + [len(r) for r in rows])
    tf = sp.csr_matrix((data, indices, indptr), shape=(n_rows, width))
    got = cluster._trailing_idf(tf, days, 7.0)
    expected = tf.copy()
    for j in range(n_rows):
        first = next(i for i in range(n_rows) if days[i] >= days[j] - 7.0)
        a, b = tf.indptr[j], tf.indptr[j + 1]
        for k in range(a, b):
            df = sum(tf.indices[k] in rows[i] for i in range(first, j + 1))
            n = j - first + 1
            expected.data[k] *= np.log((1.0 + n) / (1.0 + df)) + 1.0
    expected = sp.csr_matrix(normalize(expected))
    assert (got != expected).nnz == 0
