"""The `briefing` command: parse arguments, call the core, render. No business logic here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from service.digest.cli import add_commands as add_digest_commands
from service.errors import BriefingError
from service.evals.cli import add_commands as add_eval_commands
from service.fidelity.cli import add_commands as add_fidelity_commands
from service.ingest import ingest_paths
from service.render import FORMATS, render
from service.settings import Settings, get_settings

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as err:
        first = err.errors()[0]
        field = "BRIEFING_" + "__".join(str(p) for p in first["loc"]).upper()
        _error(f"bad setting {field}: {first['msg']}")
        return EXIT_FAILED
    try:
        return int(args.handler(args, settings))
    except BriefingError as err:
        _error(str(err))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Neutral, source-checked news briefings.")
    commands = parser.add_subparsers(dest="command", required=True)
    brief = commands.add_parser("brief", help="brief a batch of articles (files or folders)")
    brief.add_argument("paths", nargs="+", help=".txt, .md, .json, .jsonl, .html files or folders")
    brief.add_argument("--format", choices=FORMATS, default="md", help="output format (default md)")
    brief.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    brief.add_argument("--prompts", help="prompt versions, e.g. map=v1,reduce=v1")
    brief.set_defaults(handler=_brief)
    serve = commands.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(handler=_serve)
    add_fidelity_commands(commands, _fidelity)
    add_eval_commands(commands, _evals)
    add_digest_commands(commands, _digest)
    return parser


def _brief(args: argparse.Namespace, settings: Settings) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from service.llm import open_chat_model
    from service.pipeline.prepare import prepare
    from service.pipeline.run import brief

    if args.prompts:
        settings = settings.with_overrides(prompts=_pairs(args.prompts, "--prompts"))
    ingested = ingest_paths(args.paths)
    for skip in ingested.skipped:
        _error(f"{skip.origin}: {skip.reason}")
    if not ingested.articles:
        _error("no articles to brief")
        return EXIT_FAILED
    _progress(f"read {len(ingested.articles)} articles")
    # why: preparing (cleaning, embedding, grouping) overlaps starting the LLM backend.
    with ThreadPoolExecutor(1) as pool:
        preparing = pool.submit(
            prepare, ingested.articles, settings.group, skipped=ingested.skipped, progress=_progress
        )
        _progress("starting the LLM backend")
        with open_chat_model(settings) as model:
            briefing = brief(preparing.result(), settings=settings, model=model, progress=_progress)
    text = render(briefing, args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        _progress(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_PARTIAL if briefing.skipped else EXIT_OK


def _fidelity(args: argparse.Namespace, settings: Settings) -> int:
    return int(args.fidelity(args, settings, _progress, _error))


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.api.app import create_app

    if not settings.keys:
        _progress("no BRIEFING_API_KEYS set: every write will be refused with 401")
    # why: the digest worker and job workers report through logging; uvicorn only sets up its own loggers.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return EXIT_OK


def _digest(args: argparse.Namespace, settings: Settings) -> int:
    return int(args.digest(args, settings, _progress, _error))


def _evals(args: argparse.Namespace, settings: Settings) -> int:
    return int(args.evals(args, settings, _progress))


def _pairs(text: str, option: str) -> dict[str, str]:
    pairs = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise BriefingError(f"{option}: expected stage=version pairs, got '{item}'")
        pairs[key.strip()] = value.strip()
    return pairs


def _progress(message: str) -> None:
    print(f"briefing: {message}", file=sys.stderr, flush=True)


def _error(message: str) -> None:
    print(f"briefing: error: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
