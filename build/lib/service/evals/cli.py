"""`briefing eval run|compare`: parse, run the evals, write the reports."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.evals.dataset import ROOT, load_dataset
from service.evals.report import compare, gate_failures, read_jsonl, table, write_html, write_jsonl
from service.evals.runner import parse_variant, run_eval
from service.settings import Settings

EXIT_GATE_FAILED = 3


def add_commands(commands: Any, handler: Any) -> None:
    """Register the eval sub-commands on the main parser."""
    evals = commands.add_parser("eval", help="compare prompt versions on eval datasets")
    sub = evals.add_subparsers(dest="eval_command", required=True)
    run = sub.add_parser("run", help="run variants x cases through the real pipeline")
    run.add_argument("--dataset", required=True, type=Path, help="evals/datasets/NAME")
    run.add_argument("--variant", action="append", default=[], help="map=v1,reduce=v1[,model=M][,backend=URL]")
    run.add_argument("--backend", help="OpenAI-compatible URL to record against (default: embedded model)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--record", action="store_true", help="call the backend and refresh the recordings")
    mode.add_argument("--replay", action="store_true", help="replay recordings, no network (default)")
    run.add_argument("--out", type=Path, help="report folder (default evals/reports/NAME-DATE)")
    run.set_defaults(handler=handler, evals=run_command)
    cmp = sub.add_parser("compare", help="compare two runs' JSONL results")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    cmp.set_defaults(handler=handler, evals=compare_command)


def run_command(args: argparse.Namespace, settings: Settings, report: Any) -> int:
    """Run the eval, print the table and gate, write JSONL and HTML."""
    dataset = load_dataset(args.dataset)
    variants = [parse_variant(v) for v in args.variant] or [parse_variant("")]
    result = run_eval(dataset, variants, settings, record=args.record, backend=args.backend, progress=report)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.out or ROOT / "evals" / "reports" / f"{dataset.name}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(result, out / "results.jsonl")
    write_html(result, out / "report.html")
    print(table(result))
    failures = gate_failures(dataset, result)
    print("\ngate: " + ("passed" if not failures else "FAILED\n  " + "\n  ".join(failures)))
    report(f"wrote {out / 'report.html'} and {out / 'results.jsonl'}")
    return EXIT_GATE_FAILED if failures else 0


def compare_command(args: argparse.Namespace, settings: Settings, report: Any) -> int:
    """Print the comparison of two runs."""
    print(compare(read_jsonl(args.a), read_jsonl(args.b)))
    return 0
