"""The embedded default: replay the bundled January 2025 corpus day by day, offline.

Each snapshot ``examples/technews-jan2025/feeds/<day>/<feed>.xml`` is what that feed showed on
that day; it is ingested as if fetched from the feed's real URL (``feeds.tsv``) with the clock
set to the end of that day. Then the stories, topics, whole site and last day's email are built
exactly as ``tracker run`` would build them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from tracker import fetch as fetching
from tracker.app import App, FetchReport
from tracker.config import Config, config_from_mapping
from tracker.errors import TrackerError
from tracker.resources import default_config, examples_dir

CORPUS = "technews-jan2025"


@dataclass(frozen=True)
class DemoReport:
    out_dir: Path
    days: list[date]
    entries: int
    stories: int
    pages: int
    eml: Path
    config: Path


def corpus_feeds(corpus: Path) -> dict[str, tuple[str, str, bool]]:
    """feeds.tsv: snapshot name -> (feed URL, outlet, aggregator)."""
    feeds = {}
    for line in (corpus / "feeds.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            slug, url, outlet, aggregator = line.split("\t")
            feeds[slug] = (url, outlet, aggregator == "yes")
    return feeds


def demo_config(out_dir: Path, corpus: Path) -> tuple[Config, dict[str, Any]]:
    """The shipped config.yaml with the corpus' feeds and everything written under out_dir."""
    data = yaml.safe_load(default_config().read_text(encoding="utf-8"))
    data["feeds"] = [
        {"url": url, "outlet": outlet, "aggregator": agg}
        for url, outlet, agg in sorted(set(corpus_feeds(corpus).values()))
    ]
    data["database"] = "tracker.db"
    data["site"] = {"output_dir": ".", "base_url": ""}
    data["email"] = {**data.get("email", {}), "enabled": False, "out_dir": "."}
    return config_from_mapping(data, out_dir / "demo-config.yaml"), data


def run_demo(out_dir: Path, *, say: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Replay the corpus into a fresh database under out_dir and build everything."""
    corpus = examples_dir() / CORPUS
    out_dir = out_dir.resolve()
    _prepare(out_dir)
    config, data = demo_config(out_dir, corpus)
    config_path = out_dir / "demo-config.yaml"
    config_path.write_text(
        "# Written by `tracker demo`: the shipped config.yaml with the bundled corpus' feeds.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    feeds = corpus_feeds(corpus)
    days = sorted(p for p in (corpus / "feeds").iterdir() if p.is_dir())
    clock = [datetime.now(config.tz)]
    with App(config, clock=lambda: clock[0]) as app:
        for day_dir in days:
            day = date.fromisoformat(day_dir.name)
            clock[0] = datetime.combine(day, time(23, 59, 59), tzinfo=config.tz)
            report = FetchReport()
            for path in sorted(day_dir.glob("*.xml")):
                url = feeds[path.stem][0]
                feed = app.store.get_feed(url)
                assert feed is not None, url
                app.ingest(feed, fetching.read_file(str(path)), report)
            clustered = app.cluster()
            app.update_topics()
            say(f"{day}: {report.new_entries} new entries, {clustered} placed in stories")
        site = app.build_site()
        last = app.days()[-1]
        eml = app.write_email(last, out_dir / f"digest-{last.isoformat()}.eml")
        return DemoReport(
            out_dir,
            app.days(),
            app.store.count("entries"),
            app.store.count("stories"),
            len(site.written) + len(site.unchanged),
            eml,
            config_path,
        )


def _prepare(out_dir: Path) -> None:
    """A fresh database every time; refuse to write into a folder that is not ours."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ours = (out_dir / "demo-config.yaml").exists()
    if any(out_dir.iterdir()) and not ours:
        raise TrackerError(f"demo output folder is not empty and not a demo site: {out_dir}")
    for name in ("tracker.db", "tracker.db-wal", "tracker.db-shm"):
        (out_dir / name).unlink(missing_ok=True)
    for sub in ("days", "topics", "stories"):
        if (out_dir / sub).is_dir():
            shutil.rmtree(out_dir / sub)
