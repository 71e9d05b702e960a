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

import contextlib
import functools
import html
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from tracker.models import Assignment, Doc

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp
    from numpy.typing import NDArray

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
_WORD = re.compile(r"[$£€]?\w+(?:[.\-+]\w+)*%?")
_UNITS = {"bn": "b", "billion": "b", "b": "b", "m": "m", "mn": "m", "million": "m"}
_UNITS |= {"tn": "t", "trillion": "t", "t": "t", "percent": "%"}


def plain_text(text: str) -> str:
    """Text without HTML tags or entities, on one line."""
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())  # str.split's whitespace is re's \s: the same result


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
    if not stem:
        return words
    stems = _STEMS  # the memo read inline: this runs for every word of every text
    return [stems[w] if w in stems else _stem(w) for w in words]


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
_UNSEEN = "\x00"  # not in the memo yet (None is a remembered answer: not a name)


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
    text = plain_text(text).replace("\u2019", "'")
    words = _WORD.findall(text)
    out: list[str] = []
    previous: str | None = None
    memo = _ENTITIES if stop is _stop_words() else {}
    if "$" not in text and "\u00a3" not in text and "\u20ac" not in text:
        # No amounts: the same loop without their look-ahead (this runs for every word).
        get, append = memo.get, out.append
        for word in words:
            entity = get(word, _UNSEEN)
            if entity is _UNSEEN:
                entity = _entity_word(word, stop)
            if entity is not None:
                append(entity)
                if previous is not None:
                    append(previous + " " + entity)
            previous = entity
        return out
    last = len(words) - 1
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


_HEADLINE_SPLIT = re.compile(r"([^\W\d_][\w'\u2019]*)")
_ASCII_CAPITAL = re.compile(r"[A-Z]")


def headline_case(title: str) -> str:
    """A Title Case headline with its ordinary capitalised words lower-cased.

    "Trump Administration Begins Immigration Arrests in Chicago" capitalises every word, so
    capitals there say nothing about names; the entity view would count "Begins" and
    "Arrests". When at least three quarters of the longer non-stop words after the first
    are capitalised, words written like "Begins" (capital, then lower case) lose their
    capital; the first word, acronyms, mixed case and model names ("TSMC", "DeepSeek", "R1")
    keep theirs. A sentence-case headline is returned as it is.
    """
    if title.isascii() and len(_ASCII_CAPITAL.findall(title)) < 3:
        return title  # three capitalised words after the first need three capitals
    # Words and what lies between them: text, word, text, word, ..., text.
    parts = _HEADLINE_SPLIT.split(title)
    words = parts[3::2]  # every word after the first
    # At least three capitalised longer words are needed, so fewer capitals settle it.
    if sum(w[0].isupper() for w in words) < 3:
        return title
    stop = _stop_words()
    longer = [w for w in words if len(w) > 3 and w.casefold() not in stop]
    if len(longer) < 3 or 4 * sum(w[0].isupper() for w in longer) < 3 * len(longer):
        return title
    for i in range(3, len(parts), 2):
        word = parts[i]
        rest = word[1:]
        if rest == rest.lower() and not _DIGIT.search(word):
            parts[i] = word.lower()
    return "".join(parts)


_SLUG_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|cms)$")


@functools.lru_cache(maxsize=_TOKEN_MEMO)
def link_words(url: str) -> str:
    """The words of a link's slug: ``/2025/01/26/trump-deportation-colombia`` gives
    "trump deportation colombia".

    Editors write slugs as a keyword summary of the story, often with names the headline
    leaves out, so they join the summary view. Only path segments of three or more words
    joined by ``-`` or ``_`` count; ids, dates, numbers and section names do not.
    """
    path = _http_path(url)
    if path is None:
        from urllib.parse import urlsplit

        try:
            path = urlsplit(url).path
        except ValueError:
            return ""
    words: list[str] = []
    for segment in path.lower().split("/"):
        if "-" not in segment and "_" not in segment:
            continue  # one word, an id or a date: not a slug
        if "." in segment:
            segment = _SLUG_EXTENSION.sub("", segment)
        parts = segment.replace("_", "-").split("-")
        if len(parts) >= 3:
            words += [p for p in parts if len(p) > 1 and p.isalpha()]
    return " ".join(words)


def _http_path(url: str) -> str | None:
    """``urlsplit(url).path`` of a plain http(s) URL without urllib's cost, else None.

    None (work it out with urllib) for other schemes, URLs with tabs or line breaks (urllib
    drops them) and bracketed hosts (urllib checks them). tests/test_cluster.py fuzzes this
    against urlsplit.
    """
    head = url[:8].lower()
    if head.startswith("https://"):
        rest = url[8:]
    elif head.startswith("http://"):
        rest = url[7:]
    else:
        return None
    if "\t" in url or "\r" in url or "\n" in url:
        return None
    end = len(rest)
    for mark in "/?#":
        at = rest.find(mark)
        if 0 <= at < end:
            end = at
    if "[" in rest[:end] or "]" in rest[:end]:
        return None
    if rest[end : end + 1] != "/":
        return ""
    path = rest[end:]
    for mark in "?#":
        at = path.find(mark)
        if at >= 0:
            path = path[:at]
    return path


# --- vectors -----------------------------------------------------------------------------


def _ngrams(tokens: tuple[str, ...], ngram_max: int) -> tuple[str, ...]:
    """The tokens, then their word n-grams up to ``ngram_max`` (scikit-learn's order)."""
    if ngram_max <= 1:
        return tokens
    grams = list(tokens)
    for n in range(2, min(ngram_max, len(tokens)) + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return tuple(grams)


def _tf(token_lists: Sequence[tuple[str, ...]]) -> tuple[sp.csr_matrix, list[str]]:
    """Sublinear term frequencies 1 + ln(count) (no IDF, no norm) and each column's term.

    Columns are the terms in sorted order and every row's indices are sorted, the layout
    scikit-learn's vectorizers give; a view with no tokens at all has no columns.
    """
    from collections import defaultdict
    from itertools import chain

    import numpy as np
    import scipy.sparse as sp

    n_rows = len(token_lists)
    # One pass numbers the terms in the order first seen; then by their sorted order.
    seen: defaultdict[str, int] = defaultdict()
    seen.default_factory = seen.__len__
    first = np.fromiter(map(seen.__getitem__, chain.from_iterable(token_lists)), dtype=np.int64)
    if not seen:
        return sp.csr_matrix((n_rows, 0)), []
    names = sorted(seen)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.fromiter(map(seen.__getitem__, names), np.int64, len(names))] = np.arange(len(names))
    ids = rank[first]
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=n_rows)
    doc = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    keys, counts = np.unique(doc * len(names) + ids, return_counts=True)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // len(names), minlength=n_rows), out=indptr[1:])
    data = np.log(counts.astype(np.float64))
    data += 1.0
    matrix = sp.csr_matrix((data, keys % len(names), indptr), shape=(n_rows, len(names)))
    return matrix, names


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
    # (term, row) keys sorted, without a loop over rows. A cell's key is unique, so the
    # keys up to it end at its own sorted position; one binary search finds where its
    # window starts (the searches come in sorted order, which numpy walks quickly).
    # The cells come by row, so a stable sort by term puts them in (term, row) order: a
    # radix sort when the terms fit in 16 bits (several times faster than sorting keys).
    if tf.shape[1] <= 1 << 16:
        order = np.argsort(out.indices.astype(np.uint16), kind="stable")
    else:
        order = np.argsort(out.indices, kind="stable")
    col = out.indices.astype(np.int64)
    col *= n_rows
    keys = (col + row)[order]
    start = np.searchsorted(keys, (col + oldest[row])[order], side="left")
    del col, keys  # a replay's views have millions of cells: keep few arrays of them alive
    df = np.empty(len(order), dtype=np.int64)
    df[order] = np.arange(1, len(order) + 1, dtype=np.int64) - start
    del order, start
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


def _views(
    docs: Sequence[Doc], params: ClusterParams, background: Sequence[Doc] = ()
) -> list[tuple[sp.csr_matrix, list[str]]]:
    """Each view's TF-IDF matrix (rows of ``docs``) with the term of each column."""
    return _prepare(docs, params, background)[0]


def _prepare(
    docs: Sequence[Doc],
    params: ClusterParams,
    background: Sequence[Doc] = (),
    tokens: dict[str, DocTokens] | None = None,
) -> tuple[list[tuple[sp.csr_matrix, list[str]]], list[DocTokens]]:
    """Each view's TF-IDF matrix and column terms, and each doc's tokens (rows of ``docs``).

    ``tokens`` (by doc id) spares tokenising docs seen before: a record whose key still
    matches its doc is used as it is; every other doc's record is made and put there.
    """
    import numpy as np

    known = {d.id for d in docs}
    extra = sorted((d for d in background if d.id not in known), key=_sort_key)
    everything = sorted([*extra, *docs], key=_sort_key)
    position = {d.id: i for i, d in enumerate(everything)}
    rows = np.array([position[d.id] for d in docs], dtype=np.int64)
    days = np.array([d.published.timestamp() / _SECONDS_PER_DAY for d in everything])
    if tokens is None:
        records = _doc_tokens(everything, params)
    else:
        keys = [token_key(d, params.stem) for d in everything]
        todo = [
            (d, key)
            for d, key in zip(everything, keys, strict=True)
            if (d.id not in tokens or tokens[d.id].key != key)
        ]
        for (d, key), record in zip(todo, _doc_tokens([d for d, _ in todo], params), strict=True):
            tokens[d.id] = record._replace(key=key)
        records = [tokens[d.id] for d in everything]
    grams = params.ngram_max
    identity = bool(np.array_equal(rows, np.arange(len(everything))))
    out = []
    for token_lists in (
        [_ngrams(r.title, grams) for r in records],
        [_ngrams(r.summary, grams) for r in records],
        [r.entity for r in records],
    ):
        tf, names = _tf(token_lists)
        weighted = _trailing_idf(tf, days, params.idf_days)
        del tf
        out.append((weighted if identity else weighted[rows], names))
    return out, [records[i] for i in rows]


class DocTokens(NamedTuple):
    """What clustering reads of one doc's text; kept between runs by the app (issue 8).

    ``key`` is ``token_key`` of the doc it was made from: the texts, the stemming setting
    and a digest of the tokenising code, so a record made from other text or by other code
    is never used.
    """

    key: str
    title: tuple[str, ...]  # the title view's words
    summary: tuple[str, ...]  # the summary view's words (the link's slug included)
    entity: tuple[str, ...]  # the entity view's tokens
    words: tuple[str, ...]  # the title's words as written, for showing stems
    service: bool  # is_service(title)

    def dump(self) -> tuple[str, str, str, str, str, bool]:
        """Plain columns for storage: key, then the token lists joined by U+001F."""
        join = "\x1f".join
        return (
            self.key,
            join(self.title),
            join(self.summary),
            join(self.entity),
            join(self.words),
            self.service,
        )

    @classmethod
    def load(cls, row: Sequence[object]) -> DocTokens:
        """The record ``dump`` wrote."""

        def split(text: object) -> tuple[str, ...]:
            return tuple(str(text).split("\x1f")) if text else ()

        key, title, summary, entity, words, service = row
        return cls(
            str(key), split(title), split(summary), split(entity), split(words), bool(service)
        )


def token_key(doc: Doc, stem: bool) -> str:
    """A digest of what a doc's tokens depend on: its texts, ``stem`` and the tokeniser."""
    import hashlib

    text = "\x1f".join(
        (_token_version(), str(stem), doc.title, doc.summary, doc.link, str(doc.aggregator))
    )
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _doc_tokens(docs: Sequence[Doc], params: ClusterParams) -> list[DocTokens]:
    """Each doc's tokens (keys left empty): the text preparation of the three views."""
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
    from sys import intern

    # Stems and single names come from memos, one string per term; phrases and spellings
    # are interned too, since a replay holds every doc's tokens at once.
    stem, stop = params.stem, _stop_words()
    stems = _STEMS

    def title_words(title: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The title view's tokens and the title's spellings, from one pass when ASCII."""
        text = title.replace("\u2019", "'")
        if not text.isascii():
            spellings = tuple(word_tokens(title, stop, stem=False))
            return _cached_words(title.lower(), stem), spellings
        # ASCII: lower-casing a found word gives what finding words in the lower-cased
        # title gives, so one findall serves both.
        found = _LOWER_WORD.findall(text)
        words = [w for w in map(str.lower, found) if w not in stop]
        if stem:
            words = [stems[w] if w in stems else _stem(w) for w in words]
        return tuple(words), tuple(w for w in found if w not in stop)

    out = []
    for t, s, b in zip(titles, summaries, both, strict=True):
        words, spellings = title_words(t)
        out.append(
            DocTokens(
                "",
                words,
                _cached_words(s.lower(), stem),
                tuple(map(intern, _cached_entities(b))),
                tuple(map(intern, spellings)),
                is_service(t),
            )
        )
    return out


@functools.cache
def _token_version() -> str:
    """A digest of the code and constants ``_doc_tokens`` runs, followed call by call.

    Tokens kept between runs are made again after any change to how text becomes tokens
    (a new stop word, pattern or rule), so that a stored record never disagrees with what
    this code would make of the same doc.
    """
    import hashlib
    import sys
    import types

    parts: list[str] = [sys.version, repr(sorted(_stop_words()))]
    seen: set[int] = set()

    def stable(value: object) -> str:
        if isinstance(value, (set, frozenset)):
            return "{" + ",".join(sorted(stable(v) for v in value)) + "}"
        if isinstance(value, dict):
            return repr(sorted((stable(k), stable(v)) for k, v in value.items()))
        if isinstance(value, tuple):
            return "(" + ",".join(stable(v) for v in value) + ")"
        return repr(value)

    def visit(code: types.CodeType) -> None:
        if id(code) in seen:
            return
        seen.add(id(code))
        parts.append(code.co_code.hex())
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                visit(const)
            else:
                parts.append(stable(const))
        for name in code.co_names:
            value = globals().get(name)
            value = getattr(value, "__wrapped__", value)
            if isinstance(value, types.FunctionType) and value.__module__ == __name__:
                visit(value.__code__)
            elif isinstance(value, re.Pattern):
                parts.append(f"{name}={value.pattern!r}/{value.flags}")
            elif value is _STEMS or value is _ENTITIES:
                continue  # memos: what they hold depends on what was tokenised before
            elif isinstance(value, (str, int, float, tuple, frozenset, set, dict)):
                parts.append(f"{name}={stable(value)}")

    visit(_doc_tokens.__code__)
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


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


def _surface_forms(titles: Sequence[tuple[str, ...]], stem: bool) -> dict[str, str]:
    """Each stem's most common spelling in the titles' words (ties: alphabetical), for display."""
    from collections import Counter
    from itertools import chain

    best: dict[str, tuple[int, str]] = {}
    for word, n in Counter(chain.from_iterable(titles)).items():
        key = _stem(word) if stem else word
        if key not in best or (-n, word) < (-best[key][0], best[key][1]):
            best[key] = (n, word)
    return {key: word for key, (_, word) in best.items()}


def _dedupe(terms: list[str]) -> tuple[str, ...]:
    """Terms without case-insensitive repeats or words already inside a kept phrase."""
    kept: list[str] = []
    folded_kept: set[str] = set()  # the kept terms, case-folded, and each of their words
    for term in terms:
        folded = term.casefold()
        if folded in folded_kept:
            continue
        kept.append(term)
        folded_kept.add(folded)
        folded_kept.update(folded.split())
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
        self,
        docs: list[Doc],
        params: ClusterParams,
        background: Sequence[Doc] = (),
        tokens: dict[str, DocTokens] | None = None,
    ) -> None:
        import numpy as np
        import scipy.sparse as sp

        self.params = params
        views, records = _prepare(docs, params, background, tokens)
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
        self.service = np.array([r.service for r in records], dtype=bool)
        self.story_service = np.zeros(n, dtype=bool)
        self.sq = np.zeros((len(self.views), n))  # |sum|^2 per view and story
        # Outlets as codes; a story's code is its members' common outlet, or -1 once mixed.
        outlets = sorted({d.outlet for d in docs if d.outlet})
        code = {o: i for i, o in enumerate(outlets)}
        self.doc_outlet = np.array([code.get(d.outlet, -2) for d in docs], dtype=np.int64)
        self.story_outlet = np.full(n, -1, dtype=np.int64)
        self.names: list[str] = []
        # Per story, its members, and the title and entity columns of the first ``n`` of
        # them (made when a doc joins the story: "why grouped").
        self.members: dict[int, list[int]] = {}
        self.vocab: dict[int, tuple[int, set[int], set[int]]] = {}
        self.surface = _surface_forms([r.words for r in records], params.stem)
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

    def scores(
        self,
        js: NDArray[np.int64],
        dot: NDArray[np.float64],
        sq: NDArray[np.float64],
        last: NDArray[np.float64],
        first: NDArray[np.float64],
        outlet: NDArray[np.int64],
        story_service: NDArray[np.bool_],
    ) -> NDArray[np.float64]:
        """The combined similarity of each (doc, story) pair, or -1.0 where it may not join.

        Pair k is doc ``js[k]`` against a story with per-view dot products ``dot[:, k]``,
        squared sum norms ``sq[:, k]``, latest and first member times, outlet code and
        service flag (story arguments broadcast). Every operation is elementwise, so a pair
        scores the same whether it is computed alone or with a whole block of pairs.
        """
        import numpy as np

        gap = self.days[js] - last
        present = (sq > 0) & (self.doc_sq[:, js] > 0)
        cosine = np.divide(dot, np.sqrt(sq), out=np.zeros_like(dot), where=present)
        weight = self.weights[:, None] * present
        total = weight.sum(axis=0)
        combined = np.divide(
            (weight * cosine).sum(axis=0), total, out=np.zeros_like(total), where=total > 0
        )
        combined *= np.exp(-np.maximum(gap, 0.0) / self.params.decay_days)
        doc_outlet = self.doc_outlet[js]
        own_outlet = (outlet == doc_outlet) & (doc_outlet >= 0)
        service = story_service | self.service[js]
        combined[own_outlet & ~service] *= self.params.same_outlet_factor
        needed = np.where(service, self.params.service_threshold, self.params.threshold)
        span = self.days[js] - first
        closed = (gap > self.params.window_days) | (span > self.params.max_span_days)
        # Service items (deals, hints, guides) of different outlets are never one story;
        # one outlet's updated or repeated item is, when nearly the same text.
        closed |= service & ~own_outlet
        combined[closed | (combined < needed)] = -1.0
        return combined  # type: ignore[no-any-return]

    def exact(self, j: int, story: int) -> NDArray[np.float64]:
        """Doc ``j``'s dot products with one story's sums, computed from its members."""
        import numpy as np

        rows = np.flatnonzero(self.story_of == story)
        return np.array([float((v[j] @ v[rows].sum(axis=0).T).sum()) for v in self.views])

    def shared_with(self, j: int, story: int, limit: int = 6) -> tuple[str, ...]:
        """The title words and names doc ``j`` shares with the story's members so far.

        Ranked by their weight in the doc (title and entity views), ties by term; title words
        are shown as stems' most common spelling. Costs one pass over the doc's terms.
        """
        members = self.members.get(story, [])
        done, title, entity = self.vocab.get(story, (0, set(), set()))
        for m in members[done:]:
            title.update(self.row(0, m)[0])
            entity.update(self.row(2, m)[0])
        self.vocab[story] = (len(members), title, entity)
        weight: dict[str, float] = {}
        for v, seen in ((0, title), (2, entity)):  # the words a reader sees
            cols, values = self.row(v, j)
            for col, value in zip(cols, values, strict=True):
                if col in seen:
                    term = self.terms[v][col]
                    key = self.surface.get(term, term) if v == 0 else term
                    weight[key] = max(weight.get(key, 0.0), float(value))
        ranked = sorted(weight.items(), key=lambda kv: (-kv[0].count(" "), -round(kv[1], 9), kv[0]))
        kept = list(_dedupe([t for t, _ in ranked]))
        kept.sort(key=lambda t: (-round(weight[t], 9), t))
        return tuple(kept[:limit])

    def seed(self, names: list[str]) -> None:
        """The first docs join the named stories at once: context docs before any new one.

        What a pass over them would leave, without comparing anything: members, ages,
        outlets, "why grouped" vocabularies and the squared norms of the stories' sums
        (computed from the sums, so they may differ from a pass's running total in the last
        bits). Story numbers follow first appearance, as in a pass.
        """
        import numpy as np
        import scipy.sparse as sp

        n = len(names)
        for j, name in enumerate(names):
            if name not in self.index:
                self.new_story(name, j)
        story = np.array([self.index[name] for name in names], dtype=np.int64)
        self.story_of[:n] = story
        np.maximum.at(self.last, story, self.days[:n])
        np.minimum.at(self.first, story, self.days[:n])
        mixed = self.doc_outlet[:n] != self.story_outlet[story]
        self.story_outlet[story[mixed]] = -1
        n_stories = len(self.names)
        members = sp.csr_matrix((np.ones(n), (story, np.arange(n))), shape=(n_stories, n))
        for j, s in enumerate(story.tolist()):
            self.members.setdefault(s, []).append(j)
        for v, view in enumerate(self.views):
            sums = sp.csr_matrix(members @ view[:n])
            self.sq[v, :n_stories] = np.asarray(sums.multiply(sums).sum(axis=1)).ravel()

    def join(self, j: int, story: int, own: NDArray[np.float64]) -> None:
        """Doc ``j`` joins ``story``; ``own`` is its dot product with the story's sums."""
        self.members.setdefault(story, []).append(j)
        self.sq[:, story] += 2.0 * own + self.doc_sq[:, j]
        self.story_of[j] = story
        if self.story_outlet[story] != self.doc_outlet[j]:
            self.story_outlet[story] = -1
        self.last[story] = max(self.last[story], self.days[j])
        self.first[story] = min(self.first[story], self.days[j])


class _Block:
    """The docs start..stop of one pass against one snapshot, scored a block at a time.

    A pair (doc, story) whose story no doc of the block has joined yet ("clean") scores as
    at the snapshot: all of them are scored at once when the block starts. A story some doc
    of the block joined ("dirty") gets a slot; its dot products with the block's later docs
    (the snapshot's, then each member's, in the order they joined, as summed one by one)
    are kept in ``acc`` and its scores in ``score``, recomputed when a doc joins it. A story
    started by a doc of the block scores what the block start computed for that doc alone.
    Each pair's score comes from the same elementwise ``_Pass.scores`` as a one-doc call,
    so the result is the plain definition's, whatever the block size.
    """

    def __init__(
        self,
        state: _Pass,
        start: int,
        stop: int,
        live: NDArray[np.int64],
        dots: list[sp.csr_matrix],
    ) -> None:
        import numpy as np
        import scipy.sparse as sp

        self.state, self.start = state, start
        size = stop - start
        n_views = len(state.views)
        # The snapshot's dot products, the views aligned: pair k is (doc row, live column).
        self.rows, self.cols, self.values = _aligned(dots, len(live))
        self.stories = live[self.cols]
        self.indptr = _indptr(self.rows, size)
        self.clean = state.scores(
            start + self.rows,
            self.values,
            state.sq[:, self.stories],
            state.last[self.stories],
            state.first[self.stories],
            state.story_outlet[self.stories],
            state.story_service[self.stories],
        )
        # The same pairs by story, for a story's later docs when it turns dirty.
        self.by_story = np.lexsort((self.rows, self.cols))
        self.story_ptr = _indptr(self.cols[self.by_story], len(live))
        self.live = live
        # Docs of the block against earlier docs of it, by the earlier doc (column).
        inner = [sp.csr_matrix(sp.tril(v[start:stop] @ v[start:stop].T, k=-1)) for v in state.views]
        earlier, later, self.inner_values = _aligned([m.T.tocsr() for m in inner], size)
        self.inner_rows = later  # the later doc of each pair, grouped by the earlier one
        self.inner_ptr = _indptr(earlier, size)
        # Each pair scored against the story its earlier doc would start alone.
        first = start + earlier
        self.alone = state.scores(
            start + later,
            self.inner_values,
            state.doc_sq[:, first],
            state.days[first],
            state.days[first],
            state.doc_outlet[first],
            state.service[first],
        )
        self.slot: dict[int, int] = {}
        self.slot_story = np.zeros(size, dtype=np.int64)
        self.acc = np.zeros((n_views, size, size))  # view, doc row, slot
        self.score = np.full((size, size), -1.0)  # doc row, slot
        self.dirty = np.zeros(len(state.names) + size + 1, dtype=bool)

    def best(self, j: int) -> tuple[int, float]:
        """The most similar live story for doc ``j`` and its similarity, or (-1, 0.0)."""
        import numpy as np

        r = j - self.start
        story, value = -1, -1.0
        a, b = self.indptr[r], self.indptr[r + 1]
        if b > a:
            clean = self.clean[a:b]
            if self.slot:
                clean = np.where(self.dirty[self.stories[a:b]], -1.0, clean)
            k = int(np.argmax(clean))  # first maximum: the oldest story wins a tie
            if clean[k] >= 0:
                story, value = int(self.stories[a + k]), float(clean[k])
        if self.slot:
            row = self.score[r, : len(self.slot)]
            top = float(row.max())
            if top >= 0 and top >= value:
                other = int(self.slot_story[np.flatnonzero(row == top)].min())
                if top > value or other < story:
                    story, value = other, top
        return (story, value) if story >= 0 else (-1, 0.0)

    def own(self, j: int, story: int) -> NDArray[np.float64]:
        """Doc ``j``'s dot products with the sums of ``story`` before it joins."""
        import numpy as np

        r = j - self.start
        k = self.slot.get(story)
        if k is not None:
            return self.acc[:, r, k].copy()
        a, b = self.indptr[r], self.indptr[r + 1]
        i = a + int(np.searchsorted(self.stories[a:b], story))
        if i < b and self.stories[i] == story:
            return self.values[:, i]
        return np.zeros(len(self.state.views))

    def joined(self, j: int, story: int, started: bool) -> None:
        """Doc ``j`` joined ``story`` (``started``: as its first member): rescore the story."""
        import numpy as np

        r = j - self.start
        a, b = self.inner_ptr[r], self.inner_ptr[r + 1]
        later = self.inner_rows[a:b]
        k = self.slot.get(story)
        if k is None:
            k = self.slot[story] = len(self.slot)
            self.slot_story[k] = story
            self.dirty[story] = True
            if started:
                self.acc[:, later, k] = self.inner_values[:, a:b]
                self.score[later, k] = self.alone[a:b]
                return
            c = int(np.searchsorted(self.live, story))
            if c < len(self.live) and self.live[c] == story:
                pairs = self.by_story[self.story_ptr[c] : self.story_ptr[c + 1]]
                pairs = pairs[self.rows[pairs] > r]
                self.acc[:, self.rows[pairs], k] = self.values[:, pairs]
        self.acc[:, later, k] += self.inner_values[:, a:b]
        rows = r + 1 + np.flatnonzero(self.acc[:, r + 1 :, k].any(axis=0))
        if len(rows) == 0:  # no later doc of the block shares a term with the story
            return
        state = self.state
        self.score[rows, k] = state.scores(
            self.start + rows,
            self.acc[:, rows, k],
            state.sq[:, story : story + 1],
            state.last[story],
            state.first[story],
            state.story_outlet[story],
            state.story_service[story],
        )


def _aligned(
    matrices: list[sp.csr_matrix], n_cols: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The cells present in any of same-shaped CSR matrices, by row then column, with each
    matrix's value there (0.0 where it has none): rows, columns, values (one row each)."""
    import numpy as np

    width = max(n_cols, 1)
    keys, data = [], []
    for m in matrices:
        m.sort_indices()  # then each matrix's keys are sorted, and the merge below is cheap
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
        keys.append(rows * width + m.indices)
        data.append(m.data)
    every = np.concatenate(keys)
    order = np.argsort(every, kind="stable")
    ordered = every[order]
    fresh = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    cells = ordered[fresh]
    values = np.zeros((len(matrices), len(cells)))
    view = np.repeat(np.arange(len(matrices)), [len(k) for k in keys])
    values[view[order], np.cumsum(fresh) - 1] = np.concatenate(data)[order]
    return cells // width, cells % width, values


def _indptr(sorted_rows: NDArray[np.int64], n_rows: int) -> NDArray[np.int64]:
    import numpy as np

    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_rows, minlength=n_rows), out=indptr[1:])
    return indptr


def _run(
    docs: list[Doc],
    fixed: dict[int, str],
    params: ClusterParams,
    background: Sequence[Doc],
    tokens: dict[str, DocTokens] | None = None,
) -> list[Assignment]:
    """The online pass over docs in publication order; ``fixed`` maps a row to its story id."""
    state = _Pass(docs, params, background, tokens)
    out: list[Assignment] = []
    start = 0
    while start in fixed:  # context docs before the first new one: no need to compare them
        start += 1
    if start:
        state.seed([fixed[j] for j in range(start)])
    while start < len(docs):
        stop = min(start + _BLOCK, len(docs))
        live, dots = state.snapshot(start, stop)
        block = _Block(state, start, stop, live, dots)
        snapshot_from = len(state.names)
        in_snapshot = set(live.tolist())
        j = start
        while j < stop:
            name = fixed.get(j)
            started = False
            if name is None:
                story, similarity = block.best(j)
                if story < 0:
                    story, similarity = state.new_story(story_id_for(docs[j].id), j), 1.0
                    started = True
                terms = state.shared_with(j, story) if similarity < 1.0 else ()
                out.append(Assignment(docs[j].id, state.names[story], round(similarity, 4), terms))
            else:
                story = state.index.get(name, -1)
                if story < 0:
                    story, started = state.new_story(name, j), True
                elif story < snapshot_from and story not in in_snapshot:
                    # A context doc revived a story the snapshot left out (its own earlier
                    # run kept it longer): join it exactly, then take a fresh snapshot.
                    state.join(j, story, state.exact(j, story))
                    start = j + 1
                    break
            state.join(j, story, block.own(j, story))
            block.joined(j, story, started)
            j += 1
        else:
            start = stop
    return out


def assign(
    new: Sequence[Doc],
    context: Sequence[tuple[Doc, str]] = (),
    params: ClusterParams = DEFAULT_PARAMS,
    background: Sequence[Doc] = (),
    tokens: dict[str, DocTokens] | None = None,
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

    ``tokens`` maps doc ids to ``DocTokens`` kept from earlier runs: a doc whose record
    still matches (``token_key``) is not tokenised again, and every doc tokenised is added
    to it, for the caller to keep. The result is the same with or without it.
    """
    docs = [d for d, _ in context] + list(new)
    if len({d.id for d in docs}) != len(docs):
        raise ValueError("duplicate document ids")
    fixed_by_id = {d.id: s for d, s in context}
    order = sorted(docs, key=_sort_key)
    fixed = {j: fixed_by_id[d.id] for j, d in enumerate(order) if d.id in fixed_by_id}
    with no_cycle_collection():
        done = _run(order, fixed, params, background, tokens) if order else []
    by_id = {a.entry_id: a for a in done}
    return [by_id[d.id] for d in new]


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a pass runs.

    A pass makes hundreds of thousands of token tuples and keeps them, and the collector
    would walk them all again and again (about 5% of a 100,000-entry replay); the pass makes
    no reference cycles, and plain reference counting still frees everything it drops.
    """
    import gc

    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def cluster(docs: Sequence[Doc], params: ClusterParams = DEFAULT_PARAMS) -> list[Assignment]:
    """Cluster docs from scratch; one Assignment per doc, in the order given."""
    return assign(docs, (), params)


def representative(docs: Sequence[Doc]) -> str:
    """The id of the doc whose title best stands for the story.

    The doc nearest the centroid of the story's title TF-IDF vectors, among non-aggregator docs
    when there is one; ties (and titles with no words) go to the earliest. Raises ValueError
    on no docs.

    The vectors are scikit-learn's ``TfidfVectorizer(stop_words="english", sublinear_tf=True)``
    fitted on the story's titles, computed here with the same operations in the same order
    (the vectorizer's checks cost more than the arithmetic on a story's few titles, and a
    run refreshes every story it touched); tests/test_cluster_tokens.py compares the two.
    """
    if not docs:
        raise ValueError("a story needs at least one doc")
    pool = [d for d in docs if not d.aggregator] or list(docs)
    if len(pool) == 1:  # most stories: nothing to choose, no vectorizer to fit
        return pool[0].id
    pool.sort(key=_sort_key)
    stop = _stop_words()
    titles = [
        [w for w in _SKLEARN_TOKEN.findall(plain_text(d.title).lower()) if w not in stop]
        for d in docs
    ]
    if not any(titles):
        return pool[0].id
    scores = _title_scores(titles, _positions(docs, pool))
    # Rounded so that float noise cannot beat the earliest-first tie-break.
    best = max(range(len(pool)), key=lambda i: (round(scores[i], 9), -i))
    return pool[best].id


_SKLEARN_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


def _positions(docs: Sequence[Doc], pool: Sequence[Doc]) -> list[int]:
    """Where each of ``pool`` (objects taken from ``docs``) stands in ``docs``."""
    where = {id(d): i for i, d in enumerate(docs)}
    return [where[id(d)] for d in pool]


def _title_scores(titles: Sequence[Sequence[str]], scored: Sequence[int]) -> list[float]:
    """The dot product of each title of ``scored`` (positions) with the titles' centroid.

    What ``TfidfVectorizer(sublinear_tf=True)`` fitted on the token lists gives, step by
    step in the same floating-point operations and order: vocabulary in sorted order,
    smooth IDF, 1 + ln(count) times IDF, each row divided by its L2 norm (squares summed in
    column order), the centroid as scipy's ``mean(axis=0)`` (each value times 1/n, summed
    row by row) and each score as its matrix-vector product (summed in column order).
    """
    import numpy as np

    vocabulary = {t: i for i, t in enumerate(sorted({t for ts in titles for t in ts}))}
    rows = []
    for tokens in titles:
        counts: dict[int, int] = {}
        for t in tokens:
            col = vocabulary[t]
            counts[col] = counts.get(col, 0) + 1
        rows.append(sorted(counts.items()))
    present = [0] * len(vocabulary)
    for row in rows:
        for col, _ in row:
            present[col] += 1
    df = np.array(present, dtype=np.float64)
    df += 1.0
    idf = np.full_like(df, fill_value=len(titles) + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    weights = idf.tolist()
    tf = np.array([n for row in rows for _, n in row], dtype=np.float64)
    np.log(tf, tf)
    tf += 1.0
    tfs = iter(tf.tolist())
    vectors: list[list[tuple[int, float]]] = []
    for row in rows:
        vector = [(col, next(tfs) * weights[col]) for col, _ in row]
        total = 0.0
        for _, value in vector:
            total += value * value
        if total != 0.0:
            norm = math.sqrt(total)
            vector = [(col, value / norm) for col, value in vector]
        vectors.append(vector)
    share = 1.0 / len(titles)
    centroid = [0.0] * len(vocabulary)
    for vector in vectors:
        for col, value in vector:
            centroid[col] += value * share
    scores = []
    for i in scored:
        score = 0.0
        for col, value in vectors[i]:
            score += value * centroid[col]
        scores.append(score)
    return scores


def shared_terms(docs: Sequence[Doc], limit: int = 8) -> tuple[str, ...]:
    """The names and title words that at least two of a story's docs share ("why grouped").

    Ranked by how many docs carry them, then phrases before single words, then alphabetically;
    names keep their case, words are lower case. A one-doc story shares nothing.
    """
    from collections import Counter

    if len(docs) < 2:
        return ()  # each doc counts a term once, and a term needs two docs
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
