"""Bursts and emerging terms (pure): what is suddenly louder than usual.

    daily entries of a topic ──burst──> Burst (spiking or not)
    today's texts + trailing texts ──emerging_terms──> EmergingTerm candidates

**Bursts.** A topic's entries on a day are compared with its own trailing baseline (the
``BASELINE_DAYS`` days before). The baseline's daily mean is floored at ``RATE_FLOOR`` so that
a young or quiet topic (zero history) does not "spike" on two articles. The day is spiking when
the Poisson tail probability of seeing at least that many entries is below ``ALPHA``, the count
is at least ``MIN_COUNT`` and at least ``MIN_RATIO`` times the baseline. The score reported is
the Poisson z-score ``(observed - expected) / sqrt(expected)``.

**Emerging terms.** Names (capitalised words, acronyms, model numbers, and adjacent pairs of
them: "DeepSeek", "Janus Pro") are counted per day. A name emerges on a day when at least
``MIN_OUTLETS`` distinct outlets use it and its entries that day burst above the name's own
trailing baseline by the same Poisson test. Stop words, sentence-initial words of summaries
and the terms of existing topics are ignored; a pair is dropped when one of its words is
already listed.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.models import Burst, EmergingTerm, Topic, TopicDay
from tracker.topics import Matcher

BASELINE_DAYS = 14
RATE_FLOOR = 1.0
ALPHA = 1e-3
MIN_COUNT = 3
MIN_RATIO = 2.0
MIN_OUTLETS = 3
MAX_EMERGING = 8
#: How many times its usual share of the day's entries a name needs to count as emerging.
EMERGING_RATIO = 4.0


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    # 1 - P(X <= observed - 1), summed in log space so large counts do not overflow.
    term = math.exp(-expected)
    below = term
    for k in range(1, observed):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def burst(
    counts: Sequence[int],
    *,
    baseline_days: int = BASELINE_DAYS,
    floor: float = RATE_FLOOR,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
    min_ratio: float = MIN_RATIO,
) -> Burst:
    """Whether the last of ``counts`` (daily volumes, oldest first) bursts above the ones before.

    Only the ``baseline_days`` days before the last count the baseline; fewer days of history
    are averaged as they are (missing days are not invented) and the floor keeps a young
    topic from spiking on a handful of articles.
    """
    if not counts:
        return Burst(0, floor, 0.0, 1.0, False)
    observed = counts[-1]
    history = counts[:-1][-baseline_days:]
    mean = sum(history) / len(history) if history else 0.0
    expected = max(mean, floor)
    p = poisson_tail(observed, expected)
    score = (observed - expected) / math.sqrt(expected)
    spiking = p < alpha and observed >= min_count and observed >= min_ratio * expected
    return Burst(observed, round(expected, 4), round(score, 4), p, spiking)


def timeline_burst(
    timeline: Sequence[TopicDay], day: date, *, baseline_days: int = BASELINE_DAYS
) -> Burst:
    """``burst`` of a topic's entries on ``day`` against the timeline's days before it.

    Only days the timeline covers count as history, so a short timeline is a young topic.
    """
    by_day = {t.day: t.entries for t in timeline if day - timedelta(days=baseline_days) <= t.day}
    history = [by_day[d] for d in sorted(by_day) if d < day]
    return burst([*history, by_day.get(day, 0)], baseline_days=baseline_days)


# --- emerging terms -----------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One entry as emerging-term detection reads it."""

    day: date
    outlet: str
    title: str
    summary: str = ""


_WORD = re.compile(r"[A-Za-z0-9][\w.\-+]*[\w+]|[A-Za-z0-9]")
_SENTENCE_END = re.compile(r"[.!?:]\s+")

#: Words that are capitalised for grammar, not because they name something.
_EXTRA_STOP_TEXT = """
    a about after again ai all also an and are as at be been before best but by can could
    day did do does don for from get got has have here how i if in into is it its just like
    make may more most my new no not now of on one or our out over says said so some still
    than that the their them then there these they this to today top up us vs was way we week
    what when where which who why will with would year you your yes review reviews hands
    deal deals sale price prices update news report reports live latest here's what's it's
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday"""
EXTRA_STOP = frozenset(_EXTRA_STOP_TEXT.split())


def _names(text: str, skip_first: bool) -> list[str]:
    """Name-like tokens of one sentence-or-headline, and adjacent pairs of them."""
    out: list[str] = []
    words = _WORD.findall(text.replace("\u2019", "'"))
    previous: str | None = None
    for i, raw in enumerate(words):
        word = raw.strip(".-")
        name = None
        # A plain lower-case word (most of them) is never a name: settle it before the rest.
        if (
            len(word) >= 2
            and not (word.isalpha() and not word[0].isupper())
            and word.casefold() not in EXTRA_STOP
            and not (skip_first and i == 0)
        ):
            has_digit = any(c.isdigit() for c in word)
            if (word[0].isupper() or has_digit) and any(c.isalpha() for c in word):
                name = word
        if name is not None:
            out.append(name)
            if previous is not None:
                out.append(f"{previous} {name}")
        previous = name
    return out


def names_of(text: Text) -> set[str]:
    """The distinct name-like tokens of an entry: its title, and its summary's sentences.

    A summary sentence's first word is skipped (it is capitalised by grammar); a headline's is
    kept, since headlines often start with the name ("DeepSeek tops the App Store").
    """
    found = set(_names(text.title, skip_first=False))
    for sentence in _SENTENCE_END.split(text.summary):
        found.update(_names(sentence, skip_first=True))
    return found


def _known(topics: Sequence[Topic]) -> list[Matcher]:
    return [Matcher(t) for t in topics]


@dataclass(frozen=True)
class DayNames:
    """What emerging-term detection needs of a day before the one it looks at: how many
    entries the day had, and per name (casefolded) how many times its entries used it."""

    volume: int
    counts: Mapping[str, int]

    def to_json(self) -> str:
        return json.dumps({"v": self.volume, "c": dict(sorted(self.counts.items()))})

    @classmethod
    def from_json(cls, text: str) -> DayNames:
        data = json.loads(text)
        return cls(int(data["v"]), {str(k): int(n) for k, n in data["c"].items()})


def terms_to_json(terms: Sequence[EmergingTerm]) -> str:
    """Emerging terms as JSON, for a cache (``terms_from_json`` reads them back)."""
    return json.dumps([[t.term, t.outlets, t.entries, t.baseline, list(t.examples)] for t in terms])


def terms_from_json(text: str) -> tuple[EmergingTerm, ...]:
    return tuple(
        EmergingTerm(str(t), int(o), int(n), float(b), tuple(str(x) for x in ex))
        for t, o, n, b, ex in json.loads(text)
    )


def day_names(texts: Iterable[Text]) -> DayNames:
    """The names of one day's texts, counted as ``emerging_terms`` counts a trailing day.

    Finding names is most of the cost of emerging terms, and a past day's texts rarely
    change: the caller may keep this and pass it as history (issue 8).
    """
    counts: Counter[str] = Counter()
    volume = 0
    for text in texts:
        volume += 1
        for name in names_of(text):
            counts[name.casefold()] += 1
    return DayNames(volume, dict(counts))


def emerging_terms(
    texts: Iterable[Text],
    day: date,
    topics: Sequence[Topic] = (),
    *,
    baseline_days: int = BASELINE_DAYS,
    min_outlets: int = MIN_OUTLETS,
    min_ratio: float = EMERGING_RATIO,
    limit: int = MAX_EMERGING,
) -> tuple[EmergingTerm, ...]:
    """Names several outlets suddenly use on ``day``, most outlets first.

    ``texts`` should cover ``day`` and the ``baseline_days`` before it (others are ignored).
    Names that an existing topic already matches are left out.
    """
    start = day - timedelta(days=baseline_days)
    by_day: dict[date, list[Text]] = defaultdict(list)
    for text in texts:
        if start <= text.day <= day:
            by_day[text.day].append(text)
    history = {d: day_names(ts) for d, ts in by_day.items() if d < day}
    return emerging_terms_from(
        by_day.get(day, []),
        history,
        day,
        topics,
        baseline_days=baseline_days,
        min_outlets=min_outlets,
        min_ratio=min_ratio,
        limit=limit,
    )


def emerging_terms_from(
    today: Iterable[Text],
    history: Mapping[date, DayNames],
    day: date,
    topics: Sequence[Topic] = (),
    *,
    baseline_days: int = BASELINE_DAYS,
    min_outlets: int = MIN_OUTLETS,
    min_ratio: float = EMERGING_RATIO,
    limit: int = MAX_EMERGING,
) -> tuple[EmergingTerm, ...]:
    """``emerging_terms`` from ``day``'s texts and the trailing days' ``day_names``.

    Days of ``history`` outside the ``baseline_days`` before ``day`` are ignored, and so are
    texts of ``today`` not on ``day``.
    """
    start = day - timedelta(days=baseline_days)
    past = {d: names for d, names in history.items() if start <= d < day}
    past_volume = sum(names.volume for names in past.values())
    volume = 0
    per_day: Counter[str] = Counter()
    outlets: dict[str, set[str]] = defaultdict(set)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for text in sorted(today, key=lambda t: (t.day, t.outlet, t.title)):
        if text.day != day:
            continue
        volume += 1
        for name in names_of(text):
            key = name.casefold()
            per_day[key] += 1
            outlets[key].add(text.outlet or text.title)
            surface[key][name] += 1
            if text.title not in examples[key]:
                examples[key].append(text.title)
    matchers = _known(topics)
    found: list[tuple[float, EmergingTerm]] = []
    for key in sorted(outlets):
        if len(outlets[key]) < min_outlets:
            continue
        term = min(surface[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if any(m.covers(term) for m in matchers):
            continue
        observed = per_day[key]
        earlier = sum(names.counts.get(key, 0) for names in past.values())
        # Expected from the name's share of the trailing days' entries, scaled to today's
        # volume, so a busy news day does not make every common name "emerge".
        expected = max(earlier / past_volume * volume if past_volume else 0.0, RATE_FLOOR)
        if observed < min_ratio * expected or poisson_tail(observed, expected) >= ALPHA:
            continue
        baseline = earlier / baseline_days
        term_ = EmergingTerm(
            term, len(outlets[key]), observed, round(baseline, 4), tuple(examples[key][:3])
        )
        found.append((observed / expected, term_))
    found.sort(key=lambda f: (-f[1].outlets, -f[0], f[1].term.casefold()))
    return tuple(_without_overlaps([f[1] for f in found]))[:limit]


def _without_overlaps(terms: Sequence[EmergingTerm]) -> list[EmergingTerm]:
    """Drop a pair when one of its words is already listed, and a word already in a pair."""
    kept: list[EmergingTerm] = []
    for t in terms:
        words = set(t.term.casefold().split())
        if any(words & set(k.term.casefold().split()) for k in kept):
            continue
        kept.append(t)
    return kept
