"""Same input, same decisions on any CPU: the models compute in float32, and every decision reads
values rounded to a stated precision, ties broken by row, so residue of the size that differs
between CPUs (tests/noise.py, on in every replayed test) decides nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from service import numerics
from service.embeddings import get_embedder
from service.fidelity.judge import get_judge
from service.fidelity.sources import SourceIndex
from service.fidelity.windows import retrieve
from service.group import _average_linkage
from service.onnx_models import EMBEDDER, JUDGE, ONNX_DIR, REFERENCE, session_options
from service.pipeline.salience import NoveltyPicker
from tests.noise import RELATIVE, exact_run, noisy

SEEDS = range(40)
_INTEGER_KERNELS = {"MatMulInteger", "MatMulNBits", "DynamicQuantizeLinear", "QLinearMatMul",
                    "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QAttention"}


def _reference() -> list[dict[str, object]]:
    return json.loads((ONNX_DIR / REFERENCE).read_text(encoding="utf-8"))


@pytest.mark.parametrize("file", [JUDGE, EMBEDDER])
def test_the_models_run_in_float32_once_loaded(file: str, tmp_path: Path) -> None:
    """onnxruntime, as the service configures it, runs no integer kernel (those differ by CPU)."""
    options = session_options(1)
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    ort.InferenceSession(str(ONNX_DIR / file), options, providers=["CPUExecutionProvider"])
    kernels = {node.op_type for node in onnx.load(str(tmp_path / "optimised.onnx")).graph.node}
    assert "MatMul" in kernels or "FusedMatMul" in kernels
    assert not kernels & _INTEGER_KERNELS


def test_noise_reaches_every_model_output_and_rounding_absorbs_it() -> None:
    """The replayed tests' noise is real (outputs differ from the exact ones), and what the
    decisions read of the judge's 48 reference logits is the same with and without it."""
    judge = get_judge()
    pairs = [(str(r["evidence"]), str(r["claim"])) for r in _reference()]
    exact = exact_run(judge.model, pairs).reshape(-1)
    noisy_logits = judge.model.run(pairs).reshape(-1)
    assert (noisy_logits != exact).mean() > 0.9
    assert np.abs(noisy_logits - exact).max() < 10 * RELATIVE * np.abs(exact).max()
    assert (numerics.logits(noisy_logits) == numerics.logits(exact)).all()
    assert (judge.logits(pairs) == numerics.logits(exact)).all()


def test_a_near_tie_in_retrieval_goes_to_the_earlier_sentence_whatever_the_noise() -> None:
    """Two sources state one sentence; their vectors differ by less than the residue. The earlier
    row (article, paragraph, sentence order) is retrieved first under every seed."""
    index = SourceIndex.from_texts({"a": "Kyiv asked for longer-range missiles.", "b": "Kyiv wants them."})
    model = get_embedder().model
    first = exact_run(model, ["Kyiv asked for longer-range missiles."])[0]
    claim = exact_run(model, ["Ukraine wants missiles with a longer range."])[0]
    twin = first + np.float32(3e-8) * np.sign(claim)  # a hair closer to the claim than the first
    orders = set()
    for seed in SEEDS:
        index.vectors = noisy(["a", "b"], np.stack([first, twin]), RELATIVE, seed)
        orders.add(tuple(retrieve(claim, index, np.arange(2), 2).rows))
    assert orders == {(0, 1)}


def test_a_near_tie_in_novelty_picks_the_earlier_row_whatever_the_noise() -> None:
    index = SourceIndex.from_texts({"a": "One.", "b": "Two.", "c": "Three."})
    vectors = np.eye(3, 8, dtype=np.float32)
    scores = np.array([0.41, 0.41 + 1e-7, 0.2])
    picks = set()
    for seed in SEEDS:
        index.vectors = noisy(["a", "b", "c"], vectors, RELATIVE, seed)
        noisy_scores = numerics.blended(noisy(["a", "b", "c"], scores, RELATIVE, seed))
        picks.add(NoveltyPicker(index, noisy_scores, [0, 1, 2]).next())
    assert picks == {0}


def test_clustering_merges_the_same_pairs_whatever_the_noise() -> None:
    """Average linkage over blended similarities: a near-tie between two merges is decided by the
    earlier pair, and the clusters are the same under every seed."""
    base = np.array([[1.0, 0.6, 0.6 + 2e-7, 0.1], [0.6, 1.0, 0.3, 0.1],
                     [0.6 + 2e-7, 0.3, 1.0, 0.1], [0.1, 0.1, 0.1, 1.0]])
    results = set()
    for seed in SEEDS:
        jitter = noisy([str(i) for i in range(4)], base, RELATIVE, seed)
        similarity = numerics.blended((jitter + jitter.T) / 2)
        results.add(tuple(tuple(c) for c in _average_linkage(similarity, 0.5)))
    assert results == {((0, 1), (2,), (3,))}


def test_similarities_are_rounded_to_the_stated_precision() -> None:
    a = np.array([[0.6, 0.8]], dtype=np.float32)
    value = numerics.similarity(a, a)[0, 0]
    assert value == 1.0 and numerics.similarity(a, np.array([0.8, 0.6]))[0] == 0.96
    assert numerics.logits(np.array([1.23456]))[0] == round(1.23456, numerics.LOGIT_DECIMALS)
