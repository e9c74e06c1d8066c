"""`briefing fidelity score|distortions`: parse, call the checker, write results. Training and
calibrating the judge: `python -m training judge train|calibrate` (from a checkout)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from service.console import error, terminal_progress
from service.errors import ConfigError
from service.fidelity.checker import FidelityChecker
from service.settings import get_settings

app = typer.Typer(help="Score source fidelity; measure the rules on the distortion set.", no_args_is_help=True)


@app.command()
def score(
    source: Annotated[Path, typer.Argument(
        metavar="INPUT", help='JSONL: {"id", "sources": ["text", ...], "summary"} per line'
    )],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write JSONL here instead of stdout")] = None,
) -> int:
    """Score summaries against their sources (JSONL in, JSONL out); a malformed line is reported by
    number and the rest still scores."""
    if not source.is_file():
        raise ConfigError(f"{source}: no such file")
    checker = FidelityChecker(get_settings().fidelity)
    with source.open(encoding="utf-8") as lines:
        total = sum(1 for line in lines if line.strip())
    bad = done = 0
    started = time.perf_counter()
    out: IO[str] = output.open("w", encoding="utf-8") if output else sys.stdout

    with terminal_progress() as progress:
        def items() -> Iterator[tuple[Any, list[str], str]]:
            nonlocal bad
            with source.open(encoding="utf-8") as lines:
                for lineno, line in enumerate(lines, 1):
                    if not line.strip():
                        continue
                    try:
                        yield _parse_line(line, lineno)
                    except ValueError as err:
                        bad += 1
                        error(f"{source}:{lineno}: {err}")

        try:
            for result in checker.score_many(items()):
                record = {
                    "id": result.id, "score": result.score, "supported": result.supported,
                    "sentences": [s.model_dump(mode="json") for s in result.sentences],
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                done += 1
                progress.step("scored pairs", done + bad, total)
        finally:
            if output:
                out.close()
        seconds = time.perf_counter() - started
        rate = done / seconds if seconds else 0
        progress.note(f"scored {done} in {seconds:.1f}s ({rate:.1f} pairs/s); {bad} malformed")
    return 2 if bad else 0


def _parse_line(line: str, lineno: int) -> tuple[Any, list[str], str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON: {err.msg}") from None
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    sources, summary = record.get("sources"), record.get("summary")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise ValueError("'sources' must be a non-empty list of strings")
    if not isinstance(summary, str) or not summary.strip():
        raise ValueError("'summary' must be a non-empty string")
    return record.get("id", lineno), sources, summary


@app.command("distortions")
def distortion_report(
    cases: Annotated[Path | None, typer.Option(help="cases file (default: evals/data/distortions/cases.jsonl)")] = None,
    judge: Annotated[bool, typer.Option(help="also score the cases with the judge (loads the model)")] = True,
) -> int:
    """Report caught and kept per kind on the project's own set of shortening distortions."""
    from service.fidelity.distortion_set import CASES_FILE, evaluate, load_cases
    from service.fidelity.judge import get_judge

    report = evaluate(load_cases(cases or CASES_FILE), get_judge() if judge else None)
    columns = [("rules", report.rules), ("judge alone", report.judge), ("judge + rules", report.both)]
    columns = [(name, rows) for name, rows in columns if rows]
    print(f"{'kind':14} {'n':>3} " + " ".join(f"{name + ' caught/kept':>26}" for name, _ in columns))
    for i, row in enumerate(report.rules):
        cells = " ".join(f"{rows[i].caught:>18.2f} / {rows[i].kept:.2f}" for _, rows in columns)
        print(f"{row.kind:14} {row.n:>3} {cells}")
    return 0
