"""config.yaml's cron expressions -> APScheduler jobs that call the app's use cases.

This module knows nothing about feeds: each job opens its own App (and so its own SQLite
connection, since connections belong to the thread that made them), takes the database lock
(waiting while a cron ``tracker run`` or another job holds it), runs one use case, logs one
line and closes. A job that raises is logged and the daemon goes on.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from tracker.config import Config
from tracker.errors import BusyError, TrackerError, describe

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from tracker.app import App

log = logging.getLogger("tracker.schedule")

#: How long a job waits for the database lock before it gives this turn up.
JOB_LOCK_WAIT = 30 * 60.0
#: Set on SIGTERM/SIGINT: a job still waiting for the lock stops waiting.
stopping = threading.Event()


def fetch_job(app: App) -> str:
    report = app.fetch()
    clustered = app.cluster()
    app.update_topics()
    return (
        f"fetch: {report.fetched} fetched, {report.not_modified} unchanged, "
        f"{len(report.failed)} failed, {report.new_entries} new entries, {clustered} clustered"
    )


def digest_job(app: App) -> str:
    site = app.build_site()
    return f"digest: site rebuilt, {len(site.written)} pages written"


def email_job(app: App) -> str:
    day = app.today()
    message = app.email(day)
    cfg = app.config.email
    notes = []
    if cfg.out_dir is not None:
        from tracker.mail import write_eml

        path = cfg.out_dir / f"digest-{day.isoformat()}.eml"
        write_eml(message, path)
        notes.append(f"written to {path}")
    if cfg.enabled:
        app.send_email(message)
        notes.append(f"sent to {', '.join(cfg.recipients)}")
    return f"email for {day}: {'; '.join(notes) or 'nothing to do (email disabled)'}"


def run_job(config: Config, job: Callable[[App], str]) -> None:
    """Run one job with a fresh App; log its outcome, never raise a TrackerError."""
    from tracker.app import App

    started = time.monotonic()
    name = job.__name__
    try:
        with App(config) as app, app.lock(wait=JOB_LOCK_WAIT, cancel=stopping):
            outcome = job(app)
        log.info("%s (%.1f s)", outcome, time.monotonic() - started)
    except BusyError as e:
        log.warning("%s skipped: %s", name, describe(e))
    except TrackerError as e:
        log.error("%s failed: %s", name, describe(e))
    except Exception:  # a bug: logged with its traceback (on one line); the daemon goes on
        log.exception("%s crashed", name)


def jobs(config: Config) -> list[tuple[str, str, Callable[[App], str]]]:
    """(name, crontab, job) for every scheduled job of the config."""
    out: list[tuple[str, str, Callable[[App], str]]] = [
        ("fetch", config.schedule.fetch, fetch_job),
        ("digest", config.schedule.digest, digest_job),
    ]
    if config.schedule.email:
        out.append(("email", config.schedule.email, email_job))
    return out


def make_scheduler(config: Config) -> BlockingScheduler:
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BlockingScheduler(
        timezone=config.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
    )
    for name, crontab, job in jobs(config):
        scheduler.add_job(
            run_job,
            CronTrigger.from_crontab(crontab, timezone=config.timezone),
            args=(config, job),
            id=name,
            name=name,
        )
    return scheduler


def serve(config: Config) -> None:
    """Run the daemon until SIGTERM or SIGINT; then stop cleanly."""
    scheduler = make_scheduler(config)
    stopping.clear()

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the running job", signum)
        stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        else:  # the signal came before the scheduler started: nothing is running yet
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for job in scheduler.get_jobs():
        log.info("scheduled %s: %s", job.name, job.trigger)
    scheduler.start()
