"""Read config.yaml into a frozen Config; every error names the file and the key path.

Validation is table driven. Each section is a table ``key -> (check, default)``; a check turns
one raw YAML value into its typed value or raises ``_Invalid(key path, problem)``. Defaults are
written the way YAML would say them and go through the same checks, so the default
``database: tracker.db`` is resolved against the config's folder exactly like a configured one.
``config_from_mapping`` turns the first problem into::

    ConfigError("config.yaml: feeds[3].url: expected a string")
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tracker.errors import ConfigError
from tracker.models import Topic, TopicNear

# --- the configuration, as the rest of tracker sees it --------------------------------------


@dataclass(frozen=True)
class FeedConfig:
    """One feed to follow. ``url`` is http(s) as given, or an absolute ``file://`` URL."""

    url: str
    outlet: str = ""  # several feeds of one outlet count once
    title: str = ""
    aggregator: bool = False  # Hacker News, Slashdot, Techmeme, Google News...
    category: str = ""


@dataclass(frozen=True)
class FetchConfig:
    timeout_seconds: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    concurrency: int = 8
    per_host: int = 2
    user_agent: str = "tracker/0.1 (+https://github.com/tracker-news/tracker)"
    # Issue 3: the adaptive schedule's bounds and the connect timeout.
    min_interval_minutes: int = 15
    max_interval_minutes: int = 1440
    connect_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class ClusterConfig:
    window_days: float = 3.0
    threshold: float | None = None  # None: the clustering module's tuned default


@dataclass(frozen=True)
class ScheduleConfig:
    """5-field crontab expressions, checked with APScheduler's own parser."""

    fetch: str = "*/30 * * * *"
    digest: str = "5 7 * * *"
    email: str | None = "10 7 * * *"  # None: no email job


@dataclass(frozen=True)
class DigestConfig:
    title: str = "Tech news digest"
    max_top_stories: int = 25
    max_stories_per_topic: int = 8
    timeline_days: int = 14


@dataclass(frozen=True)
class SiteConfig:
    output_dir: Path  # absolute
    base_url: str = ""  # "" (unknown) or an absolute http(s) URL, normalised to end with "/"


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password_env: str = "TRACKER_SMTP_PASSWORD"  # the variable's name, never the password
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class EmailConfig:
    enabled: bool = False  # when true, `tracker run` sends the digest by SMTP
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject_prefix: str = ""
    out_dir: Path | None = None  # when set, `tracker run` also writes digest-YYYY-MM-DD.eml here
    smtp: SmtpConfig = SmtpConfig()


@dataclass(frozen=True)
class Config:
    path: Path  # the config file, absolute
    database: Path  # absolute
    timezone: str  # IANA name
    feeds: tuple[FeedConfig, ...]
    topics: tuple[Topic, ...]
    fetch: FetchConfig
    cluster: ClusterConfig
    schedule: ScheduleConfig
    digest: DigestConfig
    site: SiteConfig
    email: EmailConfig
    # Issue 7: entries published longer ago than this lose their bodies (content_html);
    # None keeps everything. Stories, timelines and digests are kept.
    retention_days: int | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --- loading ---------------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; errors start with ``path`` as the user wrote it."""
    display = str(path)
    data = _read_yaml(Path(path), display)
    if data is None:
        raise ConfigError(f"{display}: the file is empty; expected a mapping of settings")
    return config_from_mapping(data, Path(path), display=display)


def config_from_mapping(data: object, path: Path, *, display: str | None = None) -> Config:
    """Validate already-parsed YAML as if it had been read from ``path``."""
    shown = str(path) if display is None else display
    path = _absolute(path)
    try:
        if not isinstance(data, Mapping):
            raise _Invalid("", "expected a mapping of settings at the top level")
        values = _fields(data, "", _top_level(path.parent))
    except _Invalid as e:
        where = f"{e.where}: " if e.where else ""
        # The cause (a ZoneInfo or cron error) is kept; the internal _Invalid is not news.
        raise ConfigError(f"{shown}: {where}{e.problem}") from e.__cause__
    return Config(path=path, **values)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, except that a key repeated in one mapping is an error, not silently dropped.

    YAML requires unique keys; PyYAML keeps the last one, which would hide a second ``email:``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        problem=f"duplicate key {key_node.value!r}",
                        problem_mark=key_node.start_mark,
                    )
                seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _read_yaml(path: Path, display: str) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        reason = e.strerror or str(e)
        raise ConfigError(f"{display}: cannot read: {reason[:1].lower()}{reason[1:]}") from e
    except UnicodeDecodeError as e:
        problem = f"not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start})"
        raise ConfigError(f"{display}: cannot read: {problem}") from e
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: safe as safe_load
    except yaml.YAMLError as e:
        line, problem = _yaml_problem(e, text)
        raise ConfigError(f"{display}: line {line}: invalid YAML: {problem}") from e


def _yaml_problem(error: yaml.YAMLError, text: str) -> tuple[int, str]:
    """The 1-based line and the short problem of a PyYAML error."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark and error.context_mark and mark.index >= len(text.rstrip()):
            mark = error.context_mark  # "got <stream end>": the line that opened it is the news
        problem = error.problem or error.context or "syntax error"
        return (mark.line + 1 if mark else 1), problem
    position = getattr(error, "position", 0)  # a ReaderError: bad character, no mark
    return text.count("\n", 0, position) + 1, str(error).splitlines()[0]


# --- checks: raw YAML value + key path -> typed value -----------------------------------------

Check = Callable[[object, str], Any]
Fields = Mapping[str, tuple[Check, object]]
_REQUIRED = object()


class _Invalid(Exception):
    """One problem at one key path; becomes a ConfigError once the file name is known."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _fields(value: object, where: str, fields: Fields) -> dict[str, Any]:
    """Check a mapping against a table; unknown keys first, since a typo explains the rest."""
    if value is None:  # a section whose every line is commented out
        value = {}
    if not isinstance(value, Mapping):
        raise _Invalid(where, "expected a mapping")
    for key in value:
        if key not in fields:
            raise _Invalid(_join(where, str(key)), _HINTS.get(str(key), "unknown key"))
    out: dict[str, Any] = {}
    for key, (check, default) in fields.items():
        path = _join(where, key)
        if key in value:
            out[key] = check(value[key], path)
        elif default is _REQUIRED:
            raise _Invalid(path, "required")
        else:
            out[key] = check(default, path)
    return out


def _record(
    cls: Callable[..., Any], fields: Fields, rule: Callable[[Any, str], None] | None = None
) -> Check:
    """A check that builds ``cls`` from a mapping, then applies a cross-field ``rule``."""

    def check(value: object, where: str) -> Any:
        made = cls(**_fields(value, where, fields))
        if rule is not None:
            rule(made, where)
        return made

    return check


def _list(item: Check, *, non_empty: bool = False, unique: tuple[str, str] | None = None) -> Check:
    """A list of ``item``; ``unique=(attribute, problem)`` rejects a repeated attribute."""

    def check(value: object, where: str) -> tuple[Any, ...]:
        if value is None:
            value = []
        if not isinstance(value, list):
            raise _Invalid(where, "expected a list")
        if non_empty and not value:
            raise _Invalid(where, "expected at least one item")
        items = tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))
        if unique is not None:
            _check_unique(items, where, *unique)
        return items

    return check


def _check_unique(items: tuple[Any, ...], where: str, attribute: str, problem: str) -> None:
    seen: set[object] = set()
    for i, made in enumerate(items):
        key = getattr(made, attribute)
        if key in seen:
            raise _Invalid(f"{where}[{i}].{attribute}", problem.format(key))
        seen.add(key)


def _optional(check: Check) -> Check:
    return lambda value, where: None if value is None else check(value, where)


def _or_blank(check: Check) -> Check:
    """``""`` stands for "not set"; anything else must pass ``check``."""
    return lambda value, where: "" if value == "" else check(value, where)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(where, "expected a string")
    return value


def _name(value: object, where: str) -> str:
    text = _text(value, where)
    if not text.strip():
        raise _Invalid(where, "expected a non-empty string")
    return text


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(where, "expected true or false")
    return value


def _integer(low: int, high: int | None = None) -> Check:
    def check(value: object, where: str) -> int:
        # YAML's true is a Python int; a flag where a count belongs is a mistake.
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(where, "expected an integer")
        if value < low:
            raise _Invalid(where, f"expected an integer of at least {low}")
        if high is not None and value > high:
            raise _Invalid(where, f"expected an integer of at most {high}")
        return value

    return check


def _number(at_most: float | None = None) -> Check:
    """A number greater than 0; ints are welcome where floats are expected."""

    def check(value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(where, "expected a number")
        if not math.isfinite(value) or value <= 0:
            raise _Invalid(where, "expected a number greater than 0")
        if at_most is not None and value > at_most:
            raise _Invalid(where, f"expected a number of at most {at_most:g}")
        return float(value)

    return check


def _choice(*options: str) -> Check:
    def check(value: object, where: str) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            raise _Invalid(where, f"expected one of {', '.join(options)}")
        return value.lower()

    return check


def _matching(pattern: str, expected: str) -> Check:
    def check(value: object, where: str) -> str:
        text = _text(value, where)
        if not re.fullmatch(pattern, text):
            raise _Invalid(where, f"expected {expected}, got {text!r}")
        return text

    return check


def _address(value: object, where: str) -> str:
    text = _name(value, where)
    if "@" not in parseaddr(text)[1]:
        raise _Invalid(where, f"expected an email address, got {text!r}")
    return text


def _split(text: str, where: str) -> SplitResult:
    try:
        parts = urlsplit(text)
        _ = parts.port  # parsed lazily: a bad port raises only here
    except ValueError as e:
        raise _Invalid(where, f"invalid URL: {str(e).lower()}") from e
    return parts


def _web_url(value: object, where: str) -> str:
    text = _text(value, where)
    parts = _split(text, where)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(where, f"expected an absolute http(s) URL, got {text!r}")
    # With a trailing slash, urljoin(base_url, "topics/x.html") stays under the site's folder.
    return text if text.endswith("/") else text + "/"


def _timezone(value: object, where: str) -> str:
    text = _text(value, where)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:  # OSError: a folder, "Europe"
        raise _Invalid(where, f"unknown time zone {text!r}") from e
    return text


def _cron(value: object, where: str) -> str:
    # Imported here: only validation needs the scheduler, and it is slow to import.
    from apscheduler.triggers.cron import CronTrigger

    text = _text(value, where)
    try:
        CronTrigger.from_crontab(text, timezone="UTC")  # the zone does not change validity
    except ValueError as e:
        raise _Invalid(where, f"bad cron expression {text!r}: {e}") from e
    return text


def _absolute(path: str | Path, base: Path | None = None) -> Path:
    """``path`` made absolute against ``base`` (default: the working folder) and normalised.

    Symlinks are not resolved, so the path a user sees in messages is the one they wrote.
    """
    full = Path(path).expanduser()
    return Path(os.path.abspath(full if base is None else base / full))


def _path(base: Path) -> Check:
    """A file or folder path, relative to the config file's folder."""
    return lambda value, where: _absolute(_name(value, where), base)


def _feed_url(base: Path) -> Check:
    """http(s) URLs as given; a file: URL or a plain path becomes an absolute file:// URL."""

    def check(value: object, where: str) -> str:
        text = _name(value, where)
        parts = _split(text, where)
        if parts.scheme in ("http", "https"):
            if not parts.hostname:
                raise _Invalid(where, "missing host")
            if any(c.isspace() for c in text):
                raise _Invalid(where, "invalid URL: contains a space")
            return text
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise _Invalid(
                    where,
                    f"file URL with a host {parts.netloc!r}; "
                    "write file:///absolute/path or a plain relative path",
                )
            return _absolute(url2pathname(parts.path), base).as_uri()
        if len(parts.scheme) > 1:  # one letter is a Windows drive, C:\feeds\x.xml
            raise _Invalid(where, f"unsupported scheme {parts.scheme!r}")
        return _absolute(text, base).as_uri()

    return check


# --- the tables ------------------------------------------------------------------------------

# Friendlier words for keys people are likely to write by mistake.
_HINTS = {
    "password": "unknown key; put the password in the environment variable named by password_env",
}

_TOPIC_NEAR = _record(
    TopicNear,
    {
        "terms": (_list(_name, non_empty=True), _REQUIRED),
        "with_terms": (_list(_name, non_empty=True), _REQUIRED),
        "within": (_integer(1, 50), TopicNear.within),
    },
)

_TOPIC = _record(
    Topic,
    {
        "slug": (_matching(r"[a-z0-9-]+", "lower-case letters, digits and hyphens"), _REQUIRED),
        "name": (_name, _REQUIRED),
        "keywords": (_list(_name, non_empty=True), _REQUIRED),
        "aliases": (_list(_name), []),
        "exclude": (_list(_name), []),
        "description": (_text, ""),
        "weak": (_list(_name), []),
        "near": (_list(_TOPIC_NEAR), []),
    },
)

_FETCH: Fields = {
    "timeout_seconds": (_number(), FetchConfig.timeout_seconds),
    "max_bytes": (_integer(1), FetchConfig.max_bytes),
    "concurrency": (_integer(1), FetchConfig.concurrency),
    "per_host": (_integer(1), FetchConfig.per_host),
    "user_agent": (_name, FetchConfig.user_agent),
    "min_interval_minutes": (_integer(1, 10080), FetchConfig.min_interval_minutes),
    "max_interval_minutes": (_integer(1, 10080), FetchConfig.max_interval_minutes),
    "connect_timeout_seconds": (_number(), FetchConfig.connect_timeout_seconds),
}


def _fetch_rule(fetch: FetchConfig, where: str) -> None:
    if fetch.max_interval_minutes < fetch.min_interval_minutes:
        raise _Invalid(
            _join(where, "max_interval_minutes"), "must not be less than min_interval_minutes"
        )


_CLUSTER: Fields = {
    "window_days": (_number(), ClusterConfig.window_days),
    "threshold": (_optional(_number(at_most=1.0)), None),
}

_SCHEDULE: Fields = {
    "fetch": (_cron, ScheduleConfig.fetch),
    "digest": (_cron, ScheduleConfig.digest),
    "email": (_optional(_cron), ScheduleConfig.email),
}

_DIGEST: Fields = {
    "title": (_text, DigestConfig.title),
    "max_top_stories": (_integer(0), DigestConfig.max_top_stories),
    "max_stories_per_topic": (_integer(0), DigestConfig.max_stories_per_topic),
    "timeline_days": (_integer(1), DigestConfig.timeline_days),
}

_SMTP: Fields = {
    "host": (_name, SmtpConfig.host),
    "port": (_integer(1, 65535), SmtpConfig.port),
    "security": (_choice("starttls", "ssl", "none"), SmtpConfig.security),
    "username": (_text, SmtpConfig.username),
    "password_env": (
        _matching(r"[A-Za-z_][A-Za-z0-9_]*", "the name of an environment variable"),
        SmtpConfig.password_env,
    ),
    "timeout_seconds": (_number(), SmtpConfig.timeout_seconds),
}


def _email_rule(email: EmailConfig, where: str) -> None:
    if email.enabled and not email.sender:
        raise _Invalid(_join(where, "sender"), "required when email.enabled is true")
    if email.enabled and not email.recipients:
        raise _Invalid(_join(where, "recipients"), "required when email.enabled is true")


def _top_level(base: Path) -> Fields:
    """The whole file; path-valued checks need the config's folder, hence a function."""
    feed = _record(
        FeedConfig,
        {
            "url": (_feed_url(base), _REQUIRED),
            "outlet": (_text, ""),
            "title": (_text, ""),
            "aggregator": (_flag, False),
            "category": (_text, ""),
        },
    )
    site = _record(
        SiteConfig, {"output_dir": (_path(base), "site"), "base_url": (_or_blank(_web_url), "")}
    )
    email = _record(
        EmailConfig,
        {
            "enabled": (_flag, False),
            "sender": (_or_blank(_address), ""),
            "recipients": (_list(_address), []),
            "subject_prefix": (_text, ""),
            "out_dir": (_optional(_path(base)), None),
            "smtp": (_record(SmtpConfig, _SMTP), {}),
        },
        _email_rule,
    )
    return {
        "database": (_path(base), "tracker.db"),
        "timezone": (_timezone, "UTC"),
        "feeds": (_list(feed, unique=("url", "duplicate feed URL")), []),
        "topics": (_list(_TOPIC, unique=("slug", "duplicate slug {!r}")), []),
        "fetch": (_record(FetchConfig, _FETCH, _fetch_rule), {}),
        "cluster": (_record(ClusterConfig, _CLUSTER), {}),
        "schedule": (_record(ScheduleConfig, _SCHEDULE), {}),
        "digest": (_record(DigestConfig, _DIGEST), {}),
        "site": (site, {}),
        "email": (email, {}),
        "retention_days": (_optional(_integer(1)), None),
    }
