"""`briefing fidelity score|calibrate|train`: parse, call the checker, write results."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from service.console import error, terminal_progress
from service.errors import ConfigError
from service.fidelity.checker import FidelityChecker
from service.fidelity.train import Stage
from service.settings import get_settings

app = typer.Typer(help="Score source fidelity; train and calibrate the judge.", no_args_is_help=True)


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


@app.command("calibrate")
def calibrate_data(
    data: Annotated[Path | None, typer.Option(help="folder with summedits_news.json and qags_cnndm.json")] = None,
    limit: Annotated[int | None, typer.Option(help="use only the first N examples of each part")] = None,
    save: Annotated[bool, typer.Option(help="store the calibration and threshold")] = False,
) -> int:
    """Fit the judge's calibration on human labels, print held-out metrics, and optionally store it."""
    from service.fidelity.calibrate import DATA_DIR, calibrate, held_out_contrast, judge_examples, load_examples

    examples = load_examples(data or DATA_DIR)
    if limit:
        seen: Counter[str] = Counter()
        examples = [e for e in examples if (seen.update([e.part]) or seen[e.part]) <= limit]
    checker = FidelityChecker(get_settings().fidelity)
    with terminal_progress() as progress:
        judged = judge_examples(examples, checker, lambda n: progress.step("judged examples", n, len(examples)))
        contrast = held_out_contrast(examples)
        progress.note(f"judging {len(contrast)} contrast pairs from held-out documents")
        result = calibrate(examples, judged, contrast, checker.judge)
    c = result.calibration
    print(f"fitted on {c.fitted_on} (n={result.fitted.n}); P = sigmoid({c.scale:.3f} * logit + {c.bias:.3f}); "
          f"threshold {c.threshold}")
    print(f"{'part':32} {'n':>5} {'consistent':>10} {'balanced acc':>13} {'ROC AUC':>8}")
    for m in [result.fitted, *result.held_out]:
        label = m.part + (" (fitted)" if m is result.fitted else "")
        print(f"{label:32} {m.n:>5} {m.consistent:>10} {m.balanced_accuracy:>13.3f} {m.roc_auc:>8.3f}")
    print("\ncontrast pairs from held-out documents, share judged right:\n"
          f"{'kind':32} {'n':>5} {'judge alone':>12} {'with rules':>11}")
    for k in result.kinds:
        print(f"{k.kind:32} {k.n:>5} {k.judge_alone:>12.3f} {k.accuracy:>11.3f}")
    print("\nablation, balanced accuracy on all held-out:\n" + "\n".join(
        f"{name:48} {value:.3f}" for name, value in result.ablation.items()
    ))
    print("\nsummaries each rule refuses, consistent / inconsistent:\n"
          f"{'rule':32} {'fitted':>12} {'held out':>12}")
    for f in result.firings:
        print(f"{f.rule:32} {f.fitted[0]:>5} / {f.fitted[1]:<5} {f.held_out[0]:>5} / {f.held_out[1]:<5}")
    if save:
        c.save()
        typer.echo("saved service/data/judge.json", err=True)
    return 0


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


@app.command("train")
def train_judge(
    stage: Annotated[
        Stage, typer.Option(help="pairs: entailment pre-training; summary: evidence windows")
    ] = Stage.SUMMARY,
    entailment: Annotated[
        Path | None, typer.Option(help="stage pairs: entailment pairs, JSON lines (evals.entailment_sources)")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="tokens of evidence and claim together (default 320)")] = None,
    epochs: Annotated[int | None, typer.Option(help="passes over the pairs (default: TrainConfig's, 2)")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of pairs and training (default: TrainConfig's)")] = None,
    limit: Annotated[int | None, typer.Option(help="train on at most N pairs (a quick smoke run)")] = None,
    out: Annotated[Path | None, typer.Option(help="write the models here instead of service/data/onnx")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="peak learning rate (default: TrainConfig's)")] = None,
    window_neighbours: Annotated[
        int | None, typer.Option(help="evidence sentences each side of a claim's source (default: TrainConfig's)")
    ] = None,
    init: Annotated[Path | None, typer.Option(help="continue from these fine-tuned torch weights")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="also keep the fine-tuned torch weights here")] = None,
    news: Annotated[Path | None, typer.Option(help="more news documents, JSON lines of {text}")] = None,
    paraphrases: Annotated[Path | None, typer.Option(help="labelled paraphrase pairs, JSON lines")] = None,
) -> int:
    """Fine-tune the judge and export both ONNX models and the data card (needs the train extra)."""
    try:
        from service.fidelity.train import TrainConfig, train
        from service.onnx_models import ONNX_DIR

        given = {
            "stage": stage, "entailment": entailment, "max_tokens": max_tokens, "epochs": epochs, "seed": seed,
            "limit": limit, "learning_rate": learning_rate,
            "window_neighbours": window_neighbours, "init": init,
            "checkpoint": checkpoint, "news": news, "paraphrases": paraphrases,
        }
        config = TrainConfig(**{k: v for k, v in given.items() if v is not None})
        with terminal_progress() as progress:
            train(config, out=out or ONNX_DIR, report=progress.note)
    except ModuleNotFoundError as err:
        error(f"fidelity train needs the training extra ({err.name} is missing): pip install -e '.[train]'")
        return 1
    return 0
