"""The two shipped ONNX models, run with onnxruntime and the `tokenizers` package (no torch).

`service/data/onnx/manifest.json` lists every file with its sha256; a file that is missing
or does not match is a clear error naming it. `python -m training judge train` writes them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from service.errors import ConfigError
from service.resources import DATA_DIR

ONNX_DIR = DATA_DIR / "onnx"
MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"
EMBEDDER = "embedder.onnx"
JUDGE = "judge.onnx"
# Training-time logits of a fixed sample, for checking the export.
REFERENCE = "reference.json"


class Manifest(BaseModel):
    """What the ONNX folder holds: each file's sha256, and the judge's input length."""

    files: dict[str, str]
    judge_max_tokens: int = 320
    embedder_max_tokens: int = 256


def sha256(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path = ONNX_DIR) -> Manifest:
    """Read the manifest, naming the file when it is missing or malformed."""
    path = folder / MANIFEST
    try:
        return Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read the model manifest ({err}); reinstall, or run "
                          "`python -m training judge train`") from None


def checked_file(folder: Path, name: str, manifest: Manifest) -> Path:
    """Return the path of a listed file after checking its sha256."""
    path = folder / name
    expected = manifest.files.get(name)
    if expected is None:
        raise ConfigError(f"{path}: not listed in {folder / MANIFEST}")
    if not path.is_file():
        raise ConfigError(f"{path}: model file missing; reinstall, or run `python -m training judge train`")
    actual = sha256(path)
    if actual != expected:
        raise ConfigError(f"{path}: sha256 {actual[:12]}… does not match the manifest's {expected[:12]}… (corrupted?)")
    return path


def padded(encodings: list[Any]) -> dict[str, np.ndarray]:
    """The model inputs of a batch of encodings, zero-padded to the longest (training batches)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for j, e in enumerate(encodings):
        ids[j, : len(e.ids)] = e.ids
        mask[j, : len(e.ids)] = 1
        types[j, : len(e.ids)] = e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


_process_threads = 0


def use_threads(threads: int) -> None:
    """Threads each ONNX model of this process may use (0: one per core); set before the first
    session opens. A worker process beside others sets 1, so processes, not threads, share the cores."""
    global _process_threads
    _process_threads = threads


def session_options(threads: int) -> Any:
    """How every model is run: float32 arithmetic, idle threads asleep."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # why: idle threads spin by default, burning the cores other worker processes need
    # (measured: 2 worker processes briefed fewer jobs per minute than 1)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # why: the weights are int8 behind DequantizeLinear; left alone, onnxruntime fuses each
    # into MatMulNBits with int8 activations, whose kernels differ by instruction set. With
    # its QDQ fusions off, the weights are folded to float32 once, at load, and every MatMul
    # runs in float32: the same numbers on AVX2 and AVX-512 machines (service/fidelity/weights.py)
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    options.log_severity_level = 3
    return options


class OnnxModel:
    """One ONNX model and its tokenizer, loaded once, checked against the manifest."""

    def __init__(self, file: str, max_tokens: int, folder: Path = ONNX_DIR, threads: int | None = None) -> None:
        manifest = read_manifest(folder)
        self.path = checked_file(folder, file, manifest)
        self.tokenizer_path = checked_file(folder, TOKENIZER, manifest)
        self.max_tokens = max_tokens
        # what decides the model's output: its weights, its tokenizer and where it truncates
        made_by = f"{manifest.files[file]}:{manifest.files[TOKENIZER]}:{max_tokens}"
        self.fingerprint = hashlib.sha256(made_by.encode()).hexdigest()[:32]
        self.threads = _process_threads if threads is None else threads
        self._lock = threading.Lock()

    @cached_property
    def session(self) -> Any:
        """The onnxruntime session (created on first use)."""
        import onnxruntime as ort

        try:
            options = session_options(self.threads)
            return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ConfigError(f"{self.path}: onnxruntime cannot load it ({err})") from None

    @cached_property
    def tokenizer(self) -> Any:
        """The fast tokenizer, truncating the first text (evidence) of a pair, never the claim."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(self.max_tokens, strategy="longest_first")
        tokenizer.no_padding()
        return tokenizer

    def run(self, texts: list[str] | list[tuple[str, str]]) -> np.ndarray:
        """Tokenise texts (or pairs) and run the model on each, returning the raw outputs in order.

        One text per run, never a batch: in a batch a text's output would depend on its batch
        mates' padding (the shapes, and so the kernels' blocking, change), while alone every
        output is the same whatever else is scored; it also keeps memory flat
        (benchmarks/fidelity_judge.py)."""
        with self._lock:  # why: one tokenizer object; truncation settings are shared state
            encodings = self.tokenizer.encode_batch(texts)
        names = {i.name for i in self.session.get_inputs()}
        outputs = []
        for encoding in encodings:
            feeds = padded([encoding])
            outputs.append(self.session.run(None, {k: v for k, v in feeds.items() if k in names})[0][0])
        return np.stack(outputs) if outputs else np.zeros((0,))
