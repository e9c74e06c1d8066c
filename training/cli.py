"""`python -m training`: train and calibrate the models the service ships (from a checkout, with the
train extra). The data preparation runs as modules: `python -m training.sources.entailment`,
`python -m training.sources.public`, `python -m training.addressed.train`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from service.console import error, terminal_progress
from service.errors import BriefingError
from service.fidelity.checker import FidelityChecker
from service.onnx_models import ONNX_DIR
from service.settings import get_settings
from training.judge.calibrate import DATA_DIR, calibrate, held_out_contrast, judge_examples, load_examples
from training.judge.train import Stage

app = typer.Typer(help="Train and calibrate the models the service ships.", no_args_is_help=True)
judge = typer.Typer(help="The fidelity judge: fine-tune and export it, calibrate it on human labels.",
                    no_args_is_help=True)
app.add_typer(judge, name="judge")


@judge.command("calibrate")
def calibrate_data(
    data: Annotated[Path | None, typer.Option(help="folder with summedits_news.json and qags_cnndm.json")] = None,
    limit: Annotated[int | None, typer.Option(help="use only the first N examples of each part")] = None,
    save: Annotated[bool, typer.Option(help="store the calibration and threshold")] = False,
) -> int:
    """Fit the judge's calibration on human labels, print held-out metrics, and optionally store it."""
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


@judge.command("train")
def train_judge(
    stage: Annotated[
        Stage, typer.Option(help="pairs: entailment pre-training; summary: evidence windows")
    ] = Stage.SUMMARY,
    entailment: Annotated[
        Path | None, typer.Option(help="stage pairs: entailment pairs, JSON lines (training.sources.entailment)")
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
        from training.judge.train import TrainConfig, train

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
        error(f"training needs the train extra ({err.name} is missing): pip install -e '.[train]'")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a command; an error the service raises on purpose is one line and exit code 1."""
    try:
        result = app(args=argv, standalone_mode=False)
    except BriefingError as err:
        error(str(err))
        return 1
    return int(result or 0)
