"""Topic matching and timelines (pure): hand-written headlines, sets, no label numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.models import Member, Story, Topic
from tracker.topics import Matcher, is_case_sensitive, match_stories, timeline

DEEPSEEK = Topic("deepseek", "DeepSeek", ("DeepSeek",), aliases=("Deep Seek",))
EXPORT = Topic(
    "export-controls",
    "US chip export controls",
    ("export controls", "export rules", "chip ban"),
    exclude=("export photos",),
)
NVIDIA = Topic("nvidia", "NVIDIA", ("Nvidia", "H20", "Jensen Huang"))
T0 = datetime(2025, 1, 27, 9, tzinfo=UTC)


def story(sid: str, *titles: str, summaries: tuple[str, ...] = (), start: datetime = T0) -> Story:
    members = tuple(
        Member(
            f"{sid}-{i}",
            t,
            f"https://x/{sid}/{i}",
            f"Outlet {i}",
            start + timedelta(hours=i),
            summary=summaries[i] if i < len(summaries) else "",
        )
        for i, t in enumerate(titles)
    )
    return Story(
        sid, titles[0], members[0].link, "", members[0].published, members[-1].published, members
    )


@pytest.mark.parametrize(
    ("term", "sensitive"),
    [
        ("R1", True),
        ("H20", True),
        ("TSMC", True),
        ("Meta", True),
        ("Nvidia", False),
        ("DeepSeek", False),
        ("export controls", False),
    ],
)
def test_case_rules(term: str, sensitive: bool) -> None:
    assert is_case_sensitive(term) is sensitive


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("NVIDIA shares fall", ["Nvidia"]),
        ("nvidia's stock", ["Nvidia"]),
        ("Nvidiaphile", []),
        ("the h20 chip", []),
        ("the H20 chip", ["H20"]),
        ("Jensen  Huang speaks", ["Jensen Huang"]),
    ],
)
def test_word_boundaries_and_case(text: str, found: list[str]) -> None:
    assert Matcher(NVIDIA).terms(text) == found


def test_phrases_match_across_hyphens_and_exclusions_veto() -> None:
    m = Matcher(EXPORT)
    assert m.terms("New export-controls on AI chips") == ["export controls"]
    assert m.terms("How to export photos from iCloud") == []
    assert m.terms("export your data") == []


def test_story_belongs_by_headline_or_by_most_members() -> None:
    big = story(
        "big",
        "Apple earnings beat",
        "Apple posts record",
        "iPhone sales up",
        "Apple results",
        summaries=("", "", "", "unlike DeepSeek, Apple..."),
    )
    about = story("about", "Markets fall", "DeepSeek rattles markets", "DeepSeek app tops charts")
    headline = story("head", "DeepSeek R1 released")
    matches = match_stories([DEEPSEEK], [big, about, headline])
    assert set(matches["deepseek"]) == {"about", "head"}


def test_timeline_counts_per_local_day() -> None:
    s1 = story("a", "DeepSeek one", "DeepSeek two")
    s2 = story("b", "DeepSeek three", start=T0 + timedelta(days=1))
    days = [date(2025, 1, 26), date(2025, 1, 27), date(2025, 1, 28)]
    line = timeline([s1, s2], days, ZoneInfo("Europe/London"))
    assert [(d.stories, d.entries, d.outlets) for d in line] == [(0, 0, 0), (1, 2, 2), (1, 1, 1)]
