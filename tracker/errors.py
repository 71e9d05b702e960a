"""The exceptions tracker raises on purpose, all under one base.

::

    TrackerError
    ├── ConfigError     bad config.yaml: the message names the file and the key path
    ├── StoreError      database missing, locked, read-only, disk full
    │   └── BusyError   another run holds the database lock (exit status 3)
    ├── FeedError(url)
    │   ├── FetchError  network failure, timeout, refused status, body too large
    │   └── ParseError  not a feed, or damage we cannot survive
    ├── MailError       SMTP unreachable or message refused
    └── OpmlError       an OPML file we refuse to read (not OPML, a DOCTYPE, too large)

Only what a user can act on is wrapped; bugs propagate with their traceback. Messages are
lower case, ``what failed: subject``; the cause is chained (``raise ... from e``) and appended
by whoever prints it.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every error tracker raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TrackerError):
    """The configuration is wrong; the message reads ``config.yaml: <key path>: <problem>``."""


class StoreError(TrackerError):
    """The database cannot be opened, read or written."""


class FeedError(TrackerError):
    """Something went wrong with one feed; ``url`` names it."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        return f"{self.message}: {self.url}"


class FetchError(FeedError):
    """The feed could not be retrieved (network, timeout, HTTP status, size cap)."""

    def __init__(
        self, url: str, message: str, status: int | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(url, message)
        self.status = status
        # The raw Retry-After header of a 429 or 503 (seconds or an HTTP date), if any.
        self.retry_after = retry_after


class ParseError(FeedError):
    """The retrieved bytes are not a feed we can read anything from."""


class MailError(TrackerError):
    """The digest email could not be built or delivered."""


class OpmlError(TrackerError):
    """An OPML file is not one we accept: not well-formed, no <body>, a DOCTYPE, too large."""


class BusyError(StoreError):
    """Another run holds the database lock (tracker.lock); the CLI exits with status 3."""


def describe(error: BaseException) -> str:
    """One line for a user: the error, then each chained cause after a colon."""
    parts = [str(error) or type(error).__name__]
    cause = error.__cause__
    while cause is not None:
        text = str(cause) or type(cause).__name__
        if text not in parts[-1]:
            parts.append(text)
        cause = cause.__cause__
    return ": ".join(parts)
