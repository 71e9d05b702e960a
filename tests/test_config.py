"""tracker.config: the shipped config.yaml, every error message, paths, defaults."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
import yaml

from tracker.config import (
    ClusterConfig,
    Config,
    DigestConfig,
    EmailConfig,
    FeedConfig,
    FetchConfig,
    ScheduleConfig,
    SiteConfig,
    SmtpConfig,
    config_from_mapping,
    load_config,
)
from tracker.errors import ConfigError
from tracker.models import Topic, TopicNear

REPO = Path(__file__).parents[1]
REPO_CONFIG = REPO / "config.yaml"

Load = Callable[[str], Config]


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Load:
    """Write YAML to tmp_path/config.yaml and load it as `config.yaml`, as a user would."""
    monkeypatch.chdir(tmp_path)

    def load(text: str) -> Config:
        (tmp_path / "config.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        return load_config("config.yaml")

    return load


# --- the shipped config.yaml -----------------------------------------------------------------


def test_real_config_has_the_mission_topics() -> None:
    config = load_config(REPO_CONFIG)
    topics = {t.slug: t for t in config.topics}
    assert {"deepseek", "export-controls", "nvidia"} <= set(topics)
    assert topics["deepseek"].name == "DeepSeek"
    assert "DeepSeek" in topics["deepseek"].keywords
    assert {"export controls", "Entity List", "chip ban"} <= set(topics["export-controls"].keywords)
    assert "export photos" in topics["export-controls"].exclude
    assert {"R1", "V3"} <= set(topics["deepseek"].weak)
    assert topics["export-controls"].near
    assert {"Nvidia", "GeForce", "Jensen Huang", "H20", "Blackwell"} <= set(
        topics["nvidia"].keywords
    )
    assert all(t.description for t in config.topics)


def test_real_config_follows_real_tech_feeds() -> None:
    feeds = {f.url: f for f in load_config(REPO_CONFIG).feeds}
    expected = {
        "https://feeds.arstechnica.com/arstechnica/index": "Ars Technica",
        "https://www.theverge.com/rss/index.xml": "The Verge",
        "https://techcrunch.com/feed/": "TechCrunch",
        "https://www.wired.com/feed/rss": "WIRED",
        "https://www.theregister.com/headlines.atom": "The Register",
        "https://www.tomshardware.com/feeds/all": "Tom's Hardware",
        "https://hnrss.org/frontpage": "Hacker News",
        "https://rss.slashdot.org/Slashdot/slashdotMain": "Slashdot",
    }
    assert {url: feeds[url].outlet for url in expected} == expected
    aggregators = {f.outlet for f in feeds.values() if f.aggregator}
    assert aggregators == {"Hacker News", "Slashdot"}
    assert all(f.url.startswith("https://") and f.outlet for f in feeds.values())


def test_real_config_settings() -> None:
    config = load_config(REPO_CONFIG)
    assert config.path == REPO_CONFIG
    assert config.database == REPO / "tracker.db"
    assert config.site.output_dir == REPO / "site"
    assert config.tz == ZoneInfo("Europe/London")
    assert config.email.enabled is False
    assert config.email.smtp.password_env == "TRACKER_SMTP_PASSWORD"
    assert config.schedule == ScheduleConfig()


@pytest.mark.parametrize(
    ("section", "cls"),
    [
        ("fetch", FetchConfig),
        ("cluster", ClusterConfig),
        ("schedule", ScheduleConfig),
        ("digest", DigestConfig),
        ("site", SiteConfig),
    ],
)
def test_real_config_shows_every_setting(section: str, cls: type) -> None:
    """The starting config documents each key of each section, so users find them."""
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    assert set(raw[section]) == {f.name for f in dataclasses.fields(cls)}


def test_real_config_shows_every_email_setting() -> None:
    text = REPO_CONFIG.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert set(raw) == {f.name for f in dataclasses.fields(Config)} - {"path"}
    assert set(raw["email"]) | {"out_dir"} == {f.name for f in dataclasses.fields(EmailConfig)}
    assert "# out_dir:" in text  # shown, commented out: writing .eml files is opt-in
    assert set(raw["email"]["smtp"]) == {f.name for f in dataclasses.fields(SmtpConfig)}


# --- every kind of mistake names the file and the key path ------------------------------------

FEEDS4 = """
feeds:
  - url: https://a.example/feed
  - url: https://b.example/feed
  - url: https://c.example/feed
  - url: 42
"""

TOPICS3 = """
topics:
  - {slug: nvidia, name: NVIDIA, keywords: [Nvidia]}
  - {slug: deepseek, name: DeepSeek, keywords: [DeepSeek]}
  - {slug: nvidia, name: Nvidia again, keywords: [GeForce]}
"""

ENABLED = "email: {enabled: true, sender: d@example.org, recipients: [a@example.org]"

BAD = [
    (FEEDS4, "feeds[3].url: expected a string"),
    ("frobnicate: 1", "frobnicate: unknown key"),
    ("timezone: Mars/Olympus", "timezone: unknown time zone 'Mars/Olympus'"),
    ("timezone: Europe", "timezone: unknown time zone 'Europe'"),
    ("timezone:", "timezone: expected a string"),
    (TOPICS3, "topics[2].slug: duplicate slug 'nvidia'"),
    (
        "feeds: [{url: 'https://a.example/f'}, {url: 'https://a.example/f'}]",
        "feeds[1].url: duplicate feed URL",
    ),
    ("feeds: [{url: a/feed.xml}, {url: './b/../a/feed.xml'}]", "feeds[1].url: duplicate feed URL"),
    ("feeds: [{url: 'ftp://a.example/f'}]", "feeds[0].url: unsupported scheme 'ftp'"),
    ("feeds: [{url: 'https:///f'}]", "feeds[0].url: missing host"),
    (
        "feeds: [{url: 'file://feeds/a.xml'}]",
        (
            "feeds[0].url: file URL with a host 'feeds'; "
            "write file:///absolute/path or a plain relative path"
        ),
    ),
    ("feeds: [{url: ''}]", "feeds[0].url: expected a non-empty string"),
    ("feeds: [{url: 'http://[::1/f'}]", "feeds[0].url: invalid URL: invalid ipv6 url"),
    (
        "feeds: [{url: 'https://a.example:99999/f'}]",
        "feeds[0].url: invalid URL: port out of range 0-65535",
    ),
    ("feeds: [{url: 'https://a.example/my feed'}]", "feeds[0].url: invalid URL: contains a space"),
    ("feeds: [{url: 'mailto:news@a.example'}]", "feeds[0].url: unsupported scheme 'mailto'"),
    ("feeds: [{outlet: Ars}]", "feeds[0].url: required"),
    ("feeds: ['https://a.example/f']", "feeds[0]: expected a mapping"),
    ("feeds: {url: 'https://a.example/f'}", "feeds: expected a list"),
    (
        "feeds: [{url: 'https://a.example/f', aggregator: maybe}]",
        "feeds[0].aggregator: expected true or false",
    ),
    ("feeds: [{url: 'https://a.example/f', outlet: 404}]", "feeds[0].outlet: expected a string"),
    (
        "topics: [{slug: Deep Seek, name: D, keywords: [D]}]",
        "topics[0].slug: expected lower-case letters, digits and hyphens, got 'Deep Seek'",
    ),
    ("topics: [{slug: d, keywords: [D]}]", "topics[0].name: required"),
    ("topics: [{slug: d, name: D}]", "topics[0].keywords: required"),
    (
        "topics: [{slug: d, name: D, keywords: []}]",
        "topics[0].keywords: expected at least one item",
    ),
    ("topics: [{slug: d, name: D, keywords: DeepSeek}]", "topics[0].keywords: expected a list"),
    (
        "topics: [{slug: d, name: D, keywords: [DeepSeek, 2025]}]",
        "topics[0].keywords[1]: expected a string",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], aliases: ['  ']}]",
        "topics[0].aliases[0]: expected a non-empty string",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], exclude: [[x]]}]",
        "topics[0].exclude[0]: expected a string",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], weak: [R1, 3]}]",
        "topics[0].weak[1]: expected a string",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], near: {terms: [x]}}]",
        "topics[0].near: expected a list",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], near: [{terms: [ban]}]}]",
        "topics[0].near[0].with_terms: required",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], near: [{terms: [], with_terms: [chip]}]}]",
        "topics[0].near[0].terms: expected at least one item",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], near: [{terms: [ban], with_terms: [chip, '']}]}]",
        "topics[0].near[0].with_terms[1]: expected a non-empty string",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], near: [{terms: [b], with_terms: [c], within: 0}]}]",
        "topics[0].near[0].within: expected an integer of at least 1",
    ),
    (
        "topics: [{slug: d, name: D, keywords: [D], near: [{terms: [b], with_terms: [c], window: 3}]}]",
        "topics[0].near[0].window: unknown key",
    ),
    ("email: {smtp: {security: tls}}", "email.smtp.security: expected one of starttls, ssl, none"),
    (
        "email: {enabled: true, sender: d@example.org}",
        "email.recipients: required when email.enabled is true",
    ),
    (
        "email: {enabled: true, recipients: [a@example.org]}",
        "email.sender: required when email.enabled is true",
    ),
    ("email: {enabled: yes please}", "email.enabled: expected true or false"),
    (
        "email: {recipients: [a@example.org, nobody]}",
        "email.recipients[1]: expected an email address, got 'nobody'",
    ),
    ("email: {recipients: a@example.org}", "email.recipients: expected a list"),
    ("email: {sender: digest}", "email.sender: expected an email address, got 'digest'"),
    (ENABLED + ", smtp: {port: 70000}}", "email.smtp.port: expected an integer of at most 65535"),
    ("email: {smtp: {port: true}}", "email.smtp.port: expected an integer"),
    ("email: {smtp: {port: '587'}}", "email.smtp.port: expected an integer"),
    ("email: {smtp: {port: 0}}", "email.smtp.port: expected an integer of at least 1"),
    ("email: {smtp: {host: ''}}", "email.smtp.host: expected a non-empty string"),
    (
        "email: {smtp: {password: hunter2}}",
        "email.smtp.password: unknown key; put the password in the environment variable named by password_env",
    ),
    (
        "email: {smtp: {password_env: 'hunter2 !'}}",
        "email.smtp.password_env: expected the name of an environment variable, got 'hunter2 !'",
    ),
    ("email: {smtp: localhost}", "email.smtp: expected a mapping"),
    ("email: {out_dir: 5}", "email.out_dir: expected a string"),
    ("fetch: {timeout_seconds: 0}", "fetch.timeout_seconds: expected a number greater than 0"),
    ("fetch: {timeout_seconds: -1.5}", "fetch.timeout_seconds: expected a number greater than 0"),
    ("fetch: {timeout_seconds: .inf}", "fetch.timeout_seconds: expected a number greater than 0"),
    ("fetch: {timeout_seconds: true}", "fetch.timeout_seconds: expected a number"),
    ("fetch: {timeout_seconds: '20'}", "fetch.timeout_seconds: expected a number"),
    ("fetch: {max_bytes: 1.5}", "fetch.max_bytes: expected an integer"),
    ("fetch: {concurrency: 0}", "fetch.concurrency: expected an integer of at least 1"),
    ("fetch: {per_host: false}", "fetch.per_host: expected an integer"),
    ("fetch: {user_agent: ''}", "fetch.user_agent: expected a non-empty string"),
    ("fetch: []", "fetch: expected a mapping"),
    ("cluster: {threshold: 1.5}", "cluster.threshold: expected a number of at most 1"),
    ("cluster: {threshold: 0}", "cluster.threshold: expected a number greater than 0"),
    ("cluster: {window_days: .nan}", "cluster.window_days: expected a number greater than 0"),
    ("schedule: {fetch: 30}", "schedule.fetch: expected a string"),
    ("digest: {timeline_days: 0}", "digest.timeline_days: expected an integer of at least 1"),
    ("digest: {max_top_stories: -1}", "digest.max_top_stories: expected an integer of at least 0"),
    ("digest: {title: 5}", "digest.title: expected a string"),
    (
        "site: {base_url: news.example.org}",
        "site.base_url: expected an absolute http(s) URL, got 'news.example.org'",
    ),
    (
        "site: {base_url: 'ftp://news.example.org/'}",
        "site.base_url: expected an absolute http(s) URL, got 'ftp://news.example.org/'",
    ),
    ("site: {output_dir: ''}", "site.output_dir: expected a non-empty string"),
    ("database: []", "database: expected a string"),
    ("database: null", "database: expected a string"),
    ("- database: x.db", "expected a mapping of settings at the top level"),
    ("just words", "expected a mapping of settings at the top level"),
]


@pytest.mark.parametrize(("text", "problem"), BAD, ids=[p for _, p in BAD])
def test_mistake_names_file_and_key_path(load: Load, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value) == f"config.yaml: {problem}"


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("schedule: {fetch: '61 * * * *'}", "schedule.fetch: bad cron expression '61 * * * *': "),
        ("schedule: {digest: '5 7 * *'}", "schedule.digest: bad cron expression '5 7 * *': "),
        ("schedule: {email: every day}", "schedule.email: bad cron expression 'every day': "),
    ],
)
def test_bad_cron_expression_says_why(load: Load, text: str, prefix: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    message = str(info.value)
    assert message.startswith(f"config.yaml: {prefix}")
    assert len(message) > len(f"config.yaml: {prefix}")  # APScheduler's reason follows
    assert isinstance(info.value.__cause__, ValueError)


def test_unknown_time_zone_keeps_its_cause(load: Load) -> None:
    with pytest.raises(ConfigError) as info:
        load("timezone: Mars/Olympus")
    assert isinstance(info.value.__cause__, ZoneInfoNotFoundError)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("colour: blue", "colour"),
        ("feeds: [{url: 'https://a.example/f', link: x}]", "feeds[0].link"),
        ("topics: [{slug: d, name: D, keyword: [D]}]", "topics[0].keyword"),
        ("fetch: {timeout: 5}", "fetch.timeout"),
        ("cluster: {windows_days: 3}", "cluster.windows_days"),
        ("schedule: {fetch_cron: '* * * * *'}", "schedule.fetch_cron"),
        ("digest: {max_stories: 3}", "digest.max_stories"),
        ("site: {output: site}", "site.output"),
        ("email: {to: [a@example.org]}", "email.to"),
        ("email: {smtp: {user: me}}", "email.smtp.user"),
        ("1: one", "1"),
    ],
)
def test_unknown_key_at_every_level(load: Load, text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=r"^config\.yaml: ") as info:
        load(text)
    assert str(info.value) == f"config.yaml: {where}: unknown key"


def test_unknown_key_is_reported_before_other_problems(load: Load) -> None:
    """A misspelt key usually explains a missing one, so it is named first."""
    with pytest.raises(ConfigError) as info:
        load("feeds: [{uri: 'https://a.example/f'}]")
    assert str(info.value) == "config.yaml: feeds[0].uri: unknown key"


# --- reading the file --------------------------------------------------------------------------


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config("config.yaml")
    assert str(info.value) == "config.yaml: cannot read: no such file or directory"
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_folder_instead_of_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"^config\.yaml: cannot read: is a directory$"):
        load_config("config.yaml")


def test_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_bytes(b"timezone: \xff\n")
    with pytest.raises(ConfigError) as info:
        load_config("config.yaml")
    assert str(info.value) == "config.yaml: cannot read: not UTF-8 text (byte 0xff at offset 10)"


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes("\ufefftimezone: Asia/Tokyo\n".encode())
    assert load_config(path).timezone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "database: a.db\nfeeds:\n  - url: [unclosed\n",
            "line 3: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "database: a.db\nfeeds:\n\t- url: x\n",
            "line 3: invalid YAML: found character '\\t' that cannot start any token",
        ),
        (
            "database: a.db\n  timezone: UTC\n",
            "line 2: invalid YAML: mapping values are not allowed here",
        ),
        (
            "email:\n  enabled: false\nfetch: {}\nemail: {}\n",
            "line 4: invalid YAML: duplicate key 'email'",
        ),
        (
            "email:\n  sender: a@example.org\n  sender: b@example.org\n",
            "line 3: invalid YAML: duplicate key 'sender'",
        ),
        (
            "timezone: UTC\ndatabase: \x01\n",
            "line 2: invalid YAML: unacceptable character #x0001: special characters are not allowed",
        ),
    ],
)
def test_invalid_yaml_names_the_line(load: Load, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value) == f"config.yaml: {message}"
    assert isinstance(info.value.__cause__, yaml.YAMLError)


def test_merge_keys_may_override(load: Load) -> None:
    """Overriding a merged key is not a duplicate key."""
    config = load(
        """
        email:
          smtp: {<<: {host: a.example, port: 25}, port: 2525}
        """
    )
    assert (config.email.smtp.host, config.email.smtp.port) == ("a.example", 2525)


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing but comments\n", "---\n"])
def test_empty_file(load: Load, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value) == "config.yaml: the file is empty; expected a mapping of settings"


def test_errors_name_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "tracker.yaml"
    path.parent.mkdir()
    path.write_text("frobnicate: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: frobnicate: unknown key"


# --- paths are relative to the config file ----------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "config.yaml").write_text(
        textwrap.dedent(
            """
            database: data/news.db
            site: {output_dir: ../public}
            email: {out_dir: mail}
            feeds:
              - url: feeds/ars technica.xml
              - url: file:feeds/verge.xml
              - url: ./feeds/../feeds/wired.xml
            """
        ),
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("..") / "conf" / "config.yaml")
    assert config.path == folder / "config.yaml"
    assert config.database == folder / "data" / "news.db"
    assert config.site.output_dir == tmp_path / "public"
    assert config.email.out_dir == folder / "mail"
    assert [f.url for f in config.feeds] == [
        (folder / "feeds" / "ars technica.xml").as_uri(),
        (folder / "feeds" / "verge.xml").as_uri(),
        (folder / "feeds" / "wired.xml").as_uri(),
    ]
    assert config.feeds[0].url.endswith("/feeds/ars%20technica.xml")


def test_absolute_paths_and_web_urls_are_kept(load: Load, tmp_path: Path) -> None:
    other = tmp_path.parent / "other"
    config = load(
        f"""
        database: {other / "t.db"}
        feeds:
          - url: {(other / "a.xml").as_uri()}
          - url: {other / "b.xml"}
          - url: file://localhost{other / "c.xml"}
          - url: HTTPS://Example.org/Feed?x=1
        """
    )
    assert config.database == other / "t.db"
    assert [f.url for f in config.feeds] == [
        (other / "a.xml").as_uri(),
        (other / "b.xml").as_uri(),
        (other / "c.xml").as_uri(),
        "HTTPS://Example.org/Feed?x=1",
    ]


def test_home_folder_is_expanded(
    load: Load, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load("database: ~/tracker/news.db")
    assert config.database == tmp_path / "home" / "tracker" / "news.db"


# --- defaults and conversions ------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    config = config_from_mapping({}, tmp_path / "config.yaml")
    assert config == Config(
        path=tmp_path / "config.yaml",
        database=tmp_path / "tracker.db",
        timezone="UTC",
        feeds=(),
        topics=(),
        fetch=FetchConfig(),
        cluster=ClusterConfig(),
        schedule=ScheduleConfig(),
        digest=DigestConfig(),
        site=SiteConfig(output_dir=tmp_path / "site"),
        email=EmailConfig(),
    )
    assert config.tz == ZoneInfo("UTC")


def test_empty_sections_mean_defaults(load: Load, tmp_path: Path) -> None:
    """A section whose every line is commented out is null in YAML: defaults, not an error."""
    config = load("feeds:\ntopics:\nfetch:\nemail:\n  smtp:\nsite:\n")
    assert (config.feeds, config.topics) == ((), ())
    assert (config.fetch, config.email) == (FetchConfig(), EmailConfig())
    assert config.site == SiteConfig(output_dir=tmp_path / "site")


def test_entry_defaults(load: Load) -> None:
    config = load(
        """
        feeds: [{url: 'https://a.example/f'}]
        topics: [{slug: d, name: D, keywords: [D]}]
        """
    )
    assert config.feeds == (FeedConfig(url="https://a.example/f"),)
    assert config.topics == (Topic(slug="d", name="D", keywords=("D",)),)


def test_topic_weak_terms_and_near_rules(load: Load) -> None:
    config = load(
        """
        topics:
          - slug: export-controls
            name: Export controls
            keywords: [export controls]
            weak: [EC]
            near:
              - {terms: [ban, curbs], with_terms: [chip, chips], within: 3}
              - {terms: [sanctions], with_terms: [China]}
        """
    )
    (topic,) = config.topics
    assert topic.weak == ("EC",)
    assert topic.near == (
        TopicNear(terms=("ban", "curbs"), with_terms=("chip", "chips"), within=3),
        TopicNear(terms=("sanctions",), with_terms=("China",), within=5),
    )


def test_full_entries(load: Load) -> None:
    config = load(
        """
        feeds:
          - {url: 'https://hnrss.org/frontpage', outlet: Hacker News, title: HN,
             aggregator: true, category: aggregator}
        topics:
          - slug: r-1
            name: DeepSeek
            keywords: [DeepSeek, R1]
            aliases: [Deep Seek]
            exclude: [seeker]
            description: The lab.
        """
    )
    assert config.feeds[0] == FeedConfig(
        "https://hnrss.org/frontpage", "Hacker News", "HN", True, "aggregator"
    )
    assert config.topics[0] == Topic(
        "r-1", "DeepSeek", ("DeepSeek", "R1"), ("Deep Seek",), ("seeker",), "The lab."
    )


def test_conversions(load: Load) -> None:
    config = load(
        """
        timezone: America/New_York
        fetch: {timeout_seconds: 5, max_bytes: 1000}
        cluster: {window_days: 2, threshold: 0.45}
        schedule: {fetch: '0 * * * *', email: null}
        site: {base_url: 'https://news.example.org/daily'}
        email:
          enabled: true
          sender: Tech digest <digest@example.org>
          recipients: [a@example.org, B <b@example.org>]
          out_dir: null
          smtp: {security: SSL, port: 465}
        """
    )
    assert config.fetch.timeout_seconds == 5.0
    assert isinstance(config.fetch.timeout_seconds, float)  # an int where a float belongs
    assert isinstance(config.cluster.window_days, float)
    assert config.cluster.threshold == 0.45
    assert config.schedule == ScheduleConfig(fetch="0 * * * *", email=None)
    assert config.site.base_url == "https://news.example.org/daily/"
    assert config.email.recipients == ("a@example.org", "B <b@example.org>")
    assert config.email.out_dir is None
    assert (config.email.smtp.security, config.email.smtp.port) == ("ssl", 465)
    assert config.tz == ZoneInfo("America/New_York")


def test_config_is_frozen(tmp_path: Path) -> None:
    config = config_from_mapping({}, tmp_path / "config.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.timezone = "Asia/Tokyo"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.email.smtp.port = 25  # type: ignore[misc]


# --- config_from_mapping -------------------------------------------------------------------------


def test_config_from_mapping_builds_a_config(tmp_path: Path) -> None:
    data = {
        "database": "db/x.db",
        "feeds": [{"url": "corpus/a.xml", "outlet": "A"}],
        "topics": [{"slug": "nvidia", "name": "NVIDIA", "keywords": ["Nvidia"]}],
    }
    config = config_from_mapping(data, tmp_path / "demo.yaml")
    assert config.path == tmp_path / "demo.yaml"
    assert config.database == tmp_path / "db" / "x.db"
    assert config.feeds == (FeedConfig(url=(tmp_path / "corpus" / "a.xml").as_uri(), outlet="A"),)
    assert [t.slug for t in config.topics] == ["nvidia"]


def test_config_from_mapping_names_the_display_or_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"fetch": {"per_host": 0}}, tmp_path / "demo.yaml", display="<demo>")
    assert str(info.value) == "<demo>: fetch.per_host: expected an integer of at least 1"
    with pytest.raises(ConfigError) as info:
        config_from_mapping(["not", "a", "mapping"], tmp_path / "demo.yaml")
    assert (
        str(info.value)
        == f"{tmp_path / 'demo.yaml'}: expected a mapping of settings at the top level"
    )


def test_config_from_mapping_makes_a_relative_path_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_from_mapping({"site": {"output_dir": "out"}}, Path("cfg/config.yaml"))
    assert config.path == tmp_path / "cfg" / "config.yaml"
    assert config.site.output_dir == tmp_path / "cfg" / "out"


def test_importing_config_does_not_import_the_scheduler() -> None:
    """APScheduler is only needed to check cron expressions, so it is imported then."""
    code = "import sys, tracker.config; print('apscheduler' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
