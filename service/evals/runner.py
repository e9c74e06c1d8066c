"""Run every prompt variant over every case through the real pipeline, recorded or replayed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from service.errors import BriefingError, ConfigError
from service.evals.dataset import Case, Dataset
from service.evals.metrics import case_metrics
from service.evals.recording import cassette
from service.fidelity.checker import FidelityChecker
from service.llm import build_chat_model
from service.models import Briefing
from service.pipeline.prepare import prepare
from service.pipeline.run import brief
from service.progress import QUIET, Progress
from service.prompts import STAGES, load_prompt
from service.settings import Settings

# why: nothing listens here; in replay mode vcrpy answers before a connection is made.
REPLAY_URL = "http://127.0.0.1:9/v1"


class Variant(BaseModel):
    """Prompt versions per stage, and optionally a model name and backend of its own."""

    prompts: dict[str, str]
    model: str | None = None
    backend: str | None = None

    def key(self, defaults: dict[str, str]) -> str:
        """Return a file-safe name of the prompt versions it runs (its own over `defaults`, the
        settings'); recordings of different variants never collide."""
        parts = [f"{stage}-{self.prompts.get(stage, defaults.get(stage, 'v1'))}" for stage in STAGES]
        if self.model:
            parts.append("model-" + re.sub(r"[^A-Za-z0-9.]+", "-", self.model))
        return "_".join(parts)

    @property
    def label(self) -> str:
        """Return a short human label."""
        changed = [f"{s}={v}" for s, v in sorted(self.prompts.items())]
        return ",".join(changed + ([f"model={self.model}"] if self.model else [])) or "defaults"


def parse_variant(text: str) -> Variant:
    """Parse 'map=v1,reduce=v2[,model=NAME][,backend=URL]'."""
    prompts: dict[str, str] = {}
    extra: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise ConfigError(f"--variant: expected key=value pairs, got '{item}'")
        if key in STAGES:
            load_prompt(key, value)  # fail now, naming the unknown version
            prompts[key] = value
        elif key in ("model", "backend"):
            extra[key] = value
        else:
            raise ConfigError(f"--variant: unknown key '{key}' (stages {list(STAGES)}, model, backend)")
    return Variant(prompts=prompts, **extra)


class CaseResult(BaseModel):
    """One variant on one case."""

    variant: str
    case: str
    metrics: dict[str, float] = Field(default_factory=dict)
    failed: list[str] = Field(default_factory=list)
    briefing: Briefing | None = None
    error: str | None = None


class Fingerprint(BaseModel):
    """What a run depended on, so two runs can be compared knowingly."""

    date: str
    dataset: str
    dataset_hash: str
    settings_hash: str
    mode: str
    variants: dict[str, dict[str, str]]


class EvalRun(BaseModel):
    """A whole run: its fingerprint and every result."""

    fingerprint: Fingerprint
    variants: list[str]
    results: list[CaseResult]


def run_eval(
    dataset: Dataset,
    variants: list[Variant],
    settings: Settings,
    *,
    record: bool = False,
    backend: str | None = None,
    progress: Progress = QUIET,
) -> EvalRun:
    """Brief every case with every variant and measure it; record or replay the LLM calls."""
    checker = FidelityChecker(settings.fidelity)
    results = []
    with _backend(record, backend, settings) as live_url:
        total = len(variants) * len(dataset.cases)
        progress.step("eval runs", 0, total)
        for variant in variants:
            for case in dataset.cases:
                progress.note(f"{variant.label} × {case.id}")
                results.append(_run_case(dataset, case, variant, settings, checker, record, live_url))
                progress.step("eval runs", len(results), total)
    return EvalRun(
        fingerprint=Fingerprint(
            date=datetime.now(UTC).isoformat(timespec="seconds"),
            dataset=dataset.name,
            dataset_hash=dataset.digest,
            settings_hash=settings.fingerprint(),
            mode="record" if record else "replay",
            variants={
                v.label: _prompt_hashes({**settings.pipeline.prompts, **v.prompts})
                | {"model": v.model or settings.llm.model}
                for v in variants
            },
        ),
        variants=[v.label for v in variants],
        results=results,
    )


def _run_case(
    dataset: Dataset, case: Case, variant: Variant, settings: Settings,
    checker: FidelityChecker, record: bool, live_url: str | None,
) -> CaseResult:
    local = settings.with_overrides(prompts=variant.prompts, model=variant.model)
    url = (variant.backend or live_url) if record else REPLAY_URL
    if url is None:
        raise ConfigError(f"variant {variant.label}: no backend to record against")
    result = CaseResult(variant=variant.label, case=case.id)
    try:
        articles = case.load_articles()
        path = dataset.cassettes / variant.key(settings.pipeline.prompts) / f"{case.id}.yaml"
        if not record and not path.is_file():
            raise ConfigError(f"no recording at {path}; run with --record against a live backend first")
        with cassette(path, "rewrite" if record else "none"):
            corpus = prepare(articles, local)
            briefing = brief(corpus, settings=local, model=build_chat_model(local.llm, url))
        result.briefing = briefing
        result.metrics, result.failed = case_metrics(briefing, case, articles, checker)
    except BriefingError as err:
        result.error = str(err)
    except Exception as err:  # noqa: BLE001 - a replay mismatch must not end the whole run
        result.error = f"{type(err).__name__}: {str(err).splitlines()[0]}"
    return result


@contextmanager
def _backend(record: bool, backend: str | None, settings: Settings) -> Iterator[str | None]:
    if not record or backend:
        yield backend
        return
    from service.local_llm import EmbeddedServer

    with ExitStack() as stack:
        server = stack.enter_context(EmbeddedServer(settings.embedded, alias=settings.llm.model))
        yield server.base_url


def _prompt_hashes(prompts: dict[str, str]) -> dict[str, str]:
    return {stage: f"{prompts.get(stage, 'v1')}:{load_prompt(stage, prompts.get(stage, 'v1')).digest()}"
            for stage in STAGES}
