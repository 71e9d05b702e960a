"""Write the rendered static site to disk, each page atomically and only when its bytes changed.

Layout, every internal link relative so that the site also works from file://::

    index.html              the latest digest (root ".")
    archive.html            every day, newest first
    topics.html             every topic
    atom.xml                the digests as an Atom feed
    feeds.opml              the followed feeds, for any feed reader
    feeds.html              feed health: every feed's state, last success, next fetch
    search.html             search in the browser: search.js over search-index.js (no server)
    search/YYYY-MM.js       the search index of the stories first seen that month; search-index.js
                            lists the months
    days/YYYY-MM-DD.html    one page per digest (root "..")
    topics/<slug>.html      a topic's timeline and stories, and topics/<slug>.atom
    stories/<id>.html       a story's every entry
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tracker.errors import TrackerError
from tracker.models import Digest, Feed, FeedState, Member, Story, Topic, TopicPage
from tracker.render import Renderer, day_path, file_name, story_path, topic_path

if TYPE_CHECKING:
    from tracker.store import Store

#: Story pages are rendered and written this many at a time, so memory stays flat.
STORY_BATCH = 500


@dataclass(frozen=True)
class SiteReport:
    """Which pages (paths relative to the site root) were written and which were left alone."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]

    def __add__(self, other: SiteReport) -> SiteReport:
        return SiteReport(self.written + other.written, self.unchanged + other.unchanged)


def write_atomic(path: Path, data: bytes, temp_dir: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file and ``os.replace``.

    A reader (a web server, a browser, a mail client) sees the old file or the new one, never a
    half-written one. Parent folders are created. The temp file is made in ``temp_dir`` (on
    the same file system) or else beside ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent if temp_dir is None else temp_dir
    # The writer's pid leads the name: what a killed writer left is known as such.
    prefix = f".{os.getpid()}.{path.name}."
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    except FileNotFoundError:
        if temp_dir is None:
            raise
        temp_dir.mkdir(exist_ok=True)  # the first page of a build makes it
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; pages are meant to be served
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


#: Where pages are written before they are renamed into place: one folder, so that what a
#: killed write leaves behind is found without walking the site (``clear_temp_files``).
TEMP_DIR = ".tracker-tmp"
#: A temp file older than this belongs to no write still going on.
_TEMP_STALE_SECONDS = 60.0


def clear_temp_files(out_dir: Path, now: float | None = None) -> int:
    """Delete what killed writes left in ``out_dir``'s temp folder; return how many.

    A temp file is left over when the process that wrote it is gone (its pid leads the
    name) or, whoever wrote it, when it is a minute old (a page is written in milliseconds);
    any other is left to the build that may still be writing it (another process writing
    the same folder).
    """
    folder = out_dir / TEMP_DIR
    if not folder.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for entry in os.scandir(folder):
        with contextlib.suppress(FileNotFoundError):
            if not entry.is_file():
                continue
            young = now - entry.stat().st_mtime <= _TEMP_STALE_SECONDS
            if young and _writer_alive(entry.name):
                continue
            os.unlink(entry.path)
            removed += 1
    return removed


def _writer_alive(name: str) -> bool:
    """Whether the process named at the head of a temp file's name (".PID.page...") runs."""
    pid = name[1:].partition(".")[0]
    if not pid.isdigit():
        return True  # not ours to judge: left to the age rule
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def write_pages(out_dir: Path, pages: Mapping[str, str]) -> SiteReport:
    """Write each ``relpath -> text`` under ``out_dir`` (UTF-8) unless the file already holds it."""
    temp_dir = out_dir / TEMP_DIR
    written: list[str] = []
    unchanged: list[str] = []
    for rel in sorted(pages):
        target = _target(out_dir, rel)
        data = pages[rel].encode("utf-8")
        if _holds(target, data):
            unchanged.append(rel)
            continue
        try:
            write_atomic(target, data, temp_dir)
        except OSError as e:
            raise TrackerError(f"cannot write page: {target}") from e
        written.append(rel)
    if written:
        with contextlib.suppress(OSError):
            temp_dir.rmdir()  # gone when empty: nothing of it in the published site
    return SiteReport(written=tuple(written), unchanged=tuple(unchanged))


def build_site(
    out_dir: Path,
    renderer: Renderer,
    *,
    digests: Sequence[Digest],
    topic_pages: Sequence[TopicPage],
    stories: Iterable[Story],
    topics: Sequence[Topic],
    feeds: Sequence[Feed] = (),
    feed_states: Sequence[FeedState] | None = None,
) -> SiteReport:
    """Render and write the whole site; pages whose bytes did not change are not touched.

    Each day's previous/next links are set from its neighbours in ``digests``, so they always
    point at pages that exist. Every story a digest or topic page links to gets a page, and so
    does every configured topic. Pages are written leaves first (stories, then topics, days,
    and the index last), so a reader following a new link finds its target.
    """
    # feeds.html (issue 3) is written when the caller knows the feeds' states; pages link to
    # it only then, so a site built without it has no broken link.
    renderer.env.globals["feeds_page"] = feed_states is not None
    clear_temp_files(out_dir)
    days = _linked(digests)
    pages_by_slug = _topic_pages(topic_pages, topics)
    known = {slug: page.topic for slug, page in pages_by_slug.items()}
    linked = [s for d in days for s in d.stories] + [s for p in topic_pages for s in p.stories]

    index: list[tuple[float, str, dict[str, object]]] = []
    unique = _unique_stories(stories, linked)
    report = _write_stories(out_dir, renderer, unique, known, index)
    report += write_pages(out_dir, _topic_files(renderer, pages_by_slug, known))
    report += write_pages(out_dir, dict(_day_files(renderer, days)))
    report += write_pages(out_dir, _search_files(renderer, index))
    report += write_pages(out_dir, {"feeds.opml": renderer.feeds_opml(feeds)})
    if feed_states is not None:
        report += write_pages(out_dir, {"feeds.html": renderer.feeds_page(feed_states, root=".")})
    report += write_pages(out_dir, _front(renderer, days))
    return report


def _write_stories(
    out_dir: Path,
    renderer: Renderer,
    stories: Iterable[Story],
    topics: Mapping[str, Topic],
    index: list[tuple[float, str, dict[str, object]]],
) -> SiteReport:
    """Story pages, batch by batch; each story's search row is appended to ``index``."""
    report = SiteReport((), ())
    for batch in _batches(stories, STORY_BATCH):
        pages = {story_path(s.id): renderer.story_page(s, root="..", topics=topics) for s in batch}
        report += write_pages(out_dir, pages)
        index.extend(
            (-s.first_seen.timestamp(), s.id, renderer.search_row(s, topics)) for s in batch
        )
    return report


def _search_files(
    renderer: Renderer, index: list[tuple[float, str, dict[str, object]]]
) -> dict[str, str]:
    """The search page, its script, and the index split by month (issue 8): a part per month
    of first appearance, each newest first, and ``search-index.js`` naming the parts."""
    months: dict[str, list[str]] = {}
    for _, _, row in sorted(index, key=lambda item: item[:2]):
        months.setdefault(str(row["d"])[:7], []).append(renderer.search_row_json(row))
    files = {search_path(m): renderer.search_part_js(m, rows) for m, rows in months.items()}
    files["search-index.js"] = renderer.search_months_js([(m, len(r)) for m, r in months.items()])
    files["search.js"] = renderer.search_script()
    files["search.html"] = renderer.search_page(root=".")
    return files


def search_path(month: str) -> str:
    """Where the search index of one month (``YYYY-MM``) is written."""
    return f"search/{month}.js"


def _topic_files(
    renderer: Renderer, pages: Mapping[str, TopicPage], topics: Mapping[str, Topic]
) -> dict[str, str]:
    files = {"topics.html": renderer.topics_index(list(pages.values()), root=".")}
    for slug, page in pages.items():
        files[topic_path(slug)] = renderer.topic_page(page, root="..", topics=topics)
        files[topic_path(slug, "atom")] = renderer.topic_atom(page)
    return files


def _day_files(renderer: Renderer, days: Sequence[Digest]) -> Iterator[tuple[str, str]]:
    for d in days:
        yield day_path(d.day), renderer.digest_page(d, root="..")


def _front(renderer: Renderer, days: Sequence[Digest]) -> dict[str, str]:
    """index.html (the latest day, or the empty archive before the first digest) and friends."""
    index = (
        renderer.digest_page(days[-1], root=".") if days else renderer.archive_page([], root=".")
    )
    return {
        "archive.html": renderer.archive_page(days, root="."),
        "atom.xml": renderer.digests_atom(days),
        "index.html": index,
    }


def _linked(digests: Sequence[Digest]) -> list[Digest]:
    """The digests by day, one per day (the last given wins), each linked to its neighbours."""
    by_day = {d.day: d for d in digests}
    ordered = [by_day[day] for day in sorted(by_day)]
    return [
        replace(
            d,
            previous_day=ordered[i - 1].day if i > 0 else None,
            next_day=ordered[i + 1].day if i + 1 < len(ordered) else None,
        )
        for i, d in enumerate(ordered)
    ]


def _topic_pages(pages: Sequence[TopicPage], topics: Sequence[Topic]) -> dict[str, TopicPage]:
    # A configured topic with nothing yet still gets a page: story cards link to it.
    by_slug = {p.topic.slug: p for p in pages}
    for topic in topics:
        by_slug.setdefault(topic.slug, TopicPage(topic=topic, timeline=(), stories=()))
    return {slug: by_slug[slug] for slug in sorted(by_slug)}


def _unique_stories(first: Iterable[Story], then: Iterable[Story]) -> Iterator[Story]:
    """Each story id once: the caller's stories first (newest data), then the linked ones."""
    seen: set[str] = set()
    for source in (first, then):
        for story in source:
            if story.id not in seen:
                seen.add(story.id)
                yield story


def _batches(stories: Iterable[Story], size: int) -> Iterator[list[Story]]:
    batch: list[Story] = []
    for story in stories:
        batch.append(story)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _target(out_dir: Path, rel: str) -> Path:
    """``out_dir / rel``, refusing paths that would land outside ``out_dir``."""
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\\" in rel:
        raise ValueError(f"page path must stay inside the site: {rel!r}")
    return out_dir.joinpath(*parts)


def _holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` already holds exactly ``data`` (size first, to skip most reads)."""
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


# --- incremental build (issue 8) -------------------------------------------------------------

#: The modules whose code shapes pages: a change to any of them rebuilds every page.
_SOURCES = ("app", "digest", "models", "render", "site", "topics", "trends")


@dataclass(frozen=True)
class SiteSource:
    """What an incremental build reads besides the database, given by the caller (App).

    ``digest(day)`` and ``topic_page(topic)`` compute one page's model; ``day_inputs(day)``
    describes what a day's page depends on besides its stories (when it was generated, the
    failing feeds), and ``refresh(digest)`` sets those on a recorded digest; ``window`` is
    how many days of stories a digest looks back over (a story changed on day X changes the
    digests of X to X + window - 1); ``settings`` is whatever else all pages depend on (the
    configuration).
    """

    days: Sequence[date]
    digest: Callable[[date], Digest]
    day_inputs: Callable[[date], str]
    refresh: Callable[[Digest], Digest]
    topic_page: Callable[[Topic], TopicPage]
    last_day: date
    window: int
    settings: str


def build_site_incremental(
    out_dir: Path,
    renderer: Renderer,
    store: Store,
    source: SiteSource,
    *,
    topics: Sequence[Topic],
    feeds: Sequence[Feed] = (),
    feed_states: Sequence[FeedState] | None = None,
) -> SiteReport:
    """The pages ``build_site`` would write, rendering only those whose inputs changed.

    Each page's fingerprint (a hash of what it is built from) is recorded in the database per
    site folder; a page whose fingerprint is unchanged and whose file exists is not rendered.
    Story pages are rendered in batches from the database, so memory stays flat. The bytes are
    those of a full build. The records are written in one transaction: a build that stops half
    way records nothing, and the next one renders again what it had not finished.
    """
    clear_temp_files(out_dir)
    with store.transaction():
        return _build_incremental(
            out_dir, renderer, store, source, topics=topics, feeds=feeds, feed_states=feed_states
        )


def _build_incremental(
    out_dir: Path,
    renderer: Renderer,
    store: Store,
    source: SiteSource,
    *,
    topics: Sequence[Topic],
    feeds: Sequence[Feed],
    feed_states: Sequence[FeedState] | None,
) -> SiteReport:
    renderer.env.globals["feeds_page"] = feed_states is not None
    site = _hash(str(out_dir.resolve()))[:16]
    base = _global_key(renderer, source.settings, topics, feed_states is not None)
    known = {t.slug: t for t in sorted(topics, key=lambda t: t.slug)}
    seq = store.story_change_seq()

    # Stories: which changed since the last build. Read from the change log when this folder
    # was built before with the same program and settings and nobody touched its story pages
    # since (the folder's modification time); else every story is checked against its record
    # and its file.
    state = _SiteState.parse(store.site_state(site))
    same_base = store.site_records(site, "site").get("", ("", ""))[1] == base
    day_records = store.site_records(site, "day")
    stories_dir = out_dir / "stories"
    logged = (
        same_base
        and bool(day_records)
        and state.seq is not None
        and state.stories_mtime == _mtime(stories_dir)
    )
    scan = _scan_changes(store, site, base, renderer, stories_dir, state, logged)
    changed, fps, first_seen, removed = scan.changed, scan.fps, scan.first_seen, scan.removed

    # Days: a changed story changes the digests of the window after each of its days.
    days = list(source.days)
    if removed or not day_records or not same_base:
        dirty = set(days)
    else:
        touched = {
            datetime.fromisoformat(hour + ":00:00+00:00").astimezone(renderer.tz).date()
            for hour in store.member_times(changed)
        }
        dirty = {
            d for d in days if any(d - timedelta(days=n) in touched for n in range(source.window))
        }
    forget = [day_path(d) for d in sorted(dirty) if day_path(d) in day_records] + removed
    store.drop_site_records(site, forget)

    report = SiteReport((), ())
    for start in range(0, len(changed), STORY_BATCH):
        batch = store.stories(changed[start : start + STORY_BATCH])
        pages = {story_path(s.id): renderer.story_page(s, root="..", topics=known) for s in batch}
        report += write_pages(out_dir, pages)
        rows = [
            (
                story_path(s.id),
                "story",
                s.id,
                fps[s.id],
                first_seen[s.id],
                renderer.search_row_json(renderer.search_row(s, known)),
            )
            for s in batch
        ]
        store.save_site_records(site, rows)
    # Every story page is recorded now (a new story is a changed one): the rest are unchanged.
    fresh = {story_path(i) for i in changed}
    report += SiteReport((), tuple(p for p in store.site_paths(site, "stories/") if p not in fresh))

    def fingerprint_of(story_ids: Sequence[str]) -> list[str]:
        """The stories' fingerprints: fresh when just computed, else as recorded."""
        missing = [story_path(i) for i in story_ids if i not in fps]
        recorded = store.site_records_of(site, missing)
        return [fps[i] if i in fps else recorded.get(story_path(i), ("",))[0] for i in story_ids]

    report += _incremental_topics(
        out_dir, renderer, store, source, site, base, fingerprint_of, topics
    )
    digests = _incremental_days(
        out_dir, renderer, store, source, site, base, days, dirty, day_records
    )
    report += digests[1]
    months = scan.months | _months_of(renderer, [first_seen[i] for i in changed])
    report += _incremental_search(out_dir, renderer, store, site, months)
    report += write_pages(
        out_dir,
        {"search.js": renderer.search_script(), "search.html": renderer.search_page(root=".")},
    )
    report += write_pages(out_dir, {"feeds.opml": renderer.feeds_opml(feeds)})
    if feed_states is not None:
        report += write_pages(out_dir, {"feeds.html": renderer.feeds_page(feed_states, root=".")})
    report += write_pages(out_dir, _front(renderer, digests[0]))
    state = _SiteState(seq, _mtime(stories_dir))
    store.save_site_records(site, [("", "site", "", base, 0.0, state.dump())])
    # The change log is kept only as far back as the folder built longest ago has read it.
    store.set_meta(f"site_seq:{site}", str(seq))
    store.forget_story_changes(min(store.site_change_seqs(), default=seq))
    return report


@dataclass(frozen=True)
class _SiteState:
    """What a site folder's own record keeps: the last story change its build read, and the
    modification time of its stories folder after that build."""

    seq: int | None = None
    stories_mtime: int | None = None

    @classmethod
    def parse(cls, data: str | None) -> _SiteState:
        try:
            seq, mtime = (data or "").split(" ")
            return cls(int(seq), int(mtime))
        except ValueError:
            return cls()

    def dump(self) -> str:
        return f"{self.seq} {self.stories_mtime}"


@dataclass(frozen=True)
class _Changes:
    changed: list[str]  # the stories whose page is rendered again, by id
    fps: dict[str, str]  # story id -> fingerprint, of the stories looked at
    first_seen: dict[str, float]  # story id -> first seen (timestamp), of the same
    removed: list[str]  # paths of story pages recorded whose story is gone
    months: set[str]  # months of the search index to write again, besides the changed ones


def _scan_changes(
    store: Store,
    site: str,
    base: str,
    renderer: Renderer,
    stories_dir: Path,
    state: _SiteState,
    logged: bool,
) -> _Changes:
    """Which story pages to render again: from the change log, or by checking every story."""
    fps: dict[str, str] = {}
    first_seen: dict[str, float] = {}
    if logged:
        assert state.seq is not None
        candidates = store.stories_changed_since(state.seq)
        for row in store.story_fingerprint_rows_of(candidates):
            fps[row[0]] = _hash(base, repr(row))
            first_seen[row[0]] = datetime.fromisoformat(row[1]).timestamp()
        was = store.site_records_of(site, [story_path(i) for i in fps])
        changed = [i for i, fp in fps.items() if was.get(story_path(i), ("",))[0] != fp]
        # A story that moved to another month leaves the old month's index part.
        old = [was[story_path(i)][1] for i in changed if story_path(i) in was]
        return _Changes(changed, fps, first_seen, [], _months_of(renderer, old))
    for row in store.story_fingerprint_rows():
        fps[row[0]] = _hash(base, repr(row))
        first_seen[row[0]] = datetime.fromisoformat(row[1]).timestamp()
    recorded = {key: fp for key, fp in store.site_records(site, "story").values()}
    files = _files(stories_dir)
    changed = [
        i for i, fp in fps.items() if recorded.get(i) != fp or file_name(i) + ".html" not in files
    ]
    removed = [story_path(i) for i in recorded if i not in fps]
    months = _months_of(renderer, first_seen.values())
    months |= {month for month, _ in store.site_records(site, "search").values()}
    return _Changes(changed, fps, first_seen, removed, months)


def _months_of(renderer: Renderer, stamps: Iterable[float]) -> set[str]:
    """The local months (``YYYY-MM``) of these timestamps."""
    return {datetime.fromtimestamp(t, renderer.tz).date().isoformat()[:7] for t in set(stamps)}


def _mtime(folder: Path) -> int | None:
    try:
        return folder.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _incremental_search(
    out_dir: Path, renderer: Renderer, store: Store, site: str, months: set[str]
) -> SiteReport:
    """The search index parts of the given months from the recorded rows, and the list of
    parts. A part whose file is missing is written again too; a month left empty is removed."""
    recorded = store.site_records(site, "search")  # path -> (month, story count)
    months = set(months) | {
        m for path, (m, _) in recorded.items() if not (out_dir / path).is_file()
    }
    report = SiteReport((), ())
    rows: list[tuple[str, str, str, str, float, None]] = []
    gone: list[str] = []
    for month in sorted(months):
        path = search_path(month)
        year, number = int(month[:4]), int(month[5:])
        start = datetime(year, number, 1, tzinfo=renderer.tz)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=renderer.tz)
        data = [
            str(row)
            for _, row in store.site_data_between(site, "story", start.timestamp(), end.timestamp())
        ]
        if not data:
            gone.append(path)
            with contextlib.suppress(FileNotFoundError):
                (out_dir / path).unlink()
            continue
        report += write_pages(out_dir, {path: renderer.search_part_js(month, data)})
        rows.append((path, "search", month, str(len(data)), 0.0, None))
    store.drop_site_records(site, gone)
    store.save_site_records(site, rows)
    redone = {search_path(m) for m in months}
    report += SiteReport((), tuple(sorted(p for p in recorded if p not in redone)))
    parts = sorted(store.site_records(site, "search").values(), reverse=True)
    index = renderer.search_months_js([(m, int(n)) for m, n in parts])
    return report + write_pages(out_dir, {"search-index.js": index})


def _incremental_topics(
    out_dir: Path,
    renderer: Renderer,
    store: Store,
    source: SiteSource,
    site: str,
    base: str,
    fingerprint_of: Callable[[Sequence[str]], list[str]],
    topics: Sequence[Topic],
) -> SiteReport:
    """Topic pages and feeds whose stories (or the last day) changed; topics.html if any did."""
    known = {t.slug: t for t in sorted(topics, key=lambda t: t.slug)}
    recorded = store.site_records(site, "topic")
    present = _files(out_dir / "topics")
    keys: dict[str, str] = {}
    stale: list[Topic] = []
    for slug, topic in known.items():
        ids = store.topic_story_ids(slug)
        keys[slug] = _hash(base, source.last_day.isoformat(), repr(topic), *fingerprint_of(ids))
        path = topic_path(slug)
        if (
            recorded.get(path, ("", ""))[1] != keys[slug]
            or PurePosixPath(path).name not in present
            or PurePosixPath(topic_path(slug, "atom")).name not in present
        ):
            stale.append(topic)
    all_key = _hash(base, *(f"{s}={k}" for s, k in keys.items()))
    index_stale = recorded.get("topics.html", ("", ""))[1] != all_key
    index_stale = index_stale or not (out_dir / "topics.html").exists()
    report = SiteReport((), ())
    pages: dict[str, TopicPage] = {}
    for topic in stale:
        page = pages[topic.slug] = source.topic_page(topic)
        report += write_pages(
            out_dir,
            {
                topic_path(topic.slug): renderer.topic_page(page, root="..", topics=known),
                topic_path(topic.slug, "atom"): renderer.topic_atom(page),
            },
        )
    fresh = {t.slug for t in stale}
    report += SiteReport(
        (),
        tuple(p for s in known if s not in fresh for p in (topic_path(s), topic_path(s, "atom"))),
    )
    if index_stale:
        every = [pages.get(s) or source.topic_page(t) for s, t in known.items()]
        report += write_pages(out_dir, {"topics.html": renderer.topics_index(every, root=".")})
    else:
        report += SiteReport((), ("topics.html",))
    rows = [(topic_path(t.slug), "topic", t.slug, keys[t.slug], 0.0, None) for t in stale]
    rows.append(("topics.html", "topic", "", all_key, 0.0, None))
    store.save_site_records(site, rows)
    return report


def _incremental_days(
    out_dir: Path,
    renderer: Renderer,
    store: Store,
    source: SiteSource,
    site: str,
    base: str,
    days: Sequence[date],
    dirty: set[date],
    recorded: Mapping[str, tuple[str, str]],
) -> tuple[list[Digest], SiteReport]:
    """Every day's digest (recomputed when stale, else as recorded) and the pages written."""
    present = _files(out_dir / "days")
    cached = {key: data for key, data in store.site_data(site, "day")}
    slim = {key: data for key, data in store.site_data(site, "archive")}
    # The front pages read the newest days whole (the Atom feed, index.html) and only what
    # the archive lists of the others: those are read back slim (issue 8).
    whole_from = len(days) - ATOM_DAYS - 1
    digests: list[Digest] = []
    rows: list[tuple[str, str, str, str, float, bytes]] = []
    report = SiteReport((), ())
    for n, day in enumerate(days):
        path = day_path(day)
        previous = days[n - 1] if n > 0 else None
        following = days[n + 1] if n + 1 < len(days) else None
        key = _hash(base, repr((day, previous, following)), source.day_inputs(day))
        data = cached.get(day.isoformat())
        if day in dirty or data is None:
            digest = replace(source.digest(day), previous_day=previous, next_day=following)
        else:
            # Its stories did not change: the recorded digest holds, but for its neighbours,
            # when it was generated and the failing feeds, which the caller sets again.
            same = recorded.get(path, ("", ""))[1] == key and PurePosixPath(path).name in present
            if same and n < whole_from and day.isoformat() in slim:
                report += SiteReport((), (path,))
                digests.append(_load_digest(slim[day.isoformat()]))
                continue
            digest = _load_digest(data)
            if same:
                report += SiteReport((), (path,))
                digests.append(digest)
                continue
            digest = replace(source.refresh(digest), previous_day=previous, next_day=following)
        report += write_pages(out_dir, {path: renderer.digest_page(digest, root="..")})
        data = zlib.compress(pickle.dumps(digest))
        rows.append((path, "day", day.isoformat(), key, 0.0, data))
        archived = zlib.compress(pickle.dumps(_slim(digest)))
        rows.append((f"archive/{day.isoformat()}", "archive", day.isoformat(), key, 0.0, archived))
        digests.append(digest)
    if rows:
        store.save_site_records(site, rows)
    return digests, report


#: How many of the newest days the Atom feed of the digests holds (``Renderer.digests_atom``).
ATOM_DAYS = 30


def _slim(digest: Digest) -> Digest:
    """What the archive page reads of a day: its counts, failing feeds, sections and stories,
    without the stories' articles' texts, the timelines and the emerging terms."""

    def story(s: Story) -> Story:
        # The first article of each outlet is all ``Story.outlets`` (the count shown) reads.
        firsts: dict[str, Member] = {}
        for m in sorted(s.members, key=lambda m: (m.published, m.entry_id)):
            if m.outlet and not m.aggregator:
                firsts.setdefault(m.outlet, replace(m, title="", link="", summary="", terms=()))
        return replace(s, summary="", why=(), members=tuple(firsts.values()))

    sections = tuple(
        replace(sec, stories=tuple(story(s) for s in sec.stories), timeline=())
        for sec in digest.sections
    )
    return replace(
        digest,
        sections=sections,
        top_stories=tuple(story(s) for s in digest.top_stories),
        emerging=(),
        developing_since={},
        since_yesterday="",
    )


class _DigestUnpickler(pickle.Unpickler):
    """Reads a recorded digest back, refusing anything but our dataclasses and dates.

    The records live in the user's database, which people may copy and share; an unrestricted
    unpickler would run whatever a crafted record names.
    """

    _ALLOWED = frozenset(
        {
            ("datetime", "date"),
            ("datetime", "datetime"),
            ("datetime", "timedelta"),
            ("datetime", "timezone"),
            ("zoneinfo", "ZoneInfo"),
            ("zoneinfo", "ZoneInfo._unpickle"),
            ("zoneinfo._zoneinfo", "ZoneInfo._unpickle"),
            ("copyreg", "_reconstructor"),
            ("copyreg", "__newobj__"),
            ("builtins", "object"),
            ("builtins", "dict"),
            ("builtins", "tuple"),
            ("builtins", "frozenset"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _zoneinfo_getattr  # how a ZoneInfo pickles itself, and nothing more
        if module == "tracker.models" or (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused in a recorded digest: {module}.{name}")


def _zoneinfo_getattr(obj: object, name: str) -> Any:
    from zoneinfo import ZoneInfo

    if obj is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle  # type: ignore[attr-defined]
    raise pickle.UnpicklingError(f"refused in a recorded digest: getattr(..., {name!r})")


def _load_digest(data: bytes) -> Digest:
    digest = _DigestUnpickler(io.BytesIO(zlib.decompress(data))).load()
    if not isinstance(digest, Digest):
        raise pickle.UnpicklingError("a recorded digest is not a Digest")
    return digest


def _global_key(renderer: Renderer, settings: str, topics: Sequence[Topic], feeds: bool) -> str:
    """What every page depends on: the program, the templates, the settings."""
    import tracker

    parts = [tracker.__version__, settings, repr(tuple(topics)), repr(feeds)]
    package = Path(tracker.__file__).parent
    sources = [package / f"{name}.py" for name in _SOURCES]
    loader = renderer.env.loader
    folders = getattr(loader, "searchpath", [])
    templates = sorted(p for folder in folders for p in Path(folder).iterdir() if p.is_file())
    digest = hashlib.sha256("\0".join(parts).encode())
    for path in (*sources, *templates):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()


def _files(folder: Path) -> set[str]:
    """The names of the files in ``folder`` (none when it does not exist)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name for e in entries}
    except FileNotFoundError:
        return set()
