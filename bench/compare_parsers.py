"""Does the lxml fast path give the same entries as feedparser? Every file, every field.

    python bench/compare_parsers.py DIR [DIR ...] [--show 20]

Each file under the folders (any name; .xml, .rss, .atom, .json or none) is parsed twice by
``tracker.parse.parse_feed``: with ``fast=False`` (feedparser, the reference) and with the
fast path. Prints how many documents the fast path took, how many of those agree on every
field (feed title, site URL, TTL, warning, and per entry id, link, title, summary, dates,
content, guid, author), and the first differences. Documents the fast path declines go to
feedparser and agree by construction. Exit status 1 when a difference is found.

The corpora are evaluation data (feeds-in-the-wild is never committed): give their paths.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker import fastparse
from tracker.errors import TrackerError
from tracker.models import Fetched
from tracker.parse import feedparser_headers, parse_feed

NOW = datetime(2030, 1, 1, tzinfo=UTC)  # late enough that no date is clamped


def files(folders: list[Path]) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        out += sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else [folder]
    return out


def outcome(body: bytes, url: str, fast: bool) -> Any:
    fetched = Fetched(url=url, status=200, body=body, headers={})
    try:
        parsed = parse_feed(fetched, feed_url=url, now=NOW, fast=fast)
    except TrackerError as e:
        return ("error", str(e))
    except Exception as e:
        return ("crash", type(e).__name__)
    return asdict(parsed)


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {a!r:.80} != {b!r:.80}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r:.80} != {b!r:.80}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--show", type=int, default=20, help="differences to print")
    args = parser.parse_args()
    paths = files(args.folders)
    taken = same = entries = 0
    slow = quick = 0.0
    differences: list[tuple[Path, str]] = []
    for path in paths:
        body = path.read_bytes()
        if fastparse.read(body, feedparser_headers({})) is None:
            continue
        taken += 1
        url = "https://example.org/" + path.name
        t0 = time.perf_counter()
        reference = outcome(body, url, fast=False)
        t1 = time.perf_counter()
        fast = outcome(body, url, fast=True)
        t2 = time.perf_counter()
        slow, quick = slow + t1 - t0, quick + t2 - t1
        entries += len(reference.get("entries", ())) if isinstance(reference, dict) else 0
        found = first_difference(reference, fast)
        if found is None:
            same += 1
        else:
            differences.append((path, found))
    print(f"{len(paths)} documents, fast path took {taken}, identical {same}, {entries} entries")
    if taken:
        print(f"parse_feed on those: feedparser {slow:.2f} s, fast path {quick:.2f} s")
    for path, found in differences[: args.show]:
        print(f"DIFF {path}: {found}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
