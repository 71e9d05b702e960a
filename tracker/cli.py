"""The command line: parse arguments, load the config, call the app, map errors to exit codes.

Exit status: 0 success; 1 an error the user can act on (``Error: …`` on stderr); 2 bad usage.
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
from tracker.errors import TrackerError, describe

if TYPE_CHECKING:
    from tracker.app import App
    from tracker.config import Config

F = TypeVar("F", bound=Callable[..., Any])


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

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path or os.environ.get("TRACKER_CONFIG") or "config.yaml"
        self._config: Config | None = None

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
        except TrackerError as e:
            click.echo(f"Error: {describe(e)}", err=True)
            ctx.exit(1)


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
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """tracker: tech-news feeds in, stories, topics and a daily digest out.

    \b
    Example:
      tracker demo --out site     # the bundled January 2025 corpus, offline
      tracker --config config.yaml run
    """
    ctx.obj = Context(config_path)


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
    with obj.app() as app:
        r = app.run()
    click.echo(
        f"fetched {r.fetch.fetched}, unchanged {r.fetch.not_modified}, "
        f"failed {len(r.fetch.failed)}, "
        f"{r.fetch.new_entries} new entries, {r.clustered} clustered; digest {r.day}; "
        f"{r.pages_written} pages written" + (f"; email {r.email}" if r.email else "")
    )
    for url, message in r.fetch.failed:
        click.echo(f"  failed: {url}: {message}", err=True)


@cli.command()
@pass_ctx
def schedule(obj: Context) -> None:
    """Run as a daemon: the fetch, digest and email jobs at config.yaml's cron times.

    \b
    Example:
      tracker --config /etc/tracker/config.yaml schedule
    """
    import logging

    from tracker.schedule import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
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
    with obj.app() as app:
        report = app.fetch(all_feeds=all_feeds)
        clustered = app.cluster()
        app.update_topics()
    if as_json:
        print_json({**asdict(report), "clustered": clustered})
        return
    click.echo(
        f"fetched {report.fetched}, unchanged {report.not_modified}, failed {len(report.failed)}; "
        f"{report.new_entries} new entries, {clustered} placed in stories"
    )
    for url, message in report.failed:
        click.echo(f"  failed: {url}: {message}", err=True)


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
    with obj.app() as app:
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

    \b
    Example:
      tracker email --date 2025-01-27 --out digest.eml
    """
    from tracker.mail import write_eml

    with obj.app() as app:
        message = app.email(day or app.today())
        if out_file:
            write_eml(message, Path(out_file))
            click.echo(f"wrote {out_file}")
        if send:
            app.send_email(message)
            click.echo(f"sent to {', '.join(app.config.email.recipients)}")
        if not out_file and not send:
            sys.stdout.write(message.as_string())


@cli.group()
def feeds() -> None:
    """Manage feeds: list, add, remove."""


@feeds.command("list")
@json_option
@pass_ctx
def feeds_list(obj: Context, as_json: bool) -> None:
    """List feeds with their status and last error.

    \b
    Example:
      tracker feeds list --json
    """
    with obj.app() as app:
        rows = app.store.feeds()
    if as_json:
        print_json(
            [
                {
                    "url": f.url,
                    "title": f.title,
                    "outlet": f.outlet,
                    "status": f.status,
                    "last_error": f.last_error,
                    "error_count": f.error_count,
                    "error_since": f.error_since,
                    "last_fetched": f.last_fetched,
                    "next_fetch": f.next_fetch,
                }
                for f in rows
            ]
        )
        return
    for f in rows:
        state = f.status if not f.error_count else f"failing x{f.error_count}: {f.last_error}"
        click.echo(f"{f.url}\t{f.outlet or f.title}\t{state}")


@feeds.command("add")
@click.argument("url")
@click.option(
    "--outlet", default="", help="The outlet's name (several feeds of one outlet count once)."
)
@pass_ctx
def feeds_add(obj: Context, url: str, outlet: str) -> None:
    """Add a feed by URL (or local path) to the database.

    \b
    Example:
      tracker feeds add https://www.theregister.com/headlines.atom --outlet "The Register"
    """
    from tracker.parse import canonical_url

    if not (url.startswith(("http://", "https://", "file://")) or Path(url).exists()):
        raise click.BadParameter(f"not an http(s) URL or an existing file: {url}", param_hint="URL")
    if url.startswith("http"):
        url = canonical_url(url) or url
    elif not url.startswith("file://"):
        url = Path(url).resolve().as_uri()
    with obj.app() as app:
        added = app.store.upsert_feed(
            url, outlet=outlet, title="", aggregator=False, source="cli", now=app.now()
        )
    click.echo(f"{'added' if added else 'already there'}: {url}")


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
    with obj.app() as app:
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


def main() -> None:
    cli(prog_name="tracker")
