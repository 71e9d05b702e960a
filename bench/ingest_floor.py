"""What ingesting a corpus cannot cost less than here: the floor under issue 8's ingest targets.

    python bench/ingest_floor.py [FILE_OR_FOLDER ...] [--runs 5]
                                 [--reader-python /tmp/readerenv/bin/python]

Without paths, the bundled corpus (examples/technews-jan2025: 104 daily snapshots of 8 feeds);
the files must be well-formed feeds.
Each step of ingest is done once over the whole corpus with the fastest means at hand, in one
process, with nothing else around it (best of ``--runs``):

  read    the files' bytes
  xml     lxml builds each document's tree (entities unresolved, no network)
  fields  a walk over every item taking each child's text (no checks, no fix-ups)
  ids     each item's id from its canonical link (tracker.parse.entry_id), duplicates dropped
  dates   every item's date (tracker.fastparse._date, RFC 822 shortcut included)
  clean   the new entries' title and summary as text, their HTML cleaned (tracker's nh3
          cleaners; most summaries need no cleaning at all)
  store   one INSERT of every new row into tracker's own schema, in one transaction
  index   the FTS5 index of those rows, one statement
  state   one UPDATE of fetch state per file

Their sum is a floor: tracker does each step with more around it (feedparser's rules for
every field, the checks that send a document to feedparser, a savepoint per feed, commits
in groups, its schedule). The table puts the floor next to tracker's ingest of the same
files and reader's (measured in the same run, as bench/ingest.py does), and next to the time
that ">= 10x reader" leaves: by entries stored per second (tracker stores one copy of an
entry that several snapshots carry, reader one per snapshot) and by seconds for the same files.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, table
from ingest import bundled_files, reader_ingest, tracker_ingest

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DAY = "2025-01-20T00:00:00+00:00"


def corpus(paths: list[str]) -> list[Path]:
    if not paths:
        return bundled_files()
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        files += sorted(path.rglob("*.xml")) if path.is_dir() else [path]
    return files


def _item_fields(item: Any) -> dict[str, str]:
    """An item's children by local name (the first of each), Atom's link as its href."""
    out: dict[str, str] = {}
    for child in item:
        if not isinstance(child.tag, str):
            continue
        name = child.tag.rpartition("}")[2].lower()
        if child.tag == CONTENT:
            name = "content"
        value = child.get("href", "") if child.tag == ATOM + "link" else (child.text or "")
        out.setdefault(name, value)
    return out


class Floor:
    """The steps, each timed on its own over the whole corpus."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.urls = [p.resolve().as_uri() for p in files]

    def steps(self) -> dict[str, float]:
        from lxml import etree  # type: ignore[import-untyped]

        from tracker import fastparse, parse
        from tracker.rows import VALUE_ID

        took: dict[str, float] = {}

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            t0 = time.perf_counter()
            out = fn()
            took[name] = time.perf_counter() - t0
            return out

        bodies = timed("read", lambda: [p.read_bytes() for p in self.files])
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            roots = timed("xml", lambda: [etree.fromstring(b, parser) for b in bodies])
        except etree.XMLSyntaxError as e:
            sys.exit(f"ingest_floor.py takes well-formed feeds only: {e}")

        def fields() -> list[tuple[str, dict[str, str]]]:
            return [
                (url, _item_fields(item))
                for url, root in zip(self.urls, roots, strict=True)
                for item in root.iter("item", ATOM + "entry")
            ]

        items = timed("fields", fields)

        def ids() -> dict[str, tuple[str, dict[str, str]]]:
            first: dict[str, tuple[str, dict[str, str]]] = {}
            for url, f in items:
                link = f.get("link", "")
                first.setdefault(parse.entry_id(link, f.get("guid") or f.get("id"), url), (url, f))
            return first

        unique = timed("ids", ids)

        def dates() -> list[Any]:
            return [
                fastparse._date(f.get("pubdate") or f.get("published") or f.get("updated") or "")
                for _, f in items
            ]

        timed("dates", dates)

        def clean() -> list[tuple[Any, ...]]:
            rows = []
            for key, (url, f) in unique.items():
                summary = f.get("description") or f.get("summary") or ""
                title = parse.html_to_text(f.get("title", ""))
                text = parse.html_to_text(summary)
                body = parse.sanitize_html(f.get("content") or summary)
                rows.append(
                    (key, url, f.get("link", ""), f.get("guid"), title, text, body, "", "outlet",
                     DAY, None, DAY)
                )  # fmt: skip
            return rows

        rows = timed("clean", clean)
        assert all(r[VALUE_ID] for r in rows)
        self._store(rows, took)
        return took

    def _store(self, rows: list[tuple[Any, ...]], took: dict[str, float]) -> None:
        from tracker.store import _INDEX_NEW_ENTRIES, _INSERT_ENTRY, Store

        folder = Path(tempfile.mkdtemp(prefix="bench-floor-"))
        try:
            store = Store(folder / "tracker.db")
            conn = store.db.conn
            conn.executemany(
                "INSERT INTO feeds (url, added_at) VALUES (?, ?)", [(u, DAY) for u in self.urls]
            )
            conn.commit()
            t0 = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("INSERT INTO entries_fts_bulk VALUES (1)")
            conn.executemany(_INSERT_ENTRY, rows)
            conn.execute("DELETE FROM entries_fts_bulk")
            t1 = time.perf_counter()
            conn.execute(_INDEX_NEW_ENTRIES, [0])
            t2 = time.perf_counter()
            conn.executemany(
                "UPDATE feeds SET etag = ?, last_fetched = ?, next_fetch = ? WHERE url = ?",
                [("x", DAY, DAY, u) for u in self.urls],
            )
            conn.execute("COMMIT")
            t3 = time.perf_counter()
            took.update(store=t1 - t0, index=t2 - t1, state=t3 - t2)
            store.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def measure(args: argparse.Namespace, files: list[Path]) -> list[Row]:
    floor = Floor(files)
    runs = [floor.steps() for _ in range(args.runs)]
    best = {name: min(r[name] for r in runs) for name in runs[0]}
    total = sum(best.values())
    steps = ", ".join(f"{name} {seconds * 1000:.1f}" for name, seconds in best.items())
    print(f"  floor steps (best of runs, ms): {steps}", file=sys.stderr)
    # A second CPU needs a second interpreter with lxml and nh3 at least (threads cannot
    # share the Python part of parsing); splitting the floor's work perfectly over two
    # processes still pays for starting one.
    start = min(_start_seconds() for _ in range(args.runs))
    print(f"  a second process (interpreter, lxml, nh3): {start * 1000:.1f} ms", file=sys.stderr)
    two = (total + start) / 2
    ours = [tracker_ingest(files) for _ in range(args.runs)]
    entries = ours[0][0]
    seconds = statistics.median(s for _, s, _, _ in ours)
    stage = f"ingest floor, {len(files)} files"
    rows = [
        Row(stage, "seconds: the bare steps' sum vs tracker's ingest", "floor", total, seconds,
            "", None, args.runs),
    ]  # fmt: skip
    if args.reader_python and Path(args.reader_python).exists():
        theirs = [reader_ingest(args.reader_python, files) for _ in range(args.runs)]
        reader_entries = theirs[0][0]
        reader_seconds = statistics.median(s for _, s, _ in theirs)
        by_rate = entries / (10 * reader_entries / reader_seconds)
        by_files = reader_seconds / 10
        rows += [
            Row(stage, "seconds: reader vs the floor", "reader 3.x", reader_seconds, total,
                "", None, args.runs),
            Row(stage, f"seconds 10x reader leaves, by entries/s ({entries:,} vs "
                f"{reader_entries:,} stored) vs the floor", "10x reader", by_rate, total,
                "floor under it", total <= by_rate, args.runs),
            Row(stage, "the same, vs the floor split perfectly over 2 CPUs (+ a 2nd process)",
                "10x reader", by_rate, two, "floor under it", two <= by_rate, args.runs),
            Row(stage, "seconds 10x reader leaves, same files, vs the floor", "10x reader",
                by_files, total, "floor under it", total <= by_files, args.runs),
        ]  # fmt: skip
    return rows


def _start_seconds() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import lxml.etree, nh3"], check=True)
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> list[Row]:
    return measure(args, corpus(args.paths))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="*", help="feed files or folders of them (default: bundled)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--reader-python", default="/tmp/readerenv/bin/python")
    return p


def main() -> None:
    print(table(run(parser().parse_args())))


if __name__ == "__main__":
    main()
