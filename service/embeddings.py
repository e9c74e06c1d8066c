"""Sentence embeddings from all-MiniLM-L6-v2, exported to ONNX and shipped in service/data/onnx."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import numpy as np

from service.onnx_models import EMBEDDER, OnnxModel, read_manifest

DIMENSIONS = 384
_lock = threading.Lock()
_loaded: list[Embedder] = []


class Embedder:
    """Encode sentences into unit vectors; cosine similarity is then a dot product."""

    def __init__(self, model: OnnxModel) -> None:
        self._model = model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised row per text (the model pools and normalises)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.asarray(self._model.run(texts, batch_size=64), dtype=np.float32)


def get_embedder() -> Embedder:
    """Load the embedding model once per process (thread-safe)."""
    with _lock:
        if not _loaded:
            model = OnnxModel(EMBEDDER, read_manifest().embedder_max_tokens)
            # why: open the session here, so load_in_background really loads it off the hot path
            model.session, model.tokenizer  # noqa: B018
            _loaded.append(Embedder(model))
        return _loaded[0]


def load_in_background() -> Future[Embedder]:
    """Start loading the model on a thread, so it is ready when the LLM calls finish."""
    future: Future[Embedder] = Future()

    def work() -> None:
        try:
            future.set_result(get_embedder())
        except BaseException as err:  # noqa: BLE001 - handed to whoever waits on the future
            future.set_exception(err)

    threading.Thread(target=work, name="embedder-load", daemon=True).start()
    return future
