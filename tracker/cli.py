"""The command line: parse arguments, load the config, call the app, map errors to exit codes.

Exit status: 0 success; 1 an error the user can act on (``Error: …`` on stderr); 2 bad usage;
3 another run holds the database lock (``--wait`` waits instead); 4 every feed failed.
Heavy modules are imported inside the commands, so ``tracker --help`` answers at once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tracker import __version__
from tracker.errors import BusyError, TrackerError, describe

if TYPE_CHECKING:
    from tracker.app import App, FetchReport
    from tracker.config import Config
    from tracker.models import FeedState, Story

F = TypeVar("F", bound=Callable[..., Any])

#: Exit statuses (README "Exit status"; `tracker --help`).
EXIT_ERROR, EXIT_USAGE, EXIT_BUSY, EXIT_ALL_FAILED = 1, 2, 3, 4


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: object) -> None:
    click.echo(json.dumps(data, default=_json_default, indent=2, ensure_ascii=False))


class Context:
    """What the group options leave for the commands."""

    def __init__(self, config_path: str | None, *, wait: bool = False, verbosity: int = 0) -> None:
        self.config_path = config_path or os.environ.get("TRACKER_CONFIG") or "config.yaml"
        self._config: Config | None = None
        self.wait = wait  # --wait: wait for the database lock instead of exiting with 3
        self.verbosity = verbosity  # -1 --quiet, 0 default, 1 --verbose

    @property
    def lock_wait(self) -> float:
        import math

        return math.inf if self.wait else 0

    @property
    def config(self) -> Config:
        if self._config is None:
            from tracker.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @contextmanager
    def app(self) -> Iterator[App]:
        from tracker.app import App

        with App(self.config) as app:
            yield app


pass_ctx = click.make_pass_decorator(Context)


class TrackerGroup(click.Group):
    """A click group that turns TrackerError into ``Error: …`` and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BusyError as e:
            click.echo(f"Error: {describe(e)}", err=True)
            ctx.exit(EXIT_BUSY)
        except TrackerError as e:
            click.echo(f"Error: {describe(e)}", err=True)
            ctx.exit(EXIT_ERROR)


def parse_day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2025-01-27, got {value!r}") from None


date_option = click.option(
    "--date",
    "day",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="The day (default: today in the configured time zone).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    help="The config file (default: $TRACKER_CONFIG, else ./config.yaml).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="When another run holds the database lock, wait for it (default: exit 3 at once).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every event (one line per feed).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, wait: bool, verbose: bool, quiet: bool
) -> None:
    """tracker: tech-news feeds in, stories, topics and a daily digest out.

    Under cron (no terminal) a run that went well prints nothing; a failing feed or an
    error is printed, so cron mails it.

    \b
    Exit status:
      0  success            1  error (Error: … on stderr)    2  bad usage
      3  another run holds the database lock (use --wait to wait for it)
      4  every feed failed (run and fetch)

    \b
    Example:
      tracker demo --out site     # the bundled January 2025 corpus, offline
      tracker --config config.yaml run
    """
    if verbose and quiet:
        raise click.UsageError("--verbose and --quiet exclude each other")
    from tracker import logs

    verbosity = logs.VERBOSE if verbose else logs.QUIET if quiet else logs.NORMAL
    logs.setup(verbosity, daemon=ctx.invoked_subcommand == "schedule")
    ctx.obj = Context(config_path, wait=wait, verbosity=verbosity)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    default="site",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to build the demo site.",
)
def demo(out_dir: str) -> None:
    """Replay the bundled January 2025 corpus and build the whole site, offline.

    \b
    Example:
      tracker demo --out /tmp/demo && xdg-open /tmp/demo/index.html
    """
    from tracker.demo import run_demo

    report = run_demo(Path(out_dir), say=click.echo)
    first, last = report.days[0], report.days[-1]
    click.echo(
        f"\n{report.entries} entries in {report.stories} stories over {len(report.days)} days "
        f"({first} to {last}); {report.pages} pages.\n"
        f"  site:   {report.out_dir / 'index.html'}\n"
        f"  27 Jan: {report.out_dir / 'days' / '2025-01-27.html'}\n"
        f"  email:  {report.eml}\n"
        f"  config: {report.config}  (try: tracker --config {report.config} topics show deepseek)"
    )


@cli.command()
@pass_ctx
def run(obj: Context) -> None:
    """The cron job: fetch due feeds, cluster, topics, site, email when configured.

    \b
    Example (crontab, every hour):
      0 * * * *  cd /srv/tracker && tracker run >> tracker.log 2>&1
    """
    with obj.app() as app, app.lock(wait=obj.lock_wait):
        r = app.run()
    if _tell(obj, r.fetch):
        click.echo(
            f"fetched {r.fetch.fetched}, not modified {r.fetch.not_modified}, "
            f"failed {len(r.fetch.failed)}, "
            f"{r.fetch.new_entries} new entries, {r.clustered} clustered; digest {r.day}; "
            f"{r.pages_written} pages written" + (f"; email {r.email}" if r.email else "")
        )
    _fetch_warnings(r.fetch, obj)
    _exit_if_all_failed(r.fetch)


@cli.command()
@pass_ctx
def schedule(obj: Context) -> None:
    """Run as a daemon: the fetch, digest and email jobs at config.yaml's cron times.

    \b
    Example:
      tracker --config /etc/tracker/config.yaml schedule
    """
    from tracker.schedule import serve

    serve(obj.config)


@cli.command()
@click.option("--all", "all_feeds", is_flag=True, help="Fetch every feed, not only those due.")
@json_option
@pass_ctx
def fetch(obj: Context, all_feeds: bool, as_json: bool) -> None:
    """Fetch due feeds and store their new entries (then place them in stories).

    \b
    Example:
      tracker fetch --all
    """
    with obj.app() as app, app.lock(wait=obj.lock_wait):
        todo = app.feeds_to_fetch(all_feeds=all_feeds)
        # A progress bar only for a person at a terminal; under cron, the summary alone.
        if not as_json and len(todo) > 1 and _interactive():
            with click.progressbar(length=len(todo), label="fetching", file=sys.stderr) as bar:
                report = app.fetch(feeds=todo, progress=lambda _: bar.update(1))
        else:
            report = app.fetch(feeds=todo)
        clustered = app.cluster()
        app.update_topics()
    if as_json:
        print_json({**asdict(report), "clustered": clustered})
        _exit_if_all_failed(report, say=False)
        return
    if _tell(obj, report):
        click.echo(
            f"fetched {report.fetched}, not modified {report.not_modified}, "
            f"failed {len(report.failed)}; "
            f"{report.new_entries} new entries, {clustered} placed in stories"
        )
    _fetch_warnings(report, obj)
    _exit_if_all_failed(report)


def _interactive() -> bool:
    """Whether a person is watching: stderr (where the bar goes) is a terminal."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def _needs_a_look(report: FetchReport) -> bool:
    return bool(report.failed or report.moved or report.gone)


def _tell(obj: Context, report: FetchReport) -> bool:
    """Whether to print a run's summary line: silence under cron when all went well."""
    from tracker.logs import NORMAL, VERBOSE

    if obj.verbosity >= VERBOSE:
        return True
    return obj.verbosity == NORMAL and (_interactive() or _needs_a_look(report))


def _exit_if_all_failed(report: FetchReport, *, say: bool = True) -> None:
    """Exit 4 when feeds were tried and none could be read: cron should mail that."""
    if report.failed and not report.fetched and not report.not_modified:
        if say:
            click.echo(
                f"Error: every feed failed ({len(report.failed)}); see tracker feeds list",
                err=True,
            )
        click.get_current_context().exit(EXIT_ALL_FAILED)


def _fetch_warnings(report: FetchReport, obj: Context | None = None) -> None:
    """One line per feed that needs a look: failed, moved for good, or retired by 410."""
    if obj is not None and obj.verbosity < 0:  # --quiet
        return
    for _url, message in report.failed:  # the message names the feed
        click.echo(f"  failed: {message}", err=True)
    for old, new in report.moved:
        click.echo(f"  moved: {old} -> {new} (permanent redirect; URL updated)", err=True)
    for url in report.gone:
        click.echo(f"  gone: {url} (410 Gone; no longer fetched)", err=True)


@cli.command()
@date_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "json"]),
    default="text",
    show_default=True,
    help="What to print.",
)
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write to this file instead."
)
@pass_ctx
def digest(obj: Context, day: date | None, fmt: str, out_file: str | None) -> None:
    """Render the digest of one day (default today).

    \b
    Example:
      tracker digest --date 2025-01-27 --format html --out digest.html
    """
    with obj.app() as app:
        d = app.digest(day or app.today())
        if fmt == "json":
            text = json.dumps(d, default=_json_default, indent=2, ensure_ascii=False)
        elif fmt == "html":
            text = app.renderer.digest_page(d, root=".")
        else:
            text = app.renderer.digest_text(d)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_file}")
    else:
        click.echo(text)


@cli.command()
@pass_ctx
def site(obj: Context) -> None:
    """(Re)build the static site; pages that did not change keep their bytes.

    \b
    Example:
      tracker site && python -m http.server -d site
    """
    with obj.app() as app, app.lock(wait=obj.lock_wait):
        report = app.build_site()
    click.echo(
        f"{app.config.site.output_dir}: {len(report.written)} pages written, "
        f"{len(report.unchanged)} unchanged"
    )


@cli.command()
@date_option
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write the message as .eml."
)
@click.option("--send", is_flag=True, help="Send it by SMTP to the configured recipients.")
@pass_ctx
def email(obj: Context, day: date | None, out_file: str | None, send: bool) -> None:
    """Build the digest email of one day; write it as .eml and/or send it.

    With --send the message is written first (to --out, else digest-DAY.eml in email.out_dir
    or the current folder), so a failed send exits 1 with the server's reason and the .eml
    is kept.

    \b
    Example:
      tracker email --date 2025-01-27 --out digest.eml
      tracker email --send
    """
    from tracker.errors import MailError
    from tracker.mail import write_eml

    with obj.app() as app:
        when = day or app.today()
        message = app.email(when)
        if send and not out_file:
            folder = app.config.email.out_dir or Path.cwd()
            out_file = str(folder / f"digest-{when.isoformat()}.eml")
        if out_file:
            write_eml(message, Path(out_file))
            click.echo(f"wrote {out_file}")
        if send:
            try:
                app.send_email(message)
            except MailError as e:
                # The server's reason stays in the message; the .eml written above is kept.
                raise MailError(f"{describe(e)}; the message is kept in {out_file}") from e
            click.echo(f"sent to {', '.join(app.config.email.recipients)}")
        if not out_file and not send:
            sys.stdout.write(message.as_string())


@cli.group()
def feeds() -> None:
    """Manage feeds: list, add, remove, import and export OPML."""


def _feed_row(f: FeedState) -> dict[str, object]:
    return {
        "url": f.url,
        "title": f.title,
        "outlet": f.outlet,
        "category": f.category,
        "source": f.source,
        "status": f.health,
        "last_success": f.last_success,
        "last_fetched": f.last_fetched,
        "last_error": f.last_error,
        "error_count": f.error_count,
        "error_since": f.error_since,
        "next_fetch": f.next_fetch,
        "moved_from": f.moved_from,
    }


def _short_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@feeds.command("list")
@json_option
@pass_ctx
def feeds_list(obj: Context, as_json: bool) -> None:
    """List feeds: status (ok, failing, moved, gone), last success, errors, next fetch.

    Times are UTC. A feed is "moved" for a week after a permanent redirect rewrote its URL,
    and "gone" once a 410 retired it (it is kept, and no longer fetched).

    \b
    Example:
      tracker feeds list --json
    """
    with obj.app() as app:
        rows = app.feed_states()
    if as_json:
        print_json([_feed_row(f) for f in rows])
        return
    for f in rows:
        name = f.outlet or f.title or "-"
        click.echo(
            f"{f.health:8} {f.url}\t{name}\tlast ok {_short_time(f.last_success)}"
            f"\tnext {_short_time(f.next_fetch)}"
        )
        if f.error_count:
            click.echo(
                f"         {f.error_count} errors since {_short_time(f.error_since)}: "
                f"{f.last_error}"
            )
        elif f.last_error:
            click.echo(f"         warning: {f.last_error}")
        if f.moved_from:
            click.echo(f"         moved from {f.moved_from}")
    counts: dict[str, int] = {}
    for f in rows:
        counts[f.health] = counts.get(f.health, 0) + 1
    click.echo(
        f"{len(rows)} feeds: " + ", ".join(f"{counts.get(h, 0)} {h}" for h in _HEALTH), err=True
    )


_HEALTH = ("ok", "failing", "moved", "gone")


def _normalise_feed_url(url: str) -> str:
    from tracker.parse import canonical_url

    if not (url.startswith(("http://", "https://", "file://")) or Path(url).exists()):
        raise click.BadParameter(f"not an http(s) URL or an existing file: {url}", param_hint="URL")
    if url.startswith("http"):
        return canonical_url(url) or url
    if not url.startswith("file://"):
        return Path(url).resolve().as_uri()
    return url


@feeds.command("add")
@click.argument("url")
@click.option(
    "--outlet", default="", help="The outlet's name (several feeds of one outlet count once)."
)
@click.option(
    "--best", is_flag=True, help="When a page links to several equally good feeds, add the first."
)
@click.option(
    "--no-check", is_flag=True, help="Add the URL as it is, without fetching it (feed is down)."
)
@pass_ctx
def feeds_add(obj: Context, url: str, outlet: str, best: bool, no_check: bool) -> None:
    """Add a feed by URL, local path, or the URL of a web page that links to its feeds.

    Given a web page, its <link rel="alternate"> feeds are found and the best one is added
    (the site's own main feed, Atom before RSS); when several are equally good they are
    listed and nothing is added. Feeds listed in config.yaml are managed there.

    \b
    Example:
      tracker feeds add https://www.theregister.com/headlines.atom --outlet "The Register"
      tracker feeds add https://arstechnica.com/
    """
    url = _normalise_feed_url(url)
    with obj.app() as app, app.lock(wait=obj.lock_wait):
        result = app.add_feed(url, outlet=outlet, best=best, check=not no_check)
    if result.outcome == "several":
        click.echo(f"{url} links to {len(result.candidates)} feeds:")
        for c in result.candidates:
            click.echo(f"  {c.url}\t{c.kind}\t{c.title}")
        raise TrackerError(
            "several feeds found; add one by its URL, or use --best to add the first"
        )
    words = {"added": "added", "reactivated": "reactivated", "known": "already there"}
    title = f" ({result.title})" if result.title else ""
    click.echo(f"{words[result.outcome]}: {result.url}{title}")
    others = [c for c in result.candidates if c.url != result.url]
    for c in others:
        click.echo(f"  also found: {c.url}\t{c.kind}\t{c.title}")


@feeds.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_ctx
def feeds_import(obj: Context, file: str, as_json: bool) -> None:
    """Add the feeds of an OPML file (folders become categories); known feeds are kept as is.

    Importing the same file again changes nothing; feeds config.yaml lists keep what
    config.yaml says about them.

    \b
    Example:
      tracker feeds import subscriptions.opml
    """
    data = Path(file).read_bytes()
    with obj.app() as app, app.lock(wait=obj.lock_wait):
        report = app.import_opml(data)
    if as_json:
        print_json(asdict(report))
        return
    for url, why in report.skipped:
        click.echo(f"  skipped: {url}: {why}", err=True)
    click.echo(
        f"{len(report.added)} added, {len(report.reactivated)} reactivated, "
        f"{len(report.known)} already there, {len(report.skipped)} skipped"
    )


@feeds.command("export")
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write to this file, not stdout."
)
@pass_ctx
def feeds_export(obj: Context, out_file: str | None) -> None:
    """Print the followed feeds as OPML 2.0, in folders by category.

    \b
    Example:
      tracker feeds export --out subscriptions.opml
    """
    with obj.app() as app:
        text = app.export_opml()
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_file}")
    else:
        click.echo(text, nl=False)


@feeds.command("remove")
@click.argument("url")
@pass_ctx
def feeds_remove(obj: Context, url: str) -> None:
    """Stop fetching a feed (its entries stay).

    \b
    Example:
      tracker feeds remove https://example.com/feed.xml
    """
    if any(f.url == url for f in obj.config.feeds):
        raise TrackerError(f"feed is listed in {obj.config_path}; remove it there: {url}")
    with obj.app() as app, app.lock(wait=obj.lock_wait):
        known = app.store.get_feed(app.store.resolve(url))
        if known is not None and known.source == "config":
            # It moved (301/308) from a URL config.yaml still lists.
            raise TrackerError(f"feed is listed in {obj.config_path}; remove it there: {url}")
        removed = app.store.remove_feed(url)
    if not removed:
        raise TrackerError(f"no such feed: {url}")
    click.echo(f"removed: {url}")


@cli.group()
def topics() -> None:
    """Topics: list them, show one's timeline and stories."""


@topics.command("list")
@json_option
@pass_ctx
def topics_list(obj: Context, as_json: bool) -> None:
    """List configured topics with their story counts.

    \b
    Example:
      tracker topics list --json
    """
    with obj.app() as app:
        counts = {t.slug: len(app.store.topic_story_ids(t.slug)) for t in app.config.topics}
    if as_json:
        print_json(
            [{"slug": t.slug, "name": t.name, "stories": counts[t.slug]} for t in obj.config.topics]
        )
        return
    for t in obj.config.topics:
        click.echo(f"{t.slug}\t{t.name}\t{counts[t.slug]} stories")


@topics.command("show")
@click.argument("slug")
@click.option("--days", default=14, show_default=True, help="How many days of timeline.")
@json_option
@pass_ctx
def topics_show(obj: Context, slug: str, days: int, as_json: bool) -> None:
    """Show a topic's timeline (stories, entries, outlets per day) and latest stories.

    \b
    Example:
      tracker topics show deepseek --json
    """
    from tracker.topics import days_ending, timeline

    topic = next((t for t in obj.config.topics if t.slug == slug), None)
    if topic is None:
        raise TrackerError(f"no such topic: {slug} (see tracker topics list)")
    with obj.app() as app:
        known = app.days()
        last = known[-1] if known else app.today()
        stories = app.topic_stories(slug)
        line = timeline(stories, days_ending(last, days), app.config.tz)
    if as_json:
        print_json(
            {
                "slug": topic.slug,
                "name": topic.name,
                "timeline": line,
                "stories": [
                    {
                        "id": s.id,
                        "headline": s.headline,
                        "link": s.link,
                        "first_seen": s.first_seen,
                        "last_seen": s.last_seen,
                        "outlets": s.outlets,
                    }
                    for s in stories
                ],
            }
        )
        return
    click.echo(f"{topic.name} ({topic.slug}): {len(stories)} stories")
    click.echo("day          stories  entries  outlets")
    for d in line:
        click.echo(f"{d.day}  {d.stories:7}  {d.entries:7}  {d.outlets:7}")
    for s in stories[:10]:
        click.echo(f"  {s.first_seen:%Y-%m-%d}  [{len(s.outlets)} outlets]  {s.headline}")


@topics.command("test")
@click.argument("slug")
@click.option(
    "--keywords", multiple=True, help="Try these keywords instead (repeatable; a new SLUG is ok)."
)
@click.option("--aliases", multiple=True, help="Aliases to try (repeatable).")
@click.option("--exclude", multiple=True, help="Exclusions to try (repeatable).")
@click.option("--days", default=14, show_default=True, help="How many days of timeline.")
@json_option
@pass_ctx
def topics_test(
    obj: Context,
    slug: str,
    keywords: tuple[str, ...],
    aliases: tuple[str, ...],
    exclude: tuple[str, ...],
    days: int,
    as_json: bool,
) -> None:
    """Dry run: what a topic would match over the stored stories. Nothing is saved.

    Uses the topic from config.yaml, or the --keywords/--aliases/--exclude given instead.
    Editing the topic in config.yaml re-applies it to all stored stories on the next run.

    \b
    Example:
      tracker topics test deepseek
      tracker topics test janus --keywords "Janus Pro" --keywords Janus-Pro
    """
    from dataclasses import replace

    from tracker.models import Topic

    topic = next((t for t in obj.config.topics if t.slug == slug), None)
    if topic is None and not keywords:
        raise TrackerError(f"no such topic: {slug} (give --keywords to try a new one)")
    if topic is None:
        topic = Topic(slug=slug, name=slug, keywords=())
    if keywords:
        topic = replace(topic, keywords=keywords)
    if aliases:
        topic = replace(topic, aliases=aliases)
    if exclude:
        topic = replace(topic, exclude=exclude)
    with obj.app() as app:
        result = app.test_topic(topic, days)
    if as_json:
        print_json(
            {
                "slug": topic.slug,
                "keywords": topic.keywords,
                "aliases": topic.aliases,
                "exclude": topic.exclude,
                "stories": result.stories,
                "entries": result.entries,
                "timeline": result.timeline,
                "sample": [{"headline": h, "terms": t} for h, t in result.sample],
            }
        )
        return
    click.echo(
        f"{topic.slug} would match {result.stories} stories, {result.entries} entries "
        "(dry run: nothing saved)"
    )
    click.echo("day          stories  entries  outlets")
    for d in result.timeline:
        click.echo(f"{d.day}  {d.stories:7}  {d.entries:7}  {d.outlets:7}")
    for headline, terms in result.sample:
        click.echo(f"  [{terms}]  {headline}")


@cli.command("eval-topics")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--topic", "only", multiple=True, help="Score only this topic (repeatable).")
@click.option(
    "--stories",
    "via_stories",
    is_flag=True,
    help="Cluster first; each entry gets its story's topics (default: each entry alone).",
)
@json_option
@pass_ctx
def eval_topics(
    obj: Context, file: str, only: tuple[str, ...], via_stories: bool, as_json: bool
) -> None:
    """Score the configured topics' matching on a JSON Lines file with gold `topics` lists.

    Precision, recall and F1 per topic at entry level, with the pipeline's matching and the
    topics of config.yaml. By default the topics the file's labels use are scored.

    \b
    Example:
      tracker eval-topics tech-dev-2025-01.jsonl --json
    """
    from tracker.cluster import DEFAULT_PARAMS
    from tracker.evaluate_topics import eval_topics as run_eval
    from tracker.evaluate_topics import format_report

    params = DEFAULT_PARAMS if via_stories else None
    result = run_eval(Path(file), obj.config.topics, only, params)
    if as_json:
        print_json(result)
    else:
        click.echo(format_report(result), nl=False)


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, help="How many results.")
@json_option
@pass_ctx
def search(obj: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over stored entries (SQLite FTS5 syntax).

    \b
    Example:
      tracker search 'deepseek AND nvidia'
    """
    with obj.app() as app:
        found = app.store.search(query, limit)
    if as_json:
        print_json(
            [
                {
                    "id": e.id,
                    "title": e.title,
                    "link": e.link,
                    "outlet": e.outlet,
                    "published": e.published,
                }
                for e in found
            ]
        )
        return
    for e in found:
        click.echo(f"{e.published:%Y-%m-%d}  {e.outlet}  {e.title}\n            {e.link}")


@cli.command("eval-clusters")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@json_option
def eval_clusters(file: str, as_json: bool) -> None:
    """Score the pipeline's story clustering on a labelled JSON Lines file.

    \b
    Example:
      tracker eval-clusters tech-dev-2025-01.jsonl --json
    """
    from tracker.evaluate import eval_clusters as run_eval
    from tracker.evaluate import format_report

    result = run_eval(Path(file))
    if as_json:
        print_json(result)
    else:
        click.echo(format_report(result))


@cli.group()
def stories() -> None:
    """Stories: show one, with why its entries were grouped."""


def _story_json(story: Story) -> dict[str, object]:
    return {
        "id": story.id,
        "headline": story.headline,
        "link": story.link,
        "summary": story.summary,
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "outlets": story.outlets,
        "topics": story.topics,
        "why": story.why,
        "members": [
            {
                "entry_id": m.entry_id,
                "title": m.title,
                "link": m.link,
                "outlet": m.outlet,
                "published": m.published,
                "aggregator": m.aggregator,
                "similarity": m.similarity,
                "joined_terms": m.terms,
            }
            for m in story.members
        ],
    }


@stories.command("show")
@click.argument("story_id")
@json_option
@pass_ctx
def stories_show(obj: Context, story_id: str, as_json: bool) -> None:
    """Show one story: headline, outlets, members and why they were grouped.

    \b
    Example:
      tracker stories show s3f9a0c2d41be --json
    """
    with obj.app() as app:
        found = app.store.stories([story_id])
    if not found:
        raise TrackerError(f"no such story: {story_id}")
    story = found[0]
    if as_json:
        print_json(_story_json(story))
        return
    click.echo(f"{story.headline}\n{story.link}")
    click.echo(f"covered by {len(story.outlets)} outlets: {', '.join(story.outlets)}")
    click.echo(f"shared terms: {', '.join(story.why) or '-'}")
    for m in story.members:
        joined = "first report" if m.similarity >= 1.0 else f"joined at {m.similarity:.2f}"
        terms = f" [{', '.join(m.terms)}]" if m.terms else ""
        role = " (discussion)" if m.aggregator else ""
        click.echo(f"  {m.published:%Y-%m-%d %H:%M}  {m.outlet}{role}  {joined}{terms}")
        click.echo(f"      {m.title}")


def main() -> None:
    cli(prog_name="tracker")
