"""Do the shipped models compute the same numbers on this CPU as on another?

    python benchmarks/portability.py probe OUT.json          # natively
    qemu-x86_64 -cpu Haswell .venv/bin/python benchmarks/portability.py probe HASWELL.json
    python benchmarks/portability.py compare OUT.json HASWELL.json

`probe` runs the judge on the 48 pairs of service/data/onnx/reference.json and the embedder on
their first 16 claims, and writes the raw outputs (before any rounding) with the CPU's vector
extensions. `--pairs N --sentences M` take the N shortest pairs and M shortest claims instead
(CI: under qemu a 320-token pair takes about 30 s). `compare` checks two probes against the targets: judge logits within
`LOGIT_TOLERANCE`, every embedding's cosine to its counterpart at least `MIN_COSINE`, and the
rounded values the decisions read (service/numerics.py) identical; exit 1 when one is missed.
Adapted from the project's shared portability probe (../shared/portability/probe.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

LOGIT_TOLERANCE = 1e-4
MIN_COSINE = 0.99999
_EXTENSIONS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu() -> dict[str, object]:
    """The CPU's model name and which of the vector extensions that change kernels it has."""
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return {"model": model, "extensions": [e for e in _EXTENSIONS if e in flags]}


def probe(out: Path, pairs: int, sentences: int, label: str) -> None:
    from service.embeddings import get_embedder
    from service.fidelity.judge import get_judge
    from service.onnx_models import ONNX_DIR, REFERENCE

    reference = json.loads((ONNX_DIR / REFERENCE).read_text(encoding="utf-8"))
    if pairs < len(reference):
        reference = sorted(reference, key=lambda r: (len(r["evidence"]) + len(r["claim"]), r["claim"]))[:pairs]
    claims = [r["claim"] for r in reference[:16]]
    if sentences < len(claims):
        claims = sorted(claims, key=len)[:sentences]
    started = time.perf_counter()
    logits = get_judge().model.run([(r["evidence"], r["claim"]) for r in reference]).reshape(-1)
    vectors = get_embedder().model.run(claims)
    record = {
        "cpu": {"label": label, **cpu()} if label else cpu(),
        "seconds": round(time.perf_counter() - started, 1),
        "judge_logits": [float(x) for x in logits],
        "torch_logits": [r["logit"] for r in reference],
        "embeddings": [[float(x) for x in v] for v in vectors],
    }
    out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(f"probe: {len(logits)} logits, {len(vectors)} embeddings on {record['cpu']} in {record['seconds']}s")


def compare(a_path: Path, b_path: Path) -> bool:
    from service import numerics

    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (a_path, b_path))
    la, lb = np.array(a["judge_logits"]), np.array(b["judge_logits"])
    va, vb = np.array(a["embeddings"]), np.array(b["embeddings"])
    logit_gap = float(np.abs(la - lb).max())
    cosines = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    same_logits = bool((numerics.logits(la) == numerics.logits(lb)).all())
    same_sims = bool((numerics.similarity(va, va) == numerics.similarity(vb, vb)).all())
    torch_gap = float(np.abs(la - np.array(a["torch_logits"])).max())
    print(f"{a['cpu']} vs {b['cpu']}")
    print(f"judge logits: max difference {logit_gap:.2e} (target <= {LOGIT_TOLERANCE:g}); "
          f"rounded logits identical: {same_logits}; max difference from training (torch) {torch_gap:.3f}")
    print(f"embeddings: min cosine to their counterparts {cosines.min():.8f} (target >= {MIN_COSINE}); "
          f"rounded similarities identical: {same_sims}")
    return logit_gap <= LOGIT_TOLERANCE and cosines.min() >= MIN_COSINE and same_logits and same_sims


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("probe")
    one.add_argument("out", type=Path)
    one.add_argument("--pairs", type=int, default=48)
    one.add_argument("--sentences", type=int, default=16)
    # why: under qemu-user, /proc/cpuinfo still describes the host
    one.add_argument("--label", default="", help="what runs it, e.g. 'qemu-x86_64 -cpu Haswell'")
    both = commands.add_parser("compare")
    both.add_argument("a", type=Path)
    both.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "probe":
        probe(args.out, args.pairs, args.sentences, args.label)
        return 0
    return 0 if compare(args.a, args.b) else 1


if __name__ == "__main__":
    sys.exit(main())
