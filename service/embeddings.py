"""Sentence embeddings from all-MiniLM-L6-v2, exported to ONNX and shipped in service/data/onnx."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from service.onnx_models import EMBEDDER, OnnxModel, read_manifest

DIMENSIONS = 384
# Vectors kept for texts seen recently (1.5 KiB each): a document scored against several
# summaries, or sources shared by several stories, are embedded once.
CACHED_TEXTS = 20_000
_lock = threading.Lock()
_loaded: list[Embedder] = []


@dataclass(frozen=True)
class ArticleVectors:
    """An article's sentence vectors, one row per sentence, and a digest of the sentences they are
    of (so vectors kept from an earlier split of the article are never misread as this one's)."""

    sentences_key: str
    vectors: np.ndarray

    @staticmethod
    def key(sentences: list[str]) -> str:
        """The digest of an article's sentences, in order."""
        return hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:32]


class Embedder:
    """Encode sentences into unit vectors; cosine similarity is then a dot product."""

    def __init__(self, model: OnnxModel, cached: int = CACHED_TEXTS) -> None:
        self.model = model
        self._cached = cached
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0  # texts run through the model, for tests and benchmarks

    @property
    def fingerprint(self) -> str:
        """What its vectors depend on (the model's weights, tokenizer, truncation): stored vectors
        made by another model are not reused."""
        return str(self.model.fingerprint)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised row per text (the model pools and normalises); a text seen
        recently is not run through the model again."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = np.asarray(self.model.run(missing), dtype=np.float32) if missing else np.zeros((0, DIMENSIONS))
        with self._lock:
            self.encoded += len(missing)
            new = dict(zip(missing, fresh, strict=True))
            known = dict(new)
            for text in texts:
                if text in self._vectors:
                    self._vectors.move_to_end(text)
                    known.setdefault(text, self._vectors[text])
            self._vectors.update(new)
            while len(self._vectors) > self._cached:
                self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])


def get_embedder() -> Embedder:
    """Load the embedding model once per process (thread-safe)."""
    with _lock:
        if not _loaded:
            _loaded.append(Embedder(OnnxModel(EMBEDDER, read_manifest().embedder_max_tokens)))
        return _loaded[0]
