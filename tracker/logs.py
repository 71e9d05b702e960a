"""Logging for the command line and the daemon: one line per event, on stderr.

Verbosity, from ``tracker --quiet`` / default / ``--verbose``:

    quiet    errors only
    default  warnings (a feed failed, moved, gone); info too for the daemon and at a terminal
    verbose  everything, one line per feed fetched

Under cron (no terminal) a run that went well prints nothing, so cron mails nobody; a run
where something needs a look prints it. Lines carry a timestamp when they go to a file or
journal, and never span lines: a newline inside a message (an error quoting a feed) is
escaped, so ``grep`` and log rotation see one event per line.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

QUIET, NORMAL, VERBOSE = -1, 0, 1
LOGGER = "tracker"


class OneLineFormatter(logging.Formatter):
    """A formatter whose records never span lines (tracebacks are folded with `` | ``)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\r", "\\r").replace("\n", " | ")


def level_for(verbosity: int, *, interactive: bool, daemon: bool = False) -> int:
    if verbosity <= QUIET:
        return logging.ERROR
    if verbosity >= VERBOSE:
        return logging.DEBUG
    return logging.INFO if (interactive or daemon) else logging.WARNING


def setup(
    verbosity: int = NORMAL,
    *,
    interactive: bool | None = None,
    daemon: bool = False,
    stream: TextIO | None = None,
) -> logging.Logger:
    """Send the ``tracker`` loggers to ``stream`` (stderr) at the level ``verbosity`` asks.

    Calling it again replaces the handler, so tests and repeated CLI calls do not stack them.
    """
    out = stream if stream is not None else sys.stderr
    if interactive is None:
        interactive = _isatty(out)
    handler = logging.StreamHandler(out)
    handler._tracker = True  # type: ignore[attr-defined]
    fmt = "%(message)s" if interactive else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(OneLineFormatter(fmt, datefmt="%Y-%m-%dT%H:%M:%S%z"))
    logger = logging.getLogger(LOGGER)
    # APScheduler's own lines ("Scheduler started", "Running job ...") for the daemon.
    scheduler = logging.getLogger("apscheduler")
    for each, level in (
        (logger, level_for(verbosity, interactive=interactive, daemon=daemon)),
        (scheduler, logging.INFO if verbosity >= VERBOSE or daemon else logging.WARNING),
    ):
        for old in [h for h in each.handlers if getattr(h, "_tracker", False)]:
            each.removeHandler(old)
        each.addHandler(handler)
        each.setLevel(level)
        each.propagate = False
    return logger


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
