"""Write the judge's stage-1 training pairs (public entailment data) from local git copies.

Stage 1 of `python -m training judge train` reads premise and hypothesis together, as the judge reads
evidence and claim; only "entailment" counts as supported (a neutral hypothesis adds what the
premise does not say, which is what an unfaithful summary sentence does). Not shipped: the
project ships the judge trained on it. Get git copies of github.com/tommccoy1/hans (MultiNLI
dev-matched with gold labels) and github.com/OanaMariaCamburu/e-SNLI (SNLI dev and test), then:

    python -m training.sources.entailment --hans PATH/.git --esnli PATH/.git

writes evals/data/judge/entailment.jsonl (see evals/data/judge/README.md for licences and counts).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import Counter
from pathlib import Path

from training.sources.public import JUDGE, _detokenised, _show

ENTAILMENT = JUDGE / "entailment.jsonl"
_MNLI = "berts_of_a_feather/mnli_development_set_number_of_correct_responses.txt"
_SNLI = "dataset/eSNLI/"
_LABELS = ("entailment", "neutral", "contradiction")


def mnli(hans: Path) -> list[dict[str, object]]:
    """MultiNLI dev-matched: premise, hypothesis, gold label (tab-separated, with a header)."""
    rows = csv.DictReader(io.StringIO(_show(hans, _MNLI)), delimiter="\t", quoting=csv.QUOTE_NONE)
    return [_row(r["premise"], r["hypothesis"], r["gold_label"], "multinli") for r in rows]


def snli(esnli: Path) -> list[dict[str, object]]:
    """SNLI dev and test as e-SNLI ships them: one sentence a line, tokenised."""
    out = []
    for split in ("dev", "test"):
        columns = [_show(esnli, f"{_SNLI}{name}.{split}").splitlines() for name in ("s1", "s2", "labels")]
        for premise, hypothesis, label in zip(*columns, strict=True):
            out.append(_row(_detokenised(premise), _detokenised(hypothesis), label.strip(), "snli"))
    return out


def _row(premise: str, hypothesis: str, label: str, source: str) -> dict[str, object]:
    return {"evidence": premise.strip(), "claim": hypothesis.strip(), "label": label, "source": source}


def pairs(hans: Path, esnli: Path) -> list[dict[str, object]]:
    """Every labelled pair, deduplicated, with `supported` set from its label."""
    seen: set[tuple[object, object]] = set()
    out = []
    for row in mnli(hans) + snli(esnli):
        key = (row["evidence"], row["claim"])
        if row["label"] in _LABELS and row["evidence"] and row["claim"] and key not in seen:
            seen.add(key)
            out.append(row | {"supported": row["label"] == "entailment"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hans", type=Path, required=True, help="git directory of tommccoy1/hans")
    parser.add_argument("--esnli", type=Path, required=True, help="git directory of OanaMariaCamburu/e-SNLI")
    args = parser.parse_args()
    rows = pairs(args.hans, args.esnli)
    ENTAILMENT.parent.mkdir(parents=True, exist_ok=True)
    ENTAILMENT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts = Counter((r["source"], r["label"]) for r in rows)
    print(f"{ENTAILMENT}: {len(rows)} pairs {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
