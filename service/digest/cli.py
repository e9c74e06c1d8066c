"""`briefing ingest` and `briefing digest run|list`: parse, call the core, report."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from service.ingest import ingest_paths
from service.settings import Settings

if TYPE_CHECKING:
    from service.store import Store

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2


def add_commands(commands: Any, handler: Any) -> None:
    """Register `ingest` and the digest sub-commands on the main parser."""
    ingest = commands.add_parser("ingest", help="store articles (files or folders) in the database")
    ingest.add_argument("paths", nargs="+", help=".txt, .md, .json, .jsonl, .html files or folders")
    ingest.add_argument("--date", type=_date, help="publication date (YYYY-MM-DD) for articles that carry none")
    ingest.set_defaults(handler=handler, digest=ingest_command)
    digest = commands.add_parser("digest", help="daily digests of stored and watched articles")
    sub = digest.add_subparsers(dest="digest_command", required=True)
    run = sub.add_parser("run", help="build (or rebuild) the digest of a date; for cron")
    run.add_argument("--date", type=_date, help="YYYY-MM-DD (default: yesterday in digest.timezone)")
    run.add_argument("--fresh", action="store_true", help="brief every story again, ignoring finished ones")
    run.set_defaults(handler=handler, digest=run_command)
    listing = sub.add_parser("list", help="list digests with their status")
    listing.set_defaults(handler=handler, digest=list_command)


def ingest_command(args: argparse.Namespace, settings: Settings, report: Any, error: Any) -> int:
    """Store articles; undated ones get --date at noon in the digest's time zone."""
    ingested = ingest_paths(args.paths)
    for skip in ingested.skipped:
        error(f"{skip.origin}: {skip.reason}")
    articles = ingested.articles
    if args.date:
        noon = datetime.combine(args.date, time(12), ZoneInfo(settings.digest.timezone))
        articles = [a if a.published else a.model_copy(update={"published": noon}) for a in articles]
    added, existing = _store(settings).add_articles(articles)
    report(f"stored {len(added)} articles, {len(existing)} already stored")
    return EXIT_PARTIAL if ingested.skipped else EXIT_OK


def run_command(args: argparse.Namespace, settings: Settings, report: Any, error: Any) -> int:
    """Build the digest of a date, write its outputs, and say where."""
    from service.digest.build import run_digest
    from service.models import Status

    day = args.date or datetime.now(ZoneInfo(settings.digest.timezone)).date() - timedelta(days=1)
    digest = run_digest(day, store=_store(settings), settings=settings, fresh=args.fresh, progress=report)
    for story in digest.stories:
        title = story.briefing.title if story.briefing else f"no briefing: {story.error}"
        disputes = f", {len(story.disagreements)} disagreements" if story.disagreements else ""
        report(f"story {story.rank}: {title} ({story.independent_sources} sources{disputes})")
    report(f"digest {digest.date}: {digest.status}, {len(digest.stories)} stories")
    return EXIT_OK if digest.status == Status.DONE and not digest.skipped else EXIT_PARTIAL


def list_command(args: argparse.Namespace, settings: Settings, report: Any, error: Any) -> int:
    """Print one line per digest: date, status, stories."""
    rows, total = _store(settings).list_digests(limit=1000)
    for row in rows:
        stories = len((row.digest or {}).get("stories", []))
        print(f"{row.date}  {row.status:8s}  {stories} stories{'  ' + row.error if row.error else ''}")
    report(f"{total} digests")
    return EXIT_OK


def _store(settings: Settings) -> Store:
    from service.store import Store

    store = Store(settings.database_url)
    store.migrate()
    return store


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2024-11-18") from None
