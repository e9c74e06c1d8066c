"""`briefing ingest` and `briefing digest run|list`: parse, call the core, report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from service.console import error, terminal_progress
from service.dates import FIRST_DIGEST_DAY
from service.ingest import ingest_paths
from service.settings import Settings, get_settings

if TYPE_CHECKING:
    from service.storage import Store

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2

app = typer.Typer(help="Daily digests of stored and watched articles.", no_args_is_help=True)


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date like 2024-11-18") from None
    if day < FIRST_DIGEST_DAY:
        raise typer.BadParameter(f"{day} is before {FIRST_DIGEST_DAY}, the first date a digest covers")
    return day


def ingest(
    paths: Annotated[list[Path], typer.Argument(help=".txt, .md, .json, .jsonl, .html files or folders")],
    day: Annotated[str | None, typer.Option(
        "--date", help="publication date (YYYY-MM-DD) for articles that carry none"
    )] = None,
) -> int:
    """Store articles; undated ones get --date at noon in the digest's time zone."""
    settings = get_settings()
    when = _date(day) if day else None
    ingested = ingest_paths([str(p) for p in paths])
    for skip in ingested.skipped:
        error(f"{skip.origin}: {skip.reason}")
    articles = ingested.articles
    if when:
        noon = datetime.combine(when, time(12), ZoneInfo(settings.digest.timezone))
        articles = [a if a.published else a.model_copy(update={"published": noon}) for a in articles]
    added, existing = _store(settings).articles.add(articles)
    with terminal_progress() as progress:
        progress.note(f"stored {len(added)} articles, {len(existing)} already stored")
    return EXIT_PARTIAL if ingested.skipped else EXIT_OK


@app.command()
def run(
    day: Annotated[str | None, typer.Option(
        "--date", help="YYYY-MM-DD (default: yesterday in digest.timezone)"
    )] = None,
    fresh: Annotated[bool, typer.Option(help="brief every story again, ignoring finished ones")] = False,
) -> int:
    """Build (or rebuild) the digest of a date; for cron. Exit 0 also when stories beyond the cap are
    only listed; 2 when an input could not be read or a story has no briefing."""
    from service.digest.build import run_digest
    from service.models import Status

    settings = get_settings()
    when = _date(day) if day else datetime.now(ZoneInfo(settings.digest.timezone)).date() - timedelta(days=1)
    with terminal_progress() as progress:
        digest = run_digest(when, store=_store(settings), settings=settings, fresh=fresh, progress=progress)
        for story in digest.stories:
            title = story.briefing.title if story.briefing else f"no briefing: {story.error}"
            disputes = f", {len(story.disagreements)} disagreements" if story.disagreements else ""
            progress.note(f"story {story.rank}: {title} ({story.independent_sources} sources{disputes})")
        progress.note(f"digest {digest.date}: {digest.status}, {len(digest.stories)} stories")
    return EXIT_OK if digest.status == Status.DONE and not digest.skipped else EXIT_PARTIAL


@app.command("list")
def list_digests() -> int:
    """List digests with their status, one line each."""
    rows, total = _store(get_settings()).digests.page(limit=1000)
    for row in rows:
        stories = len(row.digest.stories) if row.digest else 0
        typer.echo(f"{row.date}  {row.status:8s}  {stories} stories{'  ' + row.error if row.error else ''}")
    with terminal_progress() as progress:
        progress.note(f"{total} digests")
    return EXIT_OK


def _store(settings: Settings) -> Store:
    from service.storage import Store

    store = Store(settings.database_url)
    store.migrate()
    return store
