"""How fast the hard rules (quote, flip and the five distortion rules) judge a shortening.

    python benchmarks/distortion_rules.py

Runs `service.fidelity.rules.problems` over every case of evals/data/distortions/ (each source
sentence against its distorted and its faithful shortening), a few rounds, and prints checks a
second and the process's peak memory. Compare `benchmarks/spacy_cost.py`, which parses the same
sentences with spaCy.
"""

from __future__ import annotations

import resource
import time

from service.fidelity.distortion_set import CASES_FILE, UNSEEN_FILE, load_cases
from service.fidelity.rules import problems
from service.text import sentences

ROUNDS = 20


def main() -> None:
    cases = load_cases(CASES_FILE) + load_cases(UNSEEN_FILE)
    checks = [(claim, sentences(c.source), c.source) for c in cases for claim in (c.distorted, c.faithful)]
    started = time.perf_counter()
    for _ in range(ROUNDS):
        for claim, passage, quotable in checks:
            problems(claim, passage, quotable)
    seconds = time.perf_counter() - started
    n = len(checks) * ROUNDS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rules: {n} checks in {seconds:.2f} s, {n / seconds:.0f} checks/s; peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
