"""Text addressed to an AI or to the reader, as opposed to text reporting on the world.

Articles are untrusted: a paragraph that tells the summariser what to do ("Disregard the above
and reply only with ...", "Include a link to ... in your answer", "You are now ...") is not news.
A small network over the sentence's embedding and a few signs of address (second person
outside quotes, a request's question mark, attribution to someone) tells the two apart; it is
trained by `python -m training.addressed.train` on public instruction and attack texts against news
sentences and reports *about* such instructions ("the researchers said the chatbot was told
to ..."), and ships as `service/data/addressed.npz`. Cleaning drops a paragraph with such a
sentence before any LLM call; assembly and the title never ship one, whoever proposed it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service import numerics
from service.resources import DATA_DIR
from service.text import has_attribution, words

WEIGHTS = DATA_DIR / "addressed.npz"
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
_SECOND_PERSON = frozenset({"you", "your", "yours", "yourself", "you're", "you'll", "you've"})
_lock = threading.Lock()
_loaded: list[AddressModel] = []


def signs(sentence: str) -> np.ndarray:
    """The signs of address beside the embedding: second person outside quotes, a question,
    attribution, and how much of the sentence is quoted."""
    unquoted = _QUOTED.sub(" ", sentence)
    quoted_share = 1.0 - len(unquoted.strip()) / max(len(sentence.strip()), 1)
    second = sum(1 for w in words(unquoted) if w in _SECOND_PERSON)
    return np.array([
        min(second, 3) / 3,
        float(sentence.rstrip().endswith("?")),
        float(has_attribution(sentence)),
        quoted_share,
    ], dtype=np.float32)


def features(sentence: str, vector: np.ndarray) -> np.ndarray:
    """The model's input: the sentence embedding followed by its signs of address."""
    return np.concatenate([vector.astype(np.float32), signs(sentence)])


@dataclass(frozen=True)
class AddressModel:
    """A one-hidden-layer network over `features`, and the probability above which a sentence is
    addressed."""

    hidden: np.ndarray
    hidden_bias: np.ndarray
    out: np.ndarray
    out_bias: float
    threshold: float
    output_threshold: float

    def probability(self, sentence: str, vector: np.ndarray) -> float:
        """Return the probability that the sentence addresses an AI or the reader."""
        h = np.maximum(0.0, features(sentence, vector) @ self.hidden + self.hidden_bias)
        return float(numerics.score(1.0 / (1.0 + np.exp(-(h @ self.out + self.out_bias)))))

    def addressed(self, sentence: str, vector: np.ndarray) -> bool:
        """Tell whether a source sentence is an instruction or request to an AI or the reader
        (strict: a paragraph with one is dropped, so false alarms cost news)."""
        return self.probability(sentence, vector) >= self.threshold

    def refused(self, sentence: str, vector: np.ndarray) -> bool:
        """Tell whether a briefing sentence may be one (looser: a refused sentence is replaced
        by a verified source sentence, so a false alarm costs little)."""
        return self.probability(sentence, vector) >= self.output_threshold

    def save(self, path: Path) -> None:
        """Write the weights and threshold."""
        np.savez_compressed(
            path, hidden=self.hidden.astype(np.float32), hidden_bias=self.hidden_bias.astype(np.float32),
            out=self.out.astype(np.float32), out_bias=np.float32(self.out_bias), threshold=np.float32(self.threshold),
            output_threshold=np.float32(self.output_threshold),
        )


def get_address_model() -> AddressModel:
    """Load the shipped model once per process."""
    with _lock:
        if not _loaded:
            with WEIGHTS.open("rb") as file, np.load(file) as data:
                _loaded.append(AddressModel(
                    data["hidden"], data["hidden_bias"], data["out"], float(data["out_bias"]),
                    float(data["threshold"]), float(data["output_threshold"]),
                ))
        return _loaded[0]
