"""Story clustering on hand-written headlines in obvious groups (membership as sets)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tracker import cluster
from tracker.cluster import DEFAULT_PARAMS, ClusterParams, assign, representative, story_id_for
from tracker.models import Assignment, Doc

T0 = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)


def doc(
    id: str,
    title: str,
    summary: str = "",
    hours: float = 0.0,
    outlet: str = "",
    aggregator: bool = False,
) -> Doc:
    return Doc(id, title, summary, T0 + timedelta(hours=hours), outlet, aggregator)


GROUPS: dict[str, list[Doc]] = {
    "deepseek": [
        doc(
            "d1",
            "DeepSeek releases R1 reasoning model that rivals OpenAI o1",
            "The Chinese AI lab DeepSeek published R1, an open reasoning model.",
            1,
            "Ars",
        ),
        doc(
            "d2",
            "Chinese startup DeepSeek's R1 model matches OpenAI o1 at a fraction of the cost",
            "DeepSeek says R1 was trained for a few million dollars.",
            5,
            "Wired",
        ),
        doc(
            "d3",
            "DeepSeek R1: the open reasoning model that challenges OpenAI",
            "R1 from DeepSeek is free to download and rivals o1 on benchmarks.",
            9,
            "Verge",
        ),
    ],
    "rtx": [
        doc(
            "r1",
            "Nvidia GeForce RTX 5090 review: the fastest graphics card ever made",
            "Nvidia's RTX 5090 is fast, hot and costs $1,999.",
            2,
            "Ars",
        ),
        doc(
            "r2",
            "RTX 5090 benchmarks: Nvidia's new flagship graphics card is fast and pricey",
            "We tested the GeForce RTX 5090 in twenty games.",
            6,
            "Tom's Hardware",
        ),
        doc(
            "r3",
            "Hands on with the Nvidia RTX 5090 graphics card",
            "The RTX 5090 doubles frame rates with DLSS 4.",
            12,
            "Verge",
        ),
    ],
    "tiktok": [
        doc(
            "t1",
            "TikTok goes dark in the US as the ban takes effect",
            "TikTok stopped working for US users on Saturday night.",
            3,
            "Verge",
        ),
        doc(
            "t2",
            "TikTok ban: the app disappears from US app stores",
            "Apple and Google removed TikTok from their US app stores after the ban.",
            7,
            "Wired",
        ),
        doc(
            "t3",
            "TikTok restores service to US users after the ban",
            "TikTok came back online in the US on Sunday.",
            20,
            "Ars",
        ),
    ],
    "vacuum": [
        doc(
            "v1",
            "The best robot vacuums to buy this year",
            "Our favourite cleaners for pet hair and carpets.",
            4,
            "Wired",
        )
    ],
    "keyboard": [
        doc(
            "k1",
            "How to clean your mechanical keyboard",
            "A can of compressed air and some patience.",
            8,
            "Verge",
        )
    ],
}
ALL = [d for group in GROUPS.values() for d in group]


def partition(assignments: Sequence[Assignment]) -> set[frozenset[str]]:
    stories: dict[str, set[str]] = {}
    for a in assignments:
        stories.setdefault(a.story_id, set()).add(a.entry_id)
    return {frozenset(s) for s in stories.values()}


def expected(groups: dict[str, list[Doc]]) -> set[frozenset[str]]:
    return {frozenset(d.id for d in group) for group in groups.values()}


def test_obvious_groups_become_stories() -> None:
    assert partition(cluster.cluster(ALL)) == expected(GROUPS)


def test_one_assignment_per_doc_in_input_order() -> None:
    docs = list(reversed(ALL))
    assert [a.entry_id for a in cluster.cluster(docs)] == [d.id for d in docs]


def test_story_named_after_its_first_doc_with_similarity_one() -> None:
    by_id = {a.entry_id: a for a in cluster.cluster(ALL)}
    assert by_id["d1"] == Assignment("d1", story_id_for("d1"), 1.0)
    for later in ("d2", "d3"):
        assert by_id[later].story_id == "sd1"
        assert DEFAULT_PARAMS.threshold <= by_id[later].similarity < 1.0


def test_shuffled_input_gives_the_same_assignments() -> None:
    reference = {a.entry_id: a for a in cluster.cluster(ALL)}
    for seed in range(5):
        docs = ALL[:]
        random.Random(seed).shuffle(docs)
        assert {a.entry_id: a for a in cluster.cluster(docs)} == reference


def test_publication_ties_are_broken_by_id() -> None:
    a = doc("b", "Nvidia RTX 5090 review", hours=1, outlet="X")
    b = doc("a", "Nvidia RTX 5090 review", hours=1, outlet="Y")
    stories = {x.story_id for x in cluster.cluster([a, b])}
    assert stories == {story_id_for("a")}


@pytest.mark.parametrize("block", [1, 2, 5, 256])
def test_block_size_does_not_change_the_result(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = cluster.cluster(ALL)
    monkeypatch.setattr(cluster, "_BLOCK", block)
    assert cluster.cluster(ALL) == reference


def naive(docs: Sequence[Doc], params: ClusterParams) -> dict[str, tuple[str, float]]:
    """The definition, spelled out: every doc against every live story's full centroid."""
    order = sorted(docs, key=lambda d: (d.published, d.id))
    views = [v.toarray() for v in cluster.doc_views(order, params)]
    weights = (params.title_weight, params.summary_weight, params.entity_weight)
    stories: list[tuple[str, list[int]]] = []
    out: dict[str, tuple[str, float]] = {}
    for j, d in enumerate(order):
        best, best_sim = -1, -1.0
        for k, (_, rows) in enumerate(stories):
            gap = (d.published - order[rows[-1]].published).total_seconds() / 86400
            span = (d.published - order[rows[0]].published).total_seconds() / 86400
            if gap > params.window_days or span > params.max_span_days:
                continue
            num = den = 0.0
            for w, x in zip(weights, views, strict=True):
                total = x[rows].sum(axis=0)
                if total.any() and x[j].any():
                    num, den = num + w * (x[j] @ total) / math.sqrt(total @ total), den + w
            sim = (num / den if den else 0.0) * math.exp(-gap / params.decay_days)
            if d.outlet and all(order[r].outlet == d.outlet for r in rows):
                sim *= params.same_outlet_factor
            service = cluster.is_service(d.title) or cluster.is_service(order[rows[0]].title)
            needed = params.service_threshold if service else params.threshold
            if sim >= needed and sim > best_sim:
                best, best_sim = k, sim
        if best >= 0:
            stories[best][1].append(j)
            out[d.id] = (stories[best][0], round(best_sim, 4))
        else:
            stories.append((story_id_for(d.id), [j]))
            out[d.id] = (story_id_for(d.id), 1.0)
    return out


def spread(n: int) -> list[Doc]:
    """Many docs over a month from the groups' texts, so that stories start, age and die."""
    rnd = random.Random(7)
    docs = []
    for i in range(n):
        base = ALL[rnd.randrange(len(ALL))]
        when = T0 + timedelta(hours=rnd.random() * 720)
        docs.append(replace(base, id=f"x{i:03d}", published=when, outlet=rnd.choice("ABC")))
    return docs


@pytest.mark.parametrize("block", [3, 256])
def test_matches_the_naive_definition(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "_BLOCK", block)
    docs = spread(60)
    got = {a.entry_id: (a.story_id, a.similarity) for a in cluster.cluster(docs)}
    want = naive(docs, DEFAULT_PARAMS)
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in want.items()}
    for key, (_, similarity) in want.items():
        assert got[key][1] == pytest.approx(similarity, abs=1e-4)
    assert len({s for s, _ in got.values()}) > len(GROUPS)  # stories did die and restart


def test_context_keeps_its_stories_and_seeds_new_docs() -> None:
    ordered = sorted(ALL, key=lambda d: d.published)
    first, second = ordered[: len(ordered) // 2], ordered[len(ordered) // 2 :]
    context = [(a_doc, a.story_id) for a_doc, a in zip(first, cluster.cluster(first), strict=True)]
    result = assign(second, context)
    assert [a.entry_id for a in result] == [d.id for d in second]
    # One pass over everything gives the same stories as the two runs together.
    assert partition([*cluster.cluster(first), *result]) == partition(cluster.cluster(ALL))
    context_ids = {s for _, s in context}
    joined = [a for a in result if a.story_id in context_ids]
    assert {a.entry_id for a in joined} >= {"d3", "r3", "t3"}


def test_context_story_ids_are_kept_whatever_they_are() -> None:
    context = [(d, "story-deepseek") for d in GROUPS["deepseek"][:2]]
    new = [GROUPS["deepseek"][2], *GROUPS["tiktok"]]
    by_id = {a.entry_id: a.story_id for a in assign(new, context)}
    assert by_id["d3"] == "story-deepseek"
    assert by_id["t1"] == story_id_for("t1") == by_id["t2"] == by_id["t3"]


@pytest.mark.parametrize("block", [1, 2, 256])
def test_context_can_revive_a_story_its_own_run_kept_open(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster, "_BLOCK", block)
    old = doc("c1", "Nvidia RTX 5090 review", "Benchmarks of the RTX 5090.", 0, "A")
    filler = doc("c2", "How to clean your keyboard", "Compressed air.", 100, "B")
    revived = doc("c3", "Nvidia RTX 5090 review update", "More RTX 5090 benchmarks.", 200, "C")
    new = doc("n1", "Nvidia RTX 5090 review: benchmarks", "The RTX 5090 tested.", 210, "D")
    context = [(old, "long"), (filler, "other"), (revived, "long")]
    # An earlier run with no span cap kept "long" open for 200 hours.
    params = replace(DEFAULT_PARAMS, max_span_days=100.0)
    assert [a.story_id for a in assign([new], context, params)] == ["long"]


def test_same_text_ten_days_apart_makes_two_stories() -> None:
    a = doc("w1", "Nvidia RTX 5090 review", "The RTX 5090 tested.", 0, "A")
    b = doc("w2", "Nvidia RTX 5090 review", "The RTX 5090 tested.", 240, "B")
    c = doc("w3", "Nvidia RTX 5090 review", "The RTX 5090 tested.", 24, "C")
    assert partition(cluster.cluster([a, b])) == {frozenset({"w1"}), frozenset({"w2"})}
    assert partition(cluster.cluster([a, c])) == {frozenset({"w1", "w3"})}


def test_similarity_decays_with_the_gap() -> None:
    base = doc("g0", "Nvidia RTX 5090 review", "The RTX 5090 tested.", 0, "A")
    sims = []
    for hours in (1, 24, 60):
        later = doc("g1", "Nvidia RTX 5090 review", "The RTX 5090 tested.", hours, "B")
        sims.append(cluster.cluster([base, later])[1].similarity)
    assert sims[0] > sims[1] > sims[2] > 0


def test_title_only_docs_join_and_are_not_dragged_down() -> None:
    hn = doc(
        "h1",
        "Nvidia RTX 5090 review: the fastest graphics card ever made",
        hours=3,
        outlet="Hacker News",
        aggregator=True,
    )
    result = {a.entry_id: a for a in cluster.cluster([*ALL, hn])}
    assert result["h1"].story_id == "sr1"
    # Title and entities agree; the missing summary view is left out, not counted as zero.
    assert result["h1"].similarity > 0.5


def test_all_summaries_empty() -> None:
    docs = [replace(d, summary="") for d in ALL]
    assert partition(cluster.cluster(docs)) == expected(GROUPS)


def test_html_in_summaries_is_text() -> None:
    docs = [replace(d, summary=f"<p><b>{d.summary}</b> &amp; more</p>") for d in ALL]
    assert partition(cluster.cluster(docs)) == expected(GROUPS)
    assert cluster.plain_text("<p>R1 &amp; <i>o1</i></p>") == "R1 & o1"


def test_one_outlets_template_series_stays_apart() -> None:
    cities = ["Hayward, California", "Glendale, Arizona", "Hartford, Connecticut", "Boise, Idaho"]
    series = [
        doc(f"p{i}", f"Best Internet Providers in {c}", f"Plans and prices in {c}.", i, "CNET")
        for i, c in enumerate(cities)
    ]
    apart = partition(cluster.cluster([*ALL, *series]))
    assert apart == expected(GROUPS) | {frozenset({d.id}) for d in series}
    merged = cluster.cluster([*ALL, *series], replace(DEFAULT_PARAMS, same_outlet_factor=1.0))
    assert frozenset(d.id for d in series) in partition(merged)  # the factor keeps them apart


def test_empty_input_and_duplicate_ids() -> None:
    assert cluster.cluster([]) == []
    assert assign([], [(ALL[0], "s")]) == []
    with pytest.raises(ValueError, match="duplicate"):
        cluster.cluster([ALL[0], ALL[0]])
    with pytest.raises(ValueError, match="duplicate"):
        assign([ALL[0]], [(ALL[0], "s")])


def test_entity_tokens_keep_names_models_and_amounts() -> None:
    tokens = cluster.entity_tokens("NVIDIA's RTX 5090 and the Galaxy S25 cost $2 billion, up 16%")
    assert {"Nvidia", "RTX", "5090", "RTX 5090", "Galaxy S25", "$2b", "16%"} <= set(tokens)
    assert "the" not in tokens and "cost" not in tokens
    assert "$500b" in cluster.entity_tokens("a US$500bn plan")


def test_word_tokens_are_lower_case_stemmed_without_stop_words() -> None:
    stop = frozenset({"the"})
    assert cluster.word_tokens("the seized ships", stop) == ["seiz", "ship"]
    assert cluster.word_tokens("the seizes ship", stop) == ["seiz", "ship"]
    assert cluster.word_tokens("the seized ships", stop, stem=False) == ["seized", "ships"]


def test_aggregator_outlets() -> None:
    assert cluster.is_aggregator_outlet("Hacker News: Front Page")
    assert cluster.is_aggregator_outlet("slashdot")
    assert not cluster.is_aggregator_outlet("Ars Technica")


def test_representative_is_nearest_the_centroid() -> None:
    docs = [
        doc("a", "Nvidia RTX 5090 review: fast", hours=0, outlet="X"),
        doc("b", "Nvidia RTX 5090 review: pricey", hours=1, outlet="Y"),
        doc("c", "Buying one? Shop around", hours=2, outlet="Z"),
        doc("d", "Nvidia RTX 5090 review", hours=3, outlet="W"),
    ]
    assert representative(docs) == "d"


def test_representative_prefers_non_aggregators_then_the_earliest() -> None:
    hn = doc("hn", "Nvidia RTX 5090 review", hours=0, outlet="Hacker News", aggregator=True)
    late = doc("late", "Nvidia RTX 5090 review", hours=5, outlet="Ars")
    early = doc("early", "Nvidia RTX 5090 review", hours=2, outlet="Verge")
    assert representative([hn, late]) == "late"
    assert representative([late, early, hn]) == "early"
    assert representative([hn]) == "hn"
    assert representative([doc("x", "The", hours=1), doc("y", "", hours=0)]) == "y"
    with pytest.raises(ValueError):
        representative([])


# --- issue 4: measured, explained and stable ----------------------------------------------


def test_puzzle_hints_of_two_outlets_stay_apart_day_after_day() -> None:
    days = ("Wednesday", "Thursday", "Friday")
    docs = []
    for i, weekday in enumerate(days):
        docs.append(
            doc(
                f"t{i}",
                f"NYT Connections today \u2014 my hints and answers for {weekday}, "
                f"January {22 + i} (game #{591 + i})",
                hours=24 * i,
                outlet="TechRadar",
            )
        )
        docs.append(
            doc(
                f"c{i}",
                f"Today's NYT Connections Hints, Answers and Help for Jan. {22 + i}, #{591 + i}",
                hours=24 * i + 1,
                outlet="CNET",
            )
        )
    assert partition(cluster.cluster(docs)) == {frozenset({d.id}) for d in docs}


def test_a_deal_does_not_join_the_launch_it_sells() -> None:
    launch = [
        doc(
            "l1",
            "Samsung launches the Galaxy S25 at Unpacked",
            "Samsung unveiled the Galaxy S25 phones.",
            0,
            "A",
        ),
        doc(
            "l2",
            "Galaxy S25 hands-on: Samsung's new phones",
            "We tried the Samsung Galaxy S25 phones.",
            2,
            "B",
        ),
    ]
    deal = doc(
        "l3", "Best Samsung Galaxy S25 deals: $200 gift cards", "Samsung Galaxy S25 offers.", 3, "C"
    )
    assert partition(cluster.cluster([*launch, deal])) == {
        frozenset({"l1", "l2"}),
        frozenset({"l3"}),
    }
    assert cluster.is_service("Today's Wordle Hints, Answer and Help for Jan. 24, #1315")
    assert cluster.is_service("The best e-readers of 2025: Expert tested and reviewed")
    assert not cluster.is_service("Nvidia loses $600bn in a day as DeepSeek rattles markets")


def test_a_story_closes_max_span_days_after_its_first_member() -> None:
    # A daily follow-up keeps the story live, but it cannot run for a week.
    text = ("DeepSeek R1 shakes Nvidia and AI stocks", "DeepSeek R1 and Nvidia stocks.")
    docs = [doc(f"f{d}", *text, 24 * d, "ABCDEFG"[d]) for d in range(7)]
    stories = partition(cluster.cluster(docs))
    assert len(stories) == 2
    assert frozenset({"f0", "f1", "f2", "f3"}) in stories
    longer = replace(DEFAULT_PARAMS, max_span_days=100.0)
    assert len(partition(cluster.cluster(docs, longer))) == 1


def test_an_entry_that_fits_no_story_starts_one() -> None:
    lonely = doc("z1", "Beekeepers report record honey harvest", "Bees did well.", 3, "Farm")
    result = {a.entry_id: a for a in cluster.cluster([*ALL, lonely])}
    assert result["z1"] == Assignment("z1", story_id_for("z1"), 1.0)


def test_one_shot_and_incremental_runs_give_the_same_ids() -> None:
    docs = spread(60)
    once = {a.entry_id: a.story_id for a in cluster.cluster(docs)}
    order = sorted(docs, key=lambda d: (d.published, d.id))
    done: dict[str, str] = {}
    for start in range(0, len(order), 7):  # runs of seven new entries, all earlier as context
        context = [(d, done[d.id]) for d in order[:start]]
        for a in assign(order[start : start + 7], context):
            done[a.entry_id] = a.story_id
    assert done == once


def test_a_doc_vector_ignores_later_docs() -> None:
    # The trailing IDF: adding later docs never changes an earlier doc's weights.
    docs = sorted(spread(30), key=lambda d: (d.published, d.id))

    def weights(n: int) -> list[list[dict[str, float]]]:
        views = cluster._views(docs[:n], DEFAULT_PARAMS)
        return [
            [
                {names[c]: round(float(x), 9) for c, x in zip(m[r].indices, m[r].data, strict=True)}
                for r in range(10)
            ]
            for m, names in views
        ]

    assert weights(10) == weights(30)


def test_joined_terms_say_what_an_entry_shared() -> None:
    result = {a.entry_id: a for a in cluster.cluster(ALL)}
    assert result["d1"].terms == ()
    assert "DeepSeek" in result["d2"].terms
    assert {"R1", "DeepSeek"} & set(result["d3"].terms)


def test_shared_terms_of_a_story() -> None:
    why = cluster.shared_terms(GROUPS["deepseek"])
    assert why[0] == "DeepSeek" or "DeepSeek" in why
    assert "R1" in why or any("R1" in t for t in why)
    assert cluster.shared_terms(GROUPS["vacuum"]) == ()
    assert len(why) == len({t.casefold() for t in why})


def test_short_summary_cuts_at_a_word() -> None:
    text = "<p>DeepSeek &amp; friends " + "word " * 100 + "</p>"
    out = cluster.short_summary(text, 60)
    assert len(out) <= 60 and out.endswith("\u2026") and out.startswith("DeepSeek & friends")
    assert cluster.short_summary("Short.", 60) == "Short."


def test_an_aggregator_item_joins_the_story_it_links_to() -> None:
    hn = doc(
        "h2",
        "Chinese startup DeepSeek's R1 model matches OpenAI o1",
        hours=6,
        outlet="Hacker News",
        aggregator=True,
    )
    slash = doc("h3", "DeepSeek R1 Rivals OpenAI o1", hours=7, outlet="Slashdot", aggregator=True)
    result = {a.entry_id: a.story_id for a in cluster.cluster([*ALL, hn, slash])}
    assert result["h2"] == result["h3"] == "sd1"


# --- link slugs, Title Case headlines, service items of several outlets --------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (
            "https://www.axios.com/2025/01/26/trump-deportation-colombia-gustavo-petro",
            "trump deportation colombia gustavo petro",
        ),
        (
            "https://www.nytimes.com/2025/01/26/world/americas/colombia-us-deportation-flights.html",
            "colombia us deportation flights",
        ),
        ("https://www.bbc.com/news/articles/c8r5y75d17vo", ""),  # an id, not words
        ("https://example.com/news/2025/jan/27", ""),  # dates and sections only
        (
            "https://www.yahoo.com/news/displaced-palestinians-returning-104916185.html",
            "displaced palestinians returning",
        ),
        ("not a url at all", ""),
        ("http://[::1", ""),  # unparseable: no words, no error
        ("", ""),
    ],
)
def test_link_words_read_the_slug_only(url: str, words: str) -> None:
    assert cluster.link_words(url) == words


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Trump Administration Begins Immigration Arrests in Chicago",
            "Trump administration begins immigration arrests in chicago",
        ),
        # Acronyms, mixed case and model names keep their case in a Title Case headline.
        (
            "DeepSeek Releases R1 Model as TSMC Shares Fall",
            "DeepSeek releases R1 model as TSMC shares fall",
        ),
        # Sentence case is left alone: its capitals are names.
        (
            "Colombia hits back at Trump with tariffs on US goods",
            "Colombia hits back at Trump with tariffs on US goods",
        ),
        ("Samsung Galaxy S25", "Samsung Galaxy S25"),  # too short to tell
    ],
)
def test_headline_case_lowers_title_case_words(title: str, expected: str) -> None:
    assert cluster.headline_case(title) == expected


def test_title_case_words_are_not_entities_but_names_in_sentence_case_are() -> None:
    entities = set(
        cluster.entity_tokens(
            cluster.headline_case("Trump Administration Begins Immigration Arrests in Chicago")
        )
    )
    assert "Begins" not in entities and "Arrests" not in entities
    assert "Trump" in cluster.entity_tokens("Colombia hits back at Trump with tariffs")


def test_a_shared_slug_joins_headlines_that_share_little() -> None:
    a = Doc(
        "a",
        "Colombia backs down",
        "",
        T0,
        "CNN",
        link="https://cnn.example/2025/01/26/colombia-deportation-flights-tariffs-trump",
    )
    b = Doc(
        "b",
        "White House claims a win",
        "",
        T0 + timedelta(hours=2),
        "Axios",
        link="https://axios.example/2025/01/26/trump-colombia-deportation-flights-tariffs",
    )
    without = [replace(a, link=""), replace(b, link="")]
    assert partition(cluster.cluster(without)) == {frozenset({"a"}), frozenset({"b"})}
    assert partition(cluster.cluster([a, b])) == {frozenset({"a", "b"})}


def test_service_items_of_two_outlets_never_join_but_one_outlets_update_does() -> None:
    title = "Best Samsung Galaxy S25 deals: $200 gift cards and free offers at Verizon"
    docs = [
        doc("z1", title, hours=0, outlet="ZDNet"),
        doc("c1", title, hours=1, outlet="CNET"),  # the same words, another outlet
        doc("z2", title.replace("$200", "$300"), hours=5, outlet="ZDNet"),  # an update
    ]
    assert partition(cluster.cluster(docs)) == {frozenset({"z1", "z2"}), frozenset({"c1"})}


def test_the_quick_http_path_agrees_with_urlsplit() -> None:
    from urllib.parse import urlsplit

    rnd = random.Random(7)
    alphabet = "hHtTpPsS:/?#[]@.-_aZ09 \t%&=;"
    heads = ["http://", "https://", "HTTP://", "Https://", "http:/", "ftp://", ""]
    urls = [
        rnd.choice(heads) + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25)))
        for _ in range(20_000)
    ]
    urls += ["https://www.nytimes.com/2025/01/26/world/colombia-us-deportation-flights.html?a=b"]
    checked = 0
    for url in urls:
        fast = cluster._http_path(url)
        if fast is None:
            continue  # left to urlsplit itself
        checked += 1
        assert fast == urlsplit(url).path, url
    assert checked > 5_000
