"""End to end: `tracker demo` on the bundled corpus, checked page by page, run twice."""

from __future__ import annotations

import email
import email.policy
import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser

from tracker.cli import cli
from tracker.demo import CORPUS, corpus_feeds
from tracker.resources import examples_dir

CORPUS_DIR = examples_dir() / CORPUS
DAYS = sorted(p.name for p in (CORPUS_DIR / "feeds").iterdir() if p.is_dir())
OUTLETS = {outlet for _, outlet, aggregator in corpus_feeds(CORPUS_DIR).values() if not aggregator}


def run_demo(out: Path) -> str:
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output + str(result.exception)
    return result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "site"
    return out, run_demo(out)


def pages(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in {".html", ".xml", ".atom", ".eml"}
    }


def test_demo_prints_where_to_look(demo: tuple[Path, str]) -> None:
    out, output = demo
    assert str(out / "index.html") in output
    assert "2027 entries" in output


def test_a_digest_page_for_every_day_of_the_corpus(demo: tuple[Path, str]) -> None:
    out, _ = demo
    for day in DAYS:
        page = (out / "days" / f"{day}.html").read_text(encoding="utf-8")
        assert '<html lang="en"' in page
    assert (out / "index.html").read_text(encoding="utf-8").count("<article") > 5
    archive = (out / "archive.html").read_text(encoding="utf-8")
    assert all(f"{day}.html" in archive for day in DAYS)


@pytest.mark.parametrize("slug", ["deepseek", "export-controls", "nvidia"])
def test_topic_pages_for_the_mission_topics(demo: tuple[Path, str], slug: str) -> None:
    out, _ = demo
    page = (out / "topics" / f"{slug}.html").read_text(encoding="utf-8")
    assert "<svg" in page  # the timeline chart


def test_pages_are_self_contained(demo: tuple[Path, str]) -> None:
    out, _ = demo
    for rel, data in pages(out).items():
        if rel.endswith(".html"):
            text = data.decode("utf-8")
            assert not re.search(r'<(?:link|script)[^>]+(?:href|src)="(?:https?:)?//', text), rel
            assert not re.search(r'<img[^>]+src="(?:https?:)?//', text), rel


def deepseek_cards(page: str) -> list[str]:
    section = page[page.index('<section id="topic-deepseek"') :]
    section = section[: section.index("</section>")]
    return re.findall(r'<article class="card" id="story-[^"]+">.*?</article>', section, re.DOTALL)


def test_27_january_groups_the_deepseek_coverage_into_one_card(demo: tuple[Path, str]) -> None:
    out, _ = demo
    page = (out / "days" / "2025-01-27.html").read_text(encoding="utf-8")
    cards = deepseek_cards(page)
    assert cards, "no DeepSeek section on 27 January"
    outlets_per_card = [{o for o in OUTLETS if f">{o}</a>" in card} for card in cards]
    biggest = max(outlets_per_card, key=len)
    assert len(biggest) >= 3, outlets_per_card
    card = cards[outlets_per_card.index(biggest)]
    assert "DeepSeek" in card
    assert re.search(r"Covered by (\d+) outlets", card)


def test_the_database_agrees_with_the_page(demo: tuple[Path, str]) -> None:
    out, _ = demo
    db = sqlite3.connect(out / "tracker.db")
    [(n_outlets,)] = db.execute(
        """SELECT max(s.n_outlets) FROM stories s JOIN topic_stories t ON t.story_id = s.id
           WHERE t.topic = 'deepseek' AND s.first_seen LIKE '2025-01-27%'"""
    ).fetchall()
    assert n_outlets >= 3
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [(dupes,)] = db.execute("SELECT count(*) - count(DISTINCT link) FROM entries").fetchall()
    assert dupes == 0


def test_the_last_days_email_is_written(demo: tuple[Path, str]) -> None:
    out, _ = demo
    path = out / f"digest-{DAYS[-1]}.eml"
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_the_demo_is_deterministic_and_reruns_cleanly(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = demo
    again = tmp_path / "again"
    run_demo(again)
    first, second = pages(out), pages(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    run_demo(again)  # into a folder that already holds a demo: a fresh database, same pages
    assert pages(again) == second


def test_the_demo_refuses_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "not empty" in result.stderr
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.browser
def test_the_27_january_page_in_a_real_browser(demo: tuple[Path, str], chromium: Browser) -> None:
    out, _ = demo
    requests: list[str] = []
    page = chromium.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto((out / "days" / "2025-01-27.html").as_uri())
    assert page.locator("#h-topic-deepseek").is_visible()
    page.locator("#h-topic-deepseek a").click()
    page.wait_for_load_state()
    assert page.url.endswith("/topics/deepseek.html")
    assert page.locator("h1").first.inner_text().strip() == "DeepSeek"
    page.close()
    assert all(u.startswith("file://") for u in requests), requests


def test_rebuilding_the_demo_site_rewrites_nothing(demo: tuple[Path, str]) -> None:
    out, _ = demo
    config = str(out / "demo-config.yaml")
    result = CliRunner().invoke(cli, ["--config", config, "site"])
    assert result.exit_code == 0, result.output
    assert " 0 pages written" in result.output


def test_the_demo_database_answers_the_other_commands(demo: tuple[Path, str]) -> None:
    out, _ = demo
    config = ["--config", str(out / "demo-config.yaml")]
    runner = CliRunner()
    shown = runner.invoke(cli, [*config, "topics", "show", "deepseek", "--json"])
    assert shown.exit_code == 0, shown.output
    line = {d["day"]: d for d in json.loads(shown.stdout)["timeline"]}
    assert line["2025-01-27"]["outlets"] >= 3
    found = runner.invoke(cli, [*config, "search", "DeepSeek", "--json"])
    assert found.exit_code == 0 and len(json.loads(found.stdout)) == 20
    text = runner.invoke(cli, [*config, "digest", "--date", "2025-01-27"])
    assert text.exit_code == 0 and "DEEPSEEK" in text.stdout
