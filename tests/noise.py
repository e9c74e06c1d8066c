"""Seeded noise on every model output, of the size that differs between CPUs and more.

The shipped models give numbers that differ across CPUs by float rounding (judge logits by
up to 4e-6, embedding components by 1e-7: benchmarks/portability.py on an AVX2 and an AVX-512
machine). Replayed tests run with a relative 1e-5 added to every output, so a recording that
replays here replays on any CPU. The noise of an output is drawn from the text it was computed
from (the same text, the same noise, as on a real machine), never from call order."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from service.onnx_models import OnnxModel

RELATIVE = 1e-5
SEED = 20261204
_exact = OnnxModel.run


def noisy(texts: list[str] | list[tuple[str, str]], outputs: np.ndarray, relative: float, seed: int) -> np.ndarray:
    """The outputs, each scaled by 1 + relative * a normal draw seeded by its text."""
    if not len(texts):
        return outputs
    draws = np.stack([
        np.random.default_rng([seed, zlib.crc32(repr(text).encode("utf-8"))]).standard_normal(out.shape)
        for text, out in zip(texts, outputs, strict=True)
    ])
    return (outputs * (1.0 + relative * draws)).astype(outputs.dtype)


@contextmanager
def noisy_models(relative: float = RELATIVE, seed: int = SEED) -> Iterator[None]:
    """Every OnnxModel.run of this process returns noisy outputs while inside."""

    def run(self: OnnxModel, texts: list[str] | list[tuple[str, str]]) -> np.ndarray:
        return noisy(texts, _exact(self, texts), relative, seed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(OnnxModel, "run", run)
        yield


def exact_run(model: OnnxModel, texts: list[str] | list[tuple[str, str]]) -> np.ndarray:
    """The model's outputs without the noise."""
    return _exact(model, texts)
