"""The `briefing` command (typer): parse arguments, call the core, render. No business logic here."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import typer

from service.console import error, terminal_progress
from service.digest.cli import app as digest_app
from service.digest.cli import ingest
from service.errors import BriefingError, ConfigError
from service.evals.cli import app as eval_app
from service.fidelity.cli import app as fidelity_app
from service.ingest import ingest_paths
from service.render import Format, render
from service.settings import get_settings

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2

app = typer.Typer(
    name="briefing", help="Neutral, source-checked news briefings.", no_args_is_help=True,
    add_completion=False, pretty_exceptions_enable=False,
)
app.command("ingest", help="Store articles (files or folders) in the database.")(ingest)
app.add_typer(digest_app, name="digest")
app.add_typer(eval_app, name="eval")
app.add_typer(fidelity_app, name="fidelity")

def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        result = app(args=list(argv) if argv is not None else None, prog_name="briefing", standalone_mode=False)
    except typer.Exit as err:  # --help
        return int(err.exit_code)
    except typer.TyperException as err:  # usage errors: what was wrong, and how to ask for help
        show = getattr(err, "show", None)
        if show is not None:
            show()
        else:
            error(err.format_message())
        return int(err.exit_code)
    except BriefingError as err:
        error(str(err))
        return EXIT_FAILED
    except (KeyboardInterrupt, typer.Abort):
        error("interrupted")
        return 130
    return int(result or 0)


@app.command()
def brief(
    paths: Annotated[list[Path], typer.Argument(help=".txt, .md, .json, .jsonl, .html files or folders")],
    format: Annotated[Format, typer.Option("--format", help="output format")] = Format.MD,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
    prompts: Annotated[str | None, typer.Option(help="prompt versions, e.g. map=v1,reduce=v1")] = None,
) -> int:
    """Brief a batch of articles (files or folders)."""
    from service.llm import open_chat_model
    from service.pipeline.prepare import prepare
    from service.pipeline.run import brief as brief_corpus

    config = get_settings()
    if prompts:
        config = config.with_overrides(prompts=pairs(prompts, "--prompts"))
    ingested = ingest_paths([str(p) for p in paths])
    for skip in ingested.skipped:
        error(f"{skip.origin}: {skip.reason}")
    if not ingested.articles:
        error("no articles to brief")
        return EXIT_FAILED
    with terminal_progress() as progress:
        progress.note(f"read {len(ingested.articles)} articles")
        # why: preparing (cleaning, embedding, grouping) overlaps starting the LLM backend.
        with ThreadPoolExecutor(1) as pool:
            preparing = pool.submit(
                prepare, ingested.articles, config, skipped=ingested.skipped, progress=progress
            )
            progress.note("starting the LLM backend")
            with open_chat_model(config) as model:
                briefing = brief_corpus(preparing.result(), settings=config, model=model, progress=progress)
        text = render(briefing, format)
        if output:
            output.write_text(text, encoding="utf-8")
            progress.note(f"wrote {output}")
    if not output:
        sys.stdout.write(text)
    return EXIT_PARTIAL if briefing.skipped else EXIT_OK


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
) -> int:
    """Serve the HTTP API (uvicorn)."""
    import uvicorn

    from service.api.app import create_app

    config = get_settings()
    # why: the digest worker and job workers report through logging; uvicorn only sets up its own loggers.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not config.keys:
        logging.getLogger(__name__).warning("no BRIEFING_API_KEYS set: every write will be refused with 401")
    if config.queue.start_worker:
        logging.getLogger(__name__).info("jobs run on a worker process this server starts (queue.start_worker)")
    uvicorn.run(create_app(config, start_worker=config.queue.start_worker), host=host, port=port, log_level="info",
                timeout_keep_alive=config.api.keep_alive_s)
    return EXIT_OK


@app.command()
def worker(
    beat: Annotated[bool, typer.Option(help="also run the schedule (one process per deployment)")] = False,
    concurrency: Annotated[int | None, typer.Option(help="tasks at once (default: queue.concurrency)")] = None,
) -> int:
    """Run a worker of queued briefings and digest runs (Celery), on BRIEFING_BROKER_URL or the database."""
    from service.tasks.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_worker(get_settings(), concurrency=concurrency, beat=beat)
    return EXIT_OK


@app.command()
def beat() -> int:
    """Run the schedule alone (daily digest, resending lost jobs): one per deployment."""
    from service.tasks.worker import run_beat

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_beat(get_settings())
    return EXIT_OK


def pairs(text: str, option: str) -> dict[str, str]:
    """Parse 'stage=version,...' into a dict, or raise naming the option and the bad item."""
    found = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{option}: expected stage=version pairs, got '{item}'")
        found[key.strip()] = value.strip()
    return found
