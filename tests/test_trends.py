"""Bursts and emerging terms (pure): synthetic series and a small labelled fixture."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tracker.models import Topic, TopicDay
from tracker.trends import Text, burst, emerging_terms, poisson_tail, timeline_burst

DATA = Path(__file__).parent / "data" / "topics"
# A topic with a steady, noisy 2-5 articles a day, and one day (day 28) of 25.
SERIES = [3, 2, 4, 3, 5, 2, 3, 4, 2, 3, 3, 4, 2, 5, 3, 2, 4, 3, 3, 2, 4, 3, 2, 5, 3, 4, 3, 25, 4, 3]


def test_a_30_day_series_with_a_spike_on_day_28_is_flagged_on_day_28_only() -> None:
    flagged = [day for day in range(1, 31) if burst(SERIES[:day]).spiking]
    assert flagged == [28]


def test_the_day_after_a_spike_is_judged_against_a_baseline_that_includes_it() -> None:
    after = burst(SERIES[:29])
    assert after.expected > 3.0 and not after.spiking


def test_a_young_topic_does_not_spike_on_a_couple_of_articles() -> None:
    assert not burst([0, 0, 2]).spiking  # floor of 1 a day: 2 is not surprising
    assert not burst([2]).spiking  # no history at all
    assert burst([0, 0, 0, 12]).spiking


def test_the_burst_reports_a_poisson_z_score_and_tail() -> None:
    b = burst([4] * 14 + [16])
    assert b.expected == 4.0 and b.score == pytest.approx(6.0)
    assert b.p_value == pytest.approx(poisson_tail(16, 4.0)) and b.p_value < 1e-3


def test_poisson_tail_edges() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 1.0) == pytest.approx(1 - 0.36787944, abs=1e-6)


def test_timeline_burst_reads_entries_and_treats_a_short_timeline_as_young() -> None:
    day = date(2025, 1, 27)
    days = [TopicDay(day - timedelta(days=n), 1, 2, 1) for n in range(14, 0, -1)]
    assert timeline_burst([*days, TopicDay(day, 9, 30, 12)], day).spiking
    assert not timeline_burst([TopicDay(day, 2, 2, 2)], day).spiking


def _fixture() -> list[Text]:
    rows = [json.loads(line) for line in (DATA / "emerging.jsonl").read_text().splitlines()]
    return [Text(date.fromisoformat(r["day"]), r["outlet"], r["title"], r["summary"]) for r in rows]


def test_emerging_terms_find_the_new_name_several_outlets_use() -> None:
    found = emerging_terms(_fixture(), date(2025, 1, 27))
    assert [e.term for e in found] == ["DeepSeek"]
    assert found[0].outlets == 5 and found[0].entries == 6 and found[0].examples


def test_emerging_terms_ignore_names_every_day_and_existing_topics() -> None:
    topic = Topic("deepseek", "DeepSeek", ("DeepSeek",))
    assert emerging_terms(_fixture(), date(2025, 1, 27), [topic]) == ()
    # Apple is in every day's news: never "emerging", however many outlets mention it.
    assert "Apple" not in {e.term for e in emerging_terms(_fixture(), date(2025, 1, 27))}


def test_a_name_from_one_or_two_outlets_is_not_emerging() -> None:
    texts = [Text(date(2025, 1, 27), o, "Zorblax launches", "") for o in ("A", "A", "B")]
    assert emerging_terms(texts, date(2025, 1, 27)) == ()
