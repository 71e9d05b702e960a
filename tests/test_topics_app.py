"""Topics in the app: the dry run, re-application of edited topics, new vs developing, bursts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from tracker.app import App
from tracker.cli import cli
from tracker.config import Config, load_config

DAY = datetime(2025, 1, 28, 20, tzinfo=UTC)
ITEMS = [
    ("DeepSeek R1 tops the App Store", "https://a.example/1", DAY - timedelta(days=1, hours=6)),
    ("DeepSeek R1 still tops the App Store", "https://a.example/2", DAY - timedelta(hours=5)),
    ("Nvidia shares fall after DeepSeek", "https://a.example/3", DAY - timedelta(hours=4)),
    ("Apple ships a new iPad", "https://a.example/4", DAY - timedelta(hours=3)),
]


def write_feed(path: Path) -> None:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>{t}.</description></item>"
        for t, link, when in ITEMS
    )
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>'
        f"<link>https://a.example/</link>{body}</channel></rss>",
        encoding="utf-8",
    )


def config(tmp_path: Path, topics: list[dict[str, Any]]) -> Config:
    write_feed(tmp_path / "feed.xml")
    data = {
        "timezone": "UTC",
        "feeds": [{"url": str(tmp_path / "feed.xml"), "outlet": "A"}],
        "topics": topics,
        "site": {"output_dir": "site"},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(tmp_path / "config.yaml")


DEEPSEEK = {"slug": "deepseek", "name": "DeepSeek", "keywords": ["DeepSeek"]}


def loaded(tmp_path: Path, topics: list[dict[str, Any]]) -> App:
    app = App(config(tmp_path, topics), clock=lambda: DAY)
    app.fetch(all_feeds=True)
    app.cluster()
    app.update_topics()
    return app


def stored(app: App) -> list[tuple[Any, ...]]:
    return list(app.store.db.execute("SELECT * FROM topic_stories ORDER BY 1, 2"))


def test_the_dry_run_matches_without_storing_anything(tmp_path: Path) -> None:
    with loaded(tmp_path, [DEEPSEEK]) as app:
        before = stored(app)
        from tracker.models import Topic

        result = app.test_topic(Topic("apple", "Apple", ("Apple",)), days=3)
        assert result.stories == 1 and result.entries == 1
        assert [h for h, _ in result.sample] == ["Apple ships a new iPad"]
        assert sum(d.entries for d in result.timeline) == 1
        assert stored(app) == before
        assert app.store.topic_story_ids("apple") == []


def test_cli_dry_run_with_ad_hoc_keywords(tmp_path: Path) -> None:
    loaded(tmp_path, [DEEPSEEK]).close()
    args = ["--config", str(tmp_path / "config.yaml"), "topics", "test", "ipad"]
    result = CliRunner().invoke(cli, [*args, "--keywords", "iPad"])
    assert result.exit_code == 0, result.output
    assert "would match 1 stories" in result.output and "nothing saved" in result.output
    missing = CliRunner().invoke(cli, args)
    assert missing.exit_code == 1 and "Error: no such topic: ipad" in missing.output


def test_editing_a_topic_in_the_config_re_applies_it_to_history(tmp_path: Path) -> None:
    with loaded(tmp_path, [DEEPSEEK]) as app:
        assert len(app.store.topic_story_ids("deepseek")) >= 2
    narrowed = {**DEEPSEEK, "keywords": ["DeepSeek"], "exclude": ["Nvidia", "still"]}
    with App(config(tmp_path, [narrowed]), clock=lambda: DAY) as app:
        app.update_topics()
        headlines = {s.headline for s in app.topic_stories("deepseek")}
        assert headlines == {"DeepSeek R1 tops the App Store"}


def test_the_digest_says_which_stories_are_new_and_which_are_developing(tmp_path: Path) -> None:
    with loaded(tmp_path, [DEEPSEEK]) as app:
        digest = app.digest(date(2025, 1, 28))
        by_headline = {s.headline: s.id for s in digest.stories}
        continuing = [sid for h, sid in by_headline.items() if sid in digest.developing_since]
        assert continuing  # the App Store story began the day before
        assert set(digest.developing_since.values()) == {date(2025, 1, 27)}
        assert by_headline["Apple ships a new iPad"] not in digest.developing_since
        section = next(s for s in digest.sections if s.topic.slug == "deepseek")
        assert section.burst is not None and section.developing >= 1
        html = app.renderer.digest_page(digest, root=".")
        assert 'class="topic-status meta"' in html and "developing" in html


def test_spiking_topics_lead_the_digest_and_emerging_names_are_listed(tmp_path: Path) -> None:
    from tracker.digest import build_digest
    from tracker.models import Burst, EmergingTerm

    with loaded(
        tmp_path, [DEEPSEEK, {"slug": "ipad", "name": "iPad", "keywords": ["iPad"]}]
    ) as app:
        day = date(2025, 1, 28)
        base = app.digest(day)
        stories = list(base.stories)
        loud = {"ipad": Burst(9, 1.0, 8.0, 1e-6, True), "deepseek": Burst(2, 1.0, 1.0, 0.3, False)}
        term = EmergingTerm("Janus", 4, 5, 0.0, ("DeepSeek shows Janus",))
        digest = build_digest(
            day,
            stories,
            app.config.topics,
            {},
            title="t",
            generated=DAY,
            bursts=loud,
            emerging=[term],
        )
        assert next(s.topic.slug for s in digest.sections) == "ipad"
        assert digest.spiking == ("ipad",)
        html = app.renderer.digest_page(digest, root=".")
        assert "spiking: 9 articles" in html
        assert "tracker topics test janus --keywords &#34;Janus&#34;" in html or "Janus" in html
