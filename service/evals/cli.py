"""`briefing eval run|compare`: parse, run the evals, write the reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from service.console import terminal_progress
from service.evals.dataset import ROOT, load_dataset
from service.evals.report import compare, gate_failures, read_jsonl, table, write_jsonl
from service.evals.report_page import write_html
from service.evals.runner import parse_variant, run_eval
from service.settings import get_settings

EXIT_GATE_FAILED = 3

app = typer.Typer(help="Compare prompt versions on eval datasets.", no_args_is_help=True)


@app.command()
def run(
    dataset: Annotated[Path, typer.Option(help="evals/datasets/NAME")],
    variant: Annotated[list[str] | None, typer.Option(
        help="map=v1,reduce=v1[,model=M][,backend=URL]; repeat for each variant"
    )] = None,
    backend: Annotated[str | None, typer.Option(
        help="OpenAI-compatible URL to record against (default: embedded model)"
    )] = None,
    record: Annotated[bool, typer.Option(
        "--record/--replay", help="call the backend and refresh the recordings, or replay them (no network)"
    )] = False,
    out: Annotated[Path | None, typer.Option(help="report folder (default evals/reports/NAME-DATE)")] = None,
    compare_to: Annotated[Path | None, typer.Option(
        help="an earlier run's results.jsonl: the report shows each metric's change from it"
    )] = None,
) -> int:
    """Run variants x cases through the real pipeline; print the table and the gate, write JSONL and HTML."""
    settings = get_settings()
    data = load_dataset(dataset)
    earlier = read_jsonl(compare_to) if compare_to else None
    variants = [parse_variant(v) for v in variant or []] or [parse_variant("")]
    with terminal_progress() as progress:
        result = run_eval(data, variants, settings, record=record, backend=backend, progress=progress)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder = out or ROOT / "evals" / "reports" / f"{data.name}-{stamp}"
        folder.mkdir(parents=True, exist_ok=True)
        write_jsonl(result, folder / "results.jsonl")
        write_html(result, folder / "report.html", data, earlier)
        progress.note(f"wrote {folder / 'report.html'} and {folder / 'results.jsonl'}")
    typer.echo(table(result))
    failures = gate_failures(data, result)
    typer.echo("\ngate: " + ("passed" if not failures else "FAILED\n  " + "\n  ".join(failures)))
    return EXIT_GATE_FAILED if failures else 0


@app.command("compare")
def compare_runs(a: Path, b: Path) -> int:
    """Compare two runs' JSONL results."""
    typer.echo(compare(read_jsonl(a), read_jsonl(b)))
    return 0
