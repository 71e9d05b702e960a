"""TF-IDF story clustering: documents in, story assignments out (pure, deterministic, online).

The same development told by several outlets becomes one story. Documents are read once, in
publication order (ties by id), and each joins the most similar *live* story (one whose
latest member is within ``window_days``) when the similarity reaches ``threshold``; otherwise
it starts a story of its own, named after it (``story_id_for``). A story is compared through
its centroid, so the work per document depends on the stories alive around it, never on the
whole corpus (all-pairs similarity chains stories together and grows quadratically; see
docs/clustering.md and ../shared/docs/performance-notes.md).

Similarity is a weighted mean of three TF-IDF views, each a cosine against the story centroid:

    title    lower-cased, lightly stemmed words of the headline, without stop words
    summary  the same for the summary (HTML stripped)
    entity   case-kept names from both: capitalised words, model names (R1, S25, RTX 5090),
             amounts ($500b, 16%) and adjacent pairs of those

A view that is empty on either side (aggregators such as Hacker News carry titles only) is
left out and the weights re-normalised, so a missing summary never drags a score down. The
result is multiplied by ``exp(-gap / decay_days)``, the gap being the time since the story's
latest member.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.models import Assignment, Doc

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp
    from numpy.typing import NDArray
    from sklearn.feature_extraction.text import TfidfVectorizer

# Outlets that link to other outlets' coverage instead of reporting it; matched as a
# case-insensitive substring of the outlet name ("Hacker News: Front Page" is one too).
AGGREGATOR_OUTLETS: frozenset[str] = frozenset(
    {"hacker news", "slashdot", "techmeme", "google news"}
)

VIEWS: tuple[str, ...] = ("title", "summary", "entity")
_SECONDS_PER_DAY = 86400.0
_BLOCK = 256  # documents compared to one snapshot of the live centroids at a time


@dataclass(frozen=True)
class ClusterParams:
    """The knobs of the clustering; the defaults were tuned on two dev sets (docs/clustering.md)."""

    window_days: float = 3.0  # a story stays live this long after its latest member
    threshold: float = 0.175  # join the best live story when the combined similarity >= this
    title_weight: float = 0.3
    summary_weight: float = 0.5  # the summary and the words of the link's slug
    entity_weight: float = 0.2
    decay_days: float = 3.0  # similarity *= exp(-days since the story's latest member / this)
    ngram_max: int = 1  # word n-grams of the title and summary views (2 scored lower)
    # Similarity *= this when every member so far comes from the doc's own outlet: one outlet's
    # series ("Best Internet Providers in <city>", "best X of 2025") share a template, not a
    # story, while a development is usually told by several outlets.
    same_outlet_factor: float = 0.4
    stem: bool = True  # strip plural and verb endings in the title and summary views
    # A story takes no new member more than this after its first one: follow-ups "within
    # about three days" belong to it, later developments are stories of their own. Without
    # it a busy subject (DeepSeek, 27-31 Jan) chains into one story for as long as it is news.
    max_span_days: float = 3.0
    # Service items (deals, puzzle hints, buying guides) are singletons by the labelling
    # guidelines: they never join, or are joined by, another outlet's items; one outlet's
    # repeated or updated item joins when this similar (without the same-outlet factor).
    service_threshold: float = 0.7
    # Each doc's IDF counts the docs published in the idf_days up to it (itself included),
    # never later ones: a doc's vector is then the same whether it is clustered in an hourly
    # run or in a replay of the week, which is what keeps story ids stable (issue 4).
    idf_days: float = 7.0


DEFAULT_PARAMS = ClusterParams()


def is_aggregator_outlet(outlet: str) -> bool:
    """True when the outlet name looks like one of ``AGGREGATOR_OUTLETS``."""
    name = outlet.casefold()
    return any(a in name for a in AGGREGATOR_OUTLETS)


# Service journalism, from the headline: deals and coupons, puzzle hints, buying guides and
# "what's new on" roundups. The labelling guidelines make these singletons (docs/clustering.md).
_SERVICE = re.compile(
    r"\b(?:deals?|coupons?|promo codes?|discounts?|on sale|gift cards?|trade-in"
    r"|\d+% off|\$\d[\d,.]* off|wordle|quordle|crossword|hints|answers"
    r"|expert tested|best .{1,60}\b(?:of|for|in) 20\d\d"
    r"|everything (?:new|leaving|coming) (?:on|to))\b",
    re.IGNORECASE,
)


def is_service(title: str) -> bool:
    """True for a deal, puzzle hint, buying guide or catalogue roundup headline."""
    return _SERVICE.search(title) is not None


def story_id_for(entry_id: str) -> str:
    """The id of a story started by this entry; stable across runs because entry ids are."""
    return "s" + entry_id


# --- text --------------------------------------------------------------------------------

# Hourly runs re-read the window and the IDF background; remembering the tokens of the
# texts seen lately (about a week of a busy day's entries) spares re-tokenising them.
_TOKEN_MEMO = 100_000
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[$£€]?\w+(?:[.\-+]\w+)*%?")
_UNITS = {"bn": "b", "billion": "b", "b": "b", "m": "m", "mn": "m", "million": "m"}
_UNITS |= {"tn": "t", "trillion": "t", "t": "t", "percent": "%"}


def plain_text(text: str) -> str:
    """Text without HTML tags or entities, on one line."""
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    return _SPACE.sub(" ", text).strip()


@functools.cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


_LOWER_WORD = re.compile(r"\w\w+")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")


def _stem(word: str) -> str:
    """A light suffix strip so that seizes/seized/seizing and rules/rule meet."""
    stemmed = _STEMS.get(word)
    if stemmed is None:
        stemmed = _stem_word(word)
        if len(_STEMS) < 500_000:  # bounded: a long-running daemon meets new words forever
            _STEMS[word] = stemmed
    return stemmed


_STEMS: dict[str, str] = {}  # a memo: a word's stem never changes


def _stem_word(word: str) -> str:
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def word_tokens(text: str, stop: frozenset[str], stem: bool = True) -> list[str]:
    """Lower-case words of a text without stop words, lightly stemmed when ``stem``."""
    words = [w for w in _LOWER_WORD.findall(text.replace("\u2019", "'")) if w not in stop]
    return [_stem(w) for w in words] if stem else words


def _entity_word(word: str, stop: frozenset[str]) -> str | None:
    """The entity form of one word, or None when it names nothing."""
    if stop is not _stop_words():
        return _entity_form(word, stop)
    if word in _ENTITIES:
        return _ENTITIES[word]
    entity = _entity_form(word, stop)
    if len(_ENTITIES) < 500_000:  # a memo, bounded for a long-running daemon
        _ENTITIES[word] = entity
    return entity


_ENTITIES: dict[str, str | None] = {}


def _entity_form(word: str, stop: frozenset[str]) -> str | None:
    if _DIGIT.search(word):
        # Model names (R1, S25), amounts ($500, 16%) and long numbers (5090); plain short
        # numbers ("10 ways") say nothing about which story this is.
        if word[0] in "$£€" or word.endswith("%") or _LETTER.search(word):
            return word
        return word if len(word) >= 3 else None
    if not word[0].isupper() or len(word) < 2 or word.casefold() in stop:
        return None
    # NVIDIA and Nvidia are one name; short acronyms (TSMC, AI) keep their case.
    return word.capitalize() if word.isupper() and len(word) > 4 else word


def entity_tokens(text: str, stop: frozenset[str] | None = None) -> list[str]:
    """Case-kept entity tokens of a text, plus the pairs of adjacent ones ("RTX 5090")."""
    stop = _stop_words() if stop is None else stop
    words = _WORD.findall(plain_text(text).replace("\u2019", "'"))
    out: list[str] = []
    previous: str | None = None
    last = len(words) - 1
    memo = _ENTITIES if stop is _stop_words() else {}
    for i, word in enumerate(words):
        if word[0] in "$£€":
            unit = _UNITS.get(words[i + 1].casefold()) if i < last else None
            if unit:
                word = word + unit  # "$500 billion" -> "$500b", like "$500B"
            elif word[-1].isalpha():
                word = word[:-2] + _UNITS.get(word[-2:].casefold(), word[-2:])  # "$500bn"
        entity = memo[word] if word in memo else _entity_word(word, stop)
        if entity is not None:
            out.append(entity)
            if previous is not None:
                out.append(previous + " " + entity)
        previous = entity
    return out


_HEADLINE_WORD = re.compile(r"[^\W\d_][\w'\u2019]*")


def headline_case(title: str) -> str:
    """A Title Case headline with its ordinary capitalised words lower-cased.

    "Trump Administration Begins Immigration Arrests in Chicago" capitalises every word, so
    capitals there say nothing about names; the entity view would count "Begins" and
    "Arrests". When at least three quarters of the longer non-stop words after the first
    are capitalised, words written like "Begins" (capital, then lower case) lose their
    capital; the first word, acronyms, mixed case and model names ("TSMC", "DeepSeek", "R1")
    keep theirs. A sentence-case headline is returned as it is.
    """
    words = _HEADLINE_WORD.findall(title)[1:]
    stop = _stop_words()
    longer = [w for w in words if len(w) > 3 and w.casefold() not in stop]
    if len(longer) < 3 or 4 * sum(w[0].isupper() for w in longer) < 3 * len(longer):
        return title

    def lower(match: re.Match[str]) -> str:
        word = match.group(0)
        if match.start() == first or _DIGIT.search(word) or word[1:] != word[1:].lower():
            return word
        return word.lower()

    first = next(_HEADLINE_WORD.finditer(title)).start()
    return _HEADLINE_WORD.sub(lower, title)


_SLUG_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|cms)$")


@functools.lru_cache(maxsize=_TOKEN_MEMO)
def link_words(url: str) -> str:
    """The words of a link's slug: ``/2025/01/26/trump-deportation-colombia`` gives
    "trump deportation colombia".

    Editors write slugs as a keyword summary of the story, often with names the headline
    leaves out, so they join the summary view. Only path segments of three or more words
    joined by ``-`` or ``_`` count; ids, dates, numbers and section names do not.
    """
    from urllib.parse import urlsplit

    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    words: list[str] = []
    for segment in path.lower().split("/"):
        segment = _SLUG_EXTENSION.sub("", segment)
        parts = re.split(r"[-_]", segment)
        if len(parts) >= 3:
            words += [p for p in parts if len(p) > 1 and p.isalpha()]
    return " ".join(words)


# --- vectors -----------------------------------------------------------------------------


def _fit(vectorizer: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """Sublinear term frequencies (no IDF, no norm); an all-empty view has no columns."""
    import scipy.sparse as sp

    probe = vectorizer.build_analyzer()
    if not any(probe(t) for t in texts):  # TfidfVectorizer refuses an empty vocabulary
        return sp.csr_matrix((len(texts), 0))
    matrix = sp.csr_matrix(vectorizer.fit_transform(texts), dtype=float)
    matrix.sort_indices()  # a canonical layout, whatever order the tokens came in
    return matrix


def _trailing_idf(tf: sp.csr_matrix, days: NDArray[np.float64], span: float) -> sp.csr_matrix:
    """L2-normalised rows weighted by an IDF over the docs of the ``span`` days up to each.

    Rows must be in publication order. Doc j's document frequencies count docs i <= j with
    days[i] >= days[j] - span; smooth IDF as in scikit-learn: ln((1 + n) / (1 + df)) + 1.
    """
    import numpy as np
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    if tf.shape[1] == 0:
        return tf
    out = tf.copy()
    n_rows = tf.shape[0]
    # Doc j's window starts at the first doc published at most ``span`` days before it.
    oldest = np.searchsorted(days, days - span, side="left")
    row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(out.indptr))
    # df of (row j, term t) = the rows in oldest[j]..j having t: count them among all
    # (term, row) keys sorted, in two binary searches per cell, without a loop over rows.
    col = out.indices.astype(np.int64)
    keys = np.sort(col * n_rows + row)
    df = np.searchsorted(keys, col * n_rows + row, side="right") - np.searchsorted(
        keys, col * n_rows + oldest[row], side="left"
    )
    n = (row - oldest[row] + 1).astype(float)
    out.data *= np.log((1.0 + n) / (1.0 + df.astype(float))) + 1.0
    return sp.csr_matrix(normalize(out))


def doc_views(
    docs: Sequence[Doc], params: ClusterParams, background: Sequence[Doc] = ()
) -> list[sp.csr_matrix]:
    """One TF-IDF matrix per view in ``VIEWS``, rows in the order of ``docs``.

    ``docs`` must be in publication order; ``background`` docs (older ones, any order) only
    count towards the trailing IDF.
    """
    return [m for m, _ in _views(docs, params, background)]


def _names(vectorizer: TfidfVectorizer, matrix: sp.csr_matrix) -> list[str]:
    return [str(n) for n in vectorizer.get_feature_names_out()] if matrix.shape[1] else []


def _views(
    docs: Sequence[Doc], params: ClusterParams, background: Sequence[Doc] = ()
) -> list[tuple[sp.csr_matrix, list[str]]]:
    """Each view's TF-IDF matrix (rows of ``docs``) with the term of each column."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    known = {d.id for d in docs}
    extra = sorted((d for d in background if d.id not in known), key=_sort_key)
    everything = sorted([*extra, *docs], key=_sort_key)
    position = {d.id: i for i, d in enumerate(everything)}
    rows = np.array([position[d.id] for d in docs], dtype=np.int64)
    days = np.array([d.published.timestamp() / _SECONDS_PER_DAY for d in everything])
    docs = everything

    def words(text: str) -> tuple[str, ...]:
        return _cached_words(text, params.stem)

    def entities(text: str) -> tuple[str, ...]:
        return _cached_entities(text)

    raw: dict[str, object] = {"use_idf": False, "norm": None}

    def word_view() -> TfidfVectorizer:
        return TfidfVectorizer(
            tokenizer=words,
            token_pattern=None,
            sublinear_tf=True,
            ngram_range=(1, params.ngram_max),
            **raw,
        )

    titles = [plain_text(d.title) for d in docs]
    # An aggregator's summary is its own boilerplate ("Article URL: … Comments URL: …",
    # points, comment counts), not the story: its headline, the linked article's, is what
    # joins it to the story it discusses.
    summaries = ["" if d.aggregator else plain_text(d.summary) for d in docs]
    both = [headline_case(t) + " . " + s for t, s in zip(titles, summaries, strict=True)]
    # The link's slug joins the summary view (after the entity text is taken: slugs are
    # lower case). An aggregator's link is the article it discusses, so its slug counts.
    summaries = [
        (s + " . " + link_words(d.link)) if d.link else s
        for s, d in zip(summaries, docs, strict=True)
    ]
    out = []
    for vectorizer, texts in (
        (word_view(), titles),
        (word_view(), summaries),
        (TfidfVectorizer(analyzer=entities, lowercase=False, sublinear_tf=True, **raw), both),
    ):
        tf = _fit(vectorizer, texts)
        names = _names(vectorizer, tf)
        out.append((_trailing_idf(tf, days, params.idf_days)[rows], names))
    return out


@functools.lru_cache(maxsize=_TOKEN_MEMO)
def _cached_words(text: str, stem: bool) -> tuple[str, ...]:
    return tuple(word_tokens(text, _stop_words(), stem))


@functools.lru_cache(maxsize=_TOKEN_MEMO)
def _cached_entities(text: str) -> tuple[str, ...]:
    return tuple(entity_tokens(text, _stop_words()))


def clear_memos() -> None:
    """Forget remembered tokens, stems and entity forms (benchmarks start cold with it)."""
    _cached_words.cache_clear()
    _cached_entities.cache_clear()
    _STEMS.clear()
    _ENTITIES.clear()


def _surface_forms(titles: list[str], stem: bool) -> dict[str, str]:
    """Each stem's most common spelling in the titles (ties: alphabetical), for display."""
    from collections import Counter

    stop = _stop_words()
    counts: Counter[tuple[str, str]] = Counter()
    for title in titles:
        for word in word_tokens(title, stop, stem=False):
            counts[(_stem(word) if stem else word, word)] += 1
    best: dict[str, tuple[int, str]] = {}
    for (key, word), n in counts.items():
        if key not in best or (-n, word) < (-best[key][0], best[key][1]):
            best[key] = (n, word)
    return {key: word for key, (_, word) in best.items()}


def _dedupe(terms: list[str]) -> tuple[str, ...]:
    """Terms without case-insensitive repeats or words already inside a kept phrase."""
    kept: list[str] = []
    for term in terms:
        folded = term.casefold()
        if any(folded == k.casefold() or folded in k.casefold().split() for k in kept):
            continue
        kept.append(term)
    return tuple(kept)


# --- the online pass ---------------------------------------------------------------------


def _sort_key(doc: Doc) -> tuple[float, str]:
    return (doc.published.timestamp(), doc.id)


class _Pass:
    """State of one online pass: stories, their centroid sums' squared norms, their ages.

    A centroid is kept as the *sum* of its members' unit vectors: cosine(doc, sum / k) equals
    doc . sum / |sum|, and |sum + doc|^2 = |sum|^2 + 2 doc . sum + |doc|^2 updates in O(1)
    once doc . sum is known, which the comparison computed anyway.
    """

    def __init__(
        self, docs: list[Doc], params: ClusterParams, background: Sequence[Doc] = ()
    ) -> None:
        import numpy as np
        import scipy.sparse as sp

        self.params = params
        views = _views(docs, params, background)
        self.views = [m for m, _ in views]
        self.terms = [names for _, names in views]
        n = len(docs)
        self.days = np.array([d.published.timestamp() / _SECONDS_PER_DAY for d in docs])
        # |doc|^2 per view: 1.0, or 0.0 where the doc has nothing in that view.
        self.doc_sq = np.array([np.asarray(v.multiply(v).sum(axis=1)).ravel() for v in self.views])
        self.weights = np.array([params.title_weight, params.summary_weight, params.entity_weight])
        self.story_of = np.full(n, -1, dtype=np.int64)
        self.last = np.full(n, -math.inf)
        self.first = np.full(n, math.inf)
        titles = [plain_text(d.title) for d in docs]
        self.service = np.array([is_service(t) for t in titles])
        self.story_service = np.zeros(n, dtype=bool)
        self.sq = np.zeros((len(self.views), n))  # |sum|^2 per view and story
        # Outlets as codes; a story's code is its members' common outlet, or -1 once mixed.
        outlets = sorted({d.outlet for d in docs if d.outlet})
        code = {o: i for i, o in enumerate(outlets)}
        self.doc_outlet = np.array([code.get(d.outlet, -2) for d in docs], dtype=np.int64)
        self.story_outlet = np.full(n, -1, dtype=np.int64)
        self.names: list[str] = []
        # Per story, the title and entity columns its members have: "why grouped".
        self.vocab: list[tuple[set[int], set[int], set[int]]] = []
        self.surface = _surface_forms(titles, params.stem)
        self.index: dict[str, int] = {}
        # The centroid sums of the stories live at the last snapshot, rows in ``live`` order,
        # covering the docs before ``synced``.
        self.live = np.zeros(0, dtype=np.int64)
        self.sums = [sp.csr_matrix((0, v.shape[1])) for v in self.views]
        self.synced = 0

    def row(self, v: int, j: int) -> tuple[list[int], list[float]]:
        """Doc ``j``'s columns and weights in view ``v`` (no scipy row slicing: per doc, fast)."""
        m = self.views[v]
        a, b = m.indptr[j], m.indptr[j + 1]
        return m.indices[a:b].tolist(), m.data[a:b].tolist()

    def new_story(self, name: str, j: int) -> int:
        story = len(self.names)
        self.index[name] = story
        self.names.append(name)
        self.story_outlet[story] = self.doc_outlet[j]
        self.story_service[story] = self.service[j]
        return story

    def snapshot(self, start: int, stop: int) -> tuple[NDArray[np.int64], list[sp.csr_matrix]]:
        """Live stories at ``start`` and the dot products of docs start..stop with their sums.

        The sums carry over from the previous snapshot, plus the docs assigned since; only a
        story new to the live set (started, or revived by a context doc) is summed from all
        its members, so a long-running story costs nothing extra per block.
        """
        import numpy as np
        import scipy.sparse as sp

        n_stories = len(self.names)
        live = np.flatnonzero(self.last[:n_stories] >= self.days[start] - self.params.window_days)
        old = np.full(n_stories + 1, -1, dtype=np.int64)  # the extra slot is story -1
        old[self.live] = np.arange(len(self.live))
        new = np.full(n_stories + 1, -1, dtype=np.int64)
        new[live] = np.arange(len(live))
        kept = old[live] >= 0
        fresh = np.zeros(n_stories + 1, dtype=bool)
        fresh[live[~kept]] = True
        story = self.story_of[:start]
        recent = np.arange(start) >= self.synced
        rows = np.flatnonzero((recent & (new[story] >= 0)) | fresh[story])
        carry = sp.csr_matrix(
            (np.ones(int(kept.sum())), (np.flatnonzero(kept), old[live[kept]])),
            shape=(len(live), len(self.live)),
        )
        members = sp.csr_matrix(
            (np.ones(len(rows)), (new[story[rows]], np.arange(len(rows)))),
            shape=(len(live), len(rows)),
        )
        self.sums = [
            sp.csr_matrix(carry @ s + members @ v[rows])
            for s, v in zip(self.sums, self.views, strict=True)
        ]
        self.live, self.synced = live, start
        pairs = zip(self.sums, self.views, strict=True)
        return live, [sp.csr_matrix(v[start:stop] @ s.T) for s, v in pairs]

    def candidates(
        self,
        j: int,
        start: int,
        live: NDArray[np.int64],
        dots: list[sp.csr_matrix],
        inner: list[sp.csr_matrix],
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Stories sharing a term with doc ``j`` (sorted ids) and the dot products per view."""
        import numpy as np

        ids: list[NDArray[np.int64]] = []
        values: list[NDArray[np.float64]] = []
        sizes: list[int] = []
        r = j - start
        for outer, local in zip(dots, inner, strict=True):
            # Stories of the snapshot, then those of the earlier docs of this block.
            a, b = outer.indptr[r], outer.indptr[r + 1]
            c, d = local.indptr[r], local.indptr[r + 1]
            ids += [live[outer.indices[a:b]], self.story_of[start + local.indices[c:d]]]
            values += [outer.data[a:b], local.data[c:d]]
            sizes.append(b - a + d - c)
        unique, inverse = np.unique(np.concatenate(ids), return_inverse=True)
        n = len(unique)
        # bincount adds in input order, as np.add.at does, at a fraction of its cost.
        slot = np.repeat(np.arange(len(sizes)) * n, sizes) + inverse
        per_view = np.bincount(slot, np.concatenate(values), minlength=len(sizes) * n).astype(
            np.float64, copy=False
        )
        return unique, per_view.reshape(len(sizes), n)

    def best(
        self, j: int, stories: NDArray[np.int64], dot: NDArray[np.float64]
    ) -> tuple[int, float]:
        """The most similar live story for doc ``j`` and its similarity, or (-1, 0.0)."""
        import numpy as np

        if len(stories) == 0:
            return -1, 0.0
        gap = self.days[j] - self.last[stories]
        sq = self.sq[:, stories]
        present = (sq > 0) & (self.doc_sq[:, j : j + 1] > 0)
        cosine = np.divide(dot, np.sqrt(sq), out=np.zeros_like(dot), where=present)
        weight = self.weights[:, None] * present
        total = weight.sum(axis=0)
        combined = np.divide(
            (weight * cosine).sum(axis=0), total, out=np.zeros_like(total), where=total > 0
        )
        combined *= np.exp(-np.maximum(gap, 0.0) / self.params.decay_days)
        own_outlet = (self.story_outlet[stories] == self.doc_outlet[j]) & (self.doc_outlet[j] >= 0)
        service = self.story_service[stories] | self.service[j]
        combined[own_outlet & ~service] *= self.params.same_outlet_factor
        needed = np.where(service, self.params.service_threshold, self.params.threshold)
        span = self.days[j] - self.first[stories]
        closed = (gap > self.params.window_days) | (span > self.params.max_span_days)
        # Service items (deals, hints, guides) of different outlets are never one story;
        # one outlet's updated or repeated item is, when nearly the same text.
        closed |= service & ~own_outlet
        combined[closed | (combined < needed)] = -1.0
        k = int(np.argmax(combined))  # first maximum: the oldest story wins a tie
        if combined[k] < 0:
            return -1, 0.0
        return int(stories[k]), float(combined[k])

    def exact(self, j: int, story: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Doc ``j``'s dot products with one story's sums, computed from its members."""
        import numpy as np

        rows = np.flatnonzero(self.story_of == story)
        dot = [float((v[j] @ v[rows].sum(axis=0).T).sum()) for v in self.views]
        return np.array([story]), np.array(dot).reshape(-1, 1)

    def shared_with(self, j: int, story: int, limit: int = 6) -> tuple[str, ...]:
        """The title words and names doc ``j`` shares with the story's members so far.

        Ranked by their weight in the doc (title and entity views), ties by term; title words
        are shown as stems' most common spelling. Costs one pass over the doc's terms.
        """
        weight: dict[str, float] = {}
        for v in (0, 2):  # title and entity views: the words a reader sees
            cols, values = self.row(v, j)
            seen = self.vocab[story][v] if story < len(self.vocab) else set()
            for col, value in zip(cols, values, strict=True):
                if col in seen:
                    term = self.terms[v][col]
                    key = self.surface.get(term, term) if v == 0 else term
                    weight[key] = max(weight.get(key, 0.0), float(value))
        ranked = sorted(weight.items(), key=lambda kv: (-kv[0].count(" "), -round(kv[1], 9), kv[0]))
        kept = list(_dedupe([t for t, _ in ranked]))
        kept.sort(key=lambda t: (-round(weight[t], 9), t))
        return tuple(kept[:limit])

    def join(
        self, j: int, story: int, stories: NDArray[np.int64], dot: NDArray[np.float64]
    ) -> None:
        import numpy as np

        while len(self.vocab) <= story:
            self.vocab.append((set(), set(), set()))
        for v in (0, 2):
            self.vocab[story][v].update(self.row(v, j)[0])

        k = np.searchsorted(stories, story)
        own = dot[:, k] if k < len(stories) and stories[k] == story else 0.0
        self.sq[:, story] += 2.0 * own + self.doc_sq[:, j]
        self.story_of[j] = story
        if self.story_outlet[story] != self.doc_outlet[j]:
            self.story_outlet[story] = -1
        self.last[story] = max(self.last[story], self.days[j])
        self.first[story] = min(self.first[story], self.days[j])


def _run(
    docs: list[Doc], fixed: dict[int, str], params: ClusterParams, background: Sequence[Doc]
) -> list[Assignment]:
    """The online pass over docs in publication order; ``fixed`` maps a row to its story id."""
    import scipy.sparse as sp

    state = _Pass(docs, params, background)
    out: list[Assignment] = []
    start = 0
    while start < len(docs):
        stop = min(start + _BLOCK, len(docs))
        live, dots = state.snapshot(start, stop)
        # Docs of this block against earlier docs of the block, which the snapshot lacks.
        inner = [sp.csr_matrix(sp.tril(v[start:stop] @ v[start:stop].T, k=-1)) for v in state.views]
        snapshot_from = len(state.names)
        in_snapshot = set(live.tolist())
        j = start
        while j < stop:
            stories, dot = state.candidates(j, start, live, dots, inner)
            name = fixed.get(j)
            if name is None:
                story, similarity = state.best(j, stories, dot)
                if story < 0:
                    story, similarity = state.new_story(story_id_for(docs[j].id), j), 1.0
                terms = state.shared_with(j, story) if similarity < 1.0 else ()
                out.append(Assignment(docs[j].id, state.names[story], round(similarity, 4), terms))
            else:
                story = state.index.get(name, -1)
                if story < 0:
                    story = state.new_story(name, j)
                elif story < snapshot_from and story not in in_snapshot:
                    # A context doc revived a story the snapshot left out (its own earlier
                    # run kept it longer): join it exactly, then take a fresh snapshot.
                    stories, dot = state.exact(j, story)
                    stop = j + 1
            state.join(j, story, stories, dot)
            j += 1
        start = stop
    return out


def assign(
    new: Sequence[Doc],
    context: Sequence[tuple[Doc, str]] = (),
    params: ClusterParams = DEFAULT_PARAMS,
    background: Sequence[Doc] = (),
) -> list[Assignment]:
    """Assign new docs to stories, in the order of ``new``.

    ``background`` holds older docs that only count towards the trailing IDF (the
    ``idf_days`` before the earliest context doc); give them for ids that do not depend on
    how the stream was cut into runs.

    ``context`` holds docs already clustered (with their story ids), usually those of the
    window before the new docs; they keep their stories and only seed the live ones. The
    TF-IDF vocabulary and weights are fitted on context and new docs together. A new doc
    that joins no story starts ``story_id_for(doc.id)``. Raises ValueError when an id occurs
    twice (a doc is either context or new).
    """
    docs = [d for d, _ in context] + list(new)
    if len({d.id for d in docs}) != len(docs):
        raise ValueError("duplicate document ids")
    fixed_by_id = {d.id: s for d, s in context}
    order = sorted(docs, key=_sort_key)
    fixed = {j: fixed_by_id[d.id] for j, d in enumerate(order) if d.id in fixed_by_id}
    by_id = {a.entry_id: a for a in _run(order, fixed, params, background)} if order else {}
    return [by_id[d.id] for d in new]


def cluster(docs: Sequence[Doc], params: ClusterParams = DEFAULT_PARAMS) -> list[Assignment]:
    """Cluster docs from scratch; one Assignment per doc, in the order given."""
    return assign(docs, (), params)


def representative(docs: Sequence[Doc]) -> str:
    """The id of the doc whose title best stands for the story.

    The doc nearest the centroid of the story's title TF-IDF vectors, among non-aggregator docs
    when there is one; ties (and titles with no words) go to the earliest. Raises ValueError
    on no docs.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not docs:
        raise ValueError("a story needs at least one doc")
    pool = [d for d in docs if not d.aggregator] or list(docs)
    if len(pool) == 1:  # most stories: nothing to choose, no vectorizer to fit
        return pool[0].id
    pool.sort(key=_sort_key)
    titles = [plain_text(d.title) for d in docs]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    if not any(vectorizer.build_analyzer()(t) for t in titles):
        return pool[0].id
    vectorizer.fit(titles)  # the whole story decides which words matter
    centroid = np.asarray(vectorizer.transform(titles).mean(axis=0)).ravel()
    scores = vectorizer.transform([plain_text(d.title) for d in pool]) @ centroid
    # Rounded so that float noise cannot beat the earliest-first tie-break.
    best = max(range(len(pool)), key=lambda i: (round(float(scores[i]), 9), -i))
    return pool[best].id


def shared_terms(docs: Sequence[Doc], limit: int = 8) -> tuple[str, ...]:
    """The names and title words that at least two of a story's docs share ("why grouped").

    Ranked by how many docs carry them, then phrases before single words, then alphabetically;
    names keep their case, words are lower case. A one-doc story shares nothing.
    """
    from collections import Counter

    stop = _stop_words()
    count: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for d in sorted(docs, key=_sort_key):
        terms = entity_tokens(d.title + " . " + d.summary, stop)
        terms += word_tokens(plain_text(d.title).lower(), stop, stem=False)
        for term in terms:
            shown.setdefault(term.casefold(), term)
        count.update({t.casefold() for t in terms})
    common = [k for k, n in count.items() if n >= 2]
    # Phrases first, so that "Galaxy S25" stands for "galaxy" and "S25" too.
    common.sort(key=lambda k: (-k.count(" "), -count[k], k))
    kept = list(_dedupe([shown[k] for k in common]))
    kept.sort(key=lambda t: (-count[t.casefold()], -t.count(" "), t.casefold()))
    return tuple(kept[:limit])


def short_summary(text: str, limit: int = 280) -> str:
    """Plain text of at most ``limit`` characters, cut at a word and marked with an ellipsis."""
    text = plain_text(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-\u2013\u2014")
    return cut + "\u2026"
