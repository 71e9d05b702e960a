"""Write the rendered static site to disk, each page atomically and only when its bytes changed.

Layout, every internal link relative so that the site also works from file://::

    index.html              the latest digest (root ".")
    archive.html            every day, newest first
    topics.html             every topic
    atom.xml                the digests as an Atom feed
    feeds.opml              the followed feeds, for any feed reader
    feeds.html              feed health: every feed's state, last success, next fetch
    search.html             search in the browser: search.js over search-index.js (no server)
    days/YYYY-MM-DD.html    one page per digest (root "..")
    topics/<slug>.html      a topic's timeline and stories, and topics/<slug>.atom
    stories/<id>.html       a story's every entry
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from tracker.errors import TrackerError
from tracker.models import Digest, Feed, FeedState, Story, Topic, TopicPage
from tracker.render import Renderer, day_path, story_path, topic_path

#: Story pages are rendered and written this many at a time, so memory stays flat.
STORY_BATCH = 500


@dataclass(frozen=True)
class SiteReport:
    """Which pages (paths relative to the site root) were written and which were left alone."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]

    def __add__(self, other: SiteReport) -> SiteReport:
        return SiteReport(self.written + other.written, self.unchanged + other.unchanged)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    A reader (a web server, a browser, a mail client) sees the old file or the new one, never a
    half-written one. Parent folders are created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; pages are meant to be served
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_pages(out_dir: Path, pages: Mapping[str, str]) -> SiteReport:
    """Write each ``relpath -> text`` under ``out_dir`` (UTF-8) unless the file already holds it."""
    written: list[str] = []
    unchanged: list[str] = []
    for rel in sorted(pages):
        target = _target(out_dir, rel)
        data = pages[rel].encode("utf-8")
        if _holds(target, data):
            unchanged.append(rel)
            continue
        try:
            write_atomic(target, data)
        except OSError as e:
            raise TrackerError(f"cannot write page: {target}") from e
        written.append(rel)
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
    rows = [row for _, _, row in sorted(index, key=lambda item: item[:2])]
    return {
        "search-index.js": renderer.search_index_js(rows),
        "search.js": renderer.search_script(),
        "search.html": renderer.search_page(root="."),
    }


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
