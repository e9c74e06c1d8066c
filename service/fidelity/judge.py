"""The judge: a cross-encoder that reads evidence and claim together -> P(evidence supports claim).

A 6-layer MiniLM fine-tuned by `python -m training judge train` on contrast pairs, exported to ONNX
(int8 weights, float32 arithmetic) and run with onnxruntime. Its raw logit is mapped to a probability by a Platt scaling
fitted on human labels (`python -m training judge calibrate --save`), stored in service/data/judge.json.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from service import numerics
from service.errors import ConfigError
from service.onnx_models import JUDGE, OnnxModel, read_manifest
from service.resources import DATA_DIR

CALIBRATION_FILE = DATA_DIR / "judge.json"
_lock = threading.Lock()
_loaded: list[Judge] = []


class JudgeCalibration(BaseModel):
    """Platt scaling of the judge's logit, the decision threshold, and how they were measured."""

    scale: float = 1.0
    bias: float = 0.0
    threshold: float = 0.5
    fitted_on: str = ""
    metrics: dict[str, dict[str, float]] = {}

    def probability(self, logits: np.ndarray) -> np.ndarray:
        """Map logits to calibrated probabilities of support."""
        return np.asarray(1.0 / (1.0 + np.exp(-(self.scale * np.asarray(logits) + self.bias))))

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        """Write the calibration as JSON."""
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> JudgeCalibration:
        """Read a calibration written by save()."""
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: cannot read the judge's calibration ({err})") from None


class Judge:
    """Scores (evidence, claim) pairs."""

    def __init__(self, model: OnnxModel, calibration: JudgeCalibration) -> None:
        self.model = model
        self.calibration = calibration

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Return the logit of each (evidence, claim) pair, rounded (service/numerics.py)."""
        if not pairs:
            return np.zeros(0)
        return numerics.logits(self.model.run(pairs).reshape(len(pairs)))

    def probability(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Return P(supported) for each (evidence, claim) pair, rounded (service/numerics.py)."""
        return numerics.score(self.calibration.probability(self.logits(pairs)))


def get_judge() -> Judge:
    """Load the judge once per process (thread-safe), its files checked against the manifest."""
    with _lock:
        if not _loaded:
            model = OnnxModel(JUDGE, read_manifest().judge_max_tokens)
            _loaded.append(Judge(model, JudgeCalibration.load()))
        return _loaded[0]
