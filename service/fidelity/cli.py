"""`briefing fidelity score|calibrate|train`: parse, call the checker, write results."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from service.fidelity.checker import FidelityChecker
from service.settings import Settings

Report = Callable[[str], None]


def add_commands(commands: Any, handler: Callable[..., int]) -> None:
    """Register the fidelity sub-commands on the main parser."""
    fidelity = commands.add_parser("fidelity", help="score source fidelity; train and calibrate the judge")
    sub = fidelity.add_subparsers(dest="fidelity_command", required=True)
    score = sub.add_parser("score", help="score summaries against their sources (JSONL in, JSONL out)")
    score.add_argument("input", type=Path, help='JSONL: {"id", "sources": ["text", ...], "summary"} per line')
    score.add_argument("-o", "--output", type=Path, help="write JSONL here instead of stdout")
    score.set_defaults(handler=handler, fidelity=score_file)
    calibrate = sub.add_parser("calibrate", help="fit the judge's calibration on human labels, report held-out figures")
    calibrate.add_argument("--data", type=Path, help="folder with summedits_news.json and qags_cnndm.json")
    calibrate.add_argument("--limit", type=int, help="use only the first N examples of each part")
    calibrate.add_argument("--save", action="store_true", help="store the calibration and threshold")
    calibrate.set_defaults(handler=handler, fidelity=calibrate_data)
    train = sub.add_parser("train", help="fine-tune the judge and export the ONNX models (needs the train extra)")
    train.add_argument("--epochs", type=int, help="passes over the pairs (default: TrainConfig's, 2)")
    train.add_argument("--seed", type=int, help="seed of pairs and training (default: TrainConfig's)")
    train.add_argument("--limit", type=int, help="train on at most N pairs (a quick smoke run)")
    train.add_argument("--out", type=Path, help="write the models here instead of service/data/onnx")
    train.set_defaults(handler=handler, fidelity=train_judge)


def score_file(args: argparse.Namespace, settings: Settings, report: Report, error: Report) -> int:
    """Stream-score a JSONL file; a malformed line is reported by number and the rest still scores."""
    checker = FidelityChecker(settings.fidelity)
    bad = done = 0
    started = time.perf_counter()
    out: IO[str] = args.output.open("w", encoding="utf-8") if args.output else sys.stdout

    def items() -> Iterator[tuple[Any, list[str], str]]:
        nonlocal bad
        with args.input.open(encoding="utf-8") as lines:
            for lineno, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield _parse_line(line, lineno)
                except ValueError as err:
                    bad += 1
                    error(f"{args.input}:{lineno}: {err}")

    try:
        for result in checker.score_many(items()):
            record = {
                "id": result.id, "score": result.score, "supported": result.supported,
                "sentences": [s.model_dump(mode="json") for s in result.sentences],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            done += 1
            if done % 50 == 0:
                report(f"scored {done} ({done / (time.perf_counter() - started):.1f}/s)")
    finally:
        if args.output:
            out.close()
    seconds = time.perf_counter() - started
    report(f"scored {done} in {seconds:.1f}s ({done / seconds if seconds else 0:.1f} pairs/s); {bad} malformed")
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


def calibrate_data(args: argparse.Namespace, settings: Settings, report: Report, error: Report) -> int:
    """Fit the judge's calibration, print held-out metrics, and optionally store it."""
    from service.fidelity.calibrate import DATA_DIR, calibrate, held_out_contrast, judge_examples, load_examples

    examples = load_examples(args.data or DATA_DIR)
    if args.limit:
        seen: Counter[str] = Counter()
        examples = [e for e in examples if (seen.update([e.part]) or seen[e.part]) <= args.limit]
    checker = FidelityChecker(settings.fidelity)
    report(f"judging {len(examples)} examples")

    def progress(n: int) -> None:
        if n % 100 < settings.fidelity.block_size:
            report(f"judged {n}/{len(examples)}")

    judged = judge_examples(examples, checker, progress)
    contrast = held_out_contrast(examples)
    report(f"judging {len(contrast)} contrast pairs from held-out documents")
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
    if args.save:
        c.save()
        report("saved service/data/judge.json")
    return 0


def train_judge(args: argparse.Namespace, settings: Settings, report: Report, error: Report) -> int:
    """Fine-tune the judge, export both ONNX models and write the data card."""
    try:
        from service.fidelity.train import TrainConfig, train
        from service.onnx_models import ONNX_DIR

        given = {"epochs": args.epochs, "seed": args.seed, "limit": args.limit}
        config = TrainConfig(**{k: v for k, v in given.items() if v is not None})
        train(config, out=args.out or ONNX_DIR, report=report)
    except ModuleNotFoundError as err:
        error(f"fidelity train needs the training extra ({err.name} is missing): pip install -e '.[train]'")
        return 1
    return 0
