"""Build evals/datasets/faithfulness-noise from SummEdits documents with padding and spinning added.

    python evals/build_noise_dataset.py

Each case: one consistent SummEdits news document with AI-style padding appended (in wording
the cleaner has no list of), plus a word-spun copy as a second source. Expectations: the
padding and the spinner's words never reach the briefing; names from the human-checked
summary do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "evals" / "data" / "faithfulness" / "summedits_news.json"
OUT = ROOT / "evals" / "datasets" / "faithfulness-noise" / "dataset.yaml"
PADDING = [
    "So what could all of this mean going forward? Let us explore a few possibilities.",
    "1) Broader Ripple Effects: The development might reshape the wider landscape and could prompt "
    "a reevaluation of priorities among many stakeholders.",
    "2) Public Sentiment: Opinion may shift in unexpected ways, potentially creating new pressures.",
    "To wrap up, only time will tell how these dynamics evolve, and it remains essential for observers "
    "to keep an eye on the situation.",
]
SPIN = {" the ": " nan ", " in ": " successful ", " with ": " pinch ", " on ": " connected ", " at ": " astatine "}
CASES = 3
# SummEdits carries no dates: the cases' articles arrive on one day, as `briefing ingest --date` gives it,
# so the relative dates they state ("Tuesday", "in December") have a day to be placed against.
ARRIVED = "2023-03-01T12:00:00Z"


def spin(text: str) -> str:
    """Replace common words the way article spinners do."""
    for plain, spun in SPIN.items():
        text = text.replace(plain, spun)
    return text


def names_in(summary: str, doc: str) -> list[str]:
    """Two capitalised names of the summary that the document also contains."""
    found = [m for m in re.findall(r"\b[A-Z][a-z]{3,}(?:\s+[A-Z][a-z]+)*", summary) if m in doc]
    return list(dict.fromkeys(found))[1:3] or list(dict.fromkeys(found))[:2]


def main() -> None:
    """Write the dataset file."""
    items = json.loads(SOURCE.read_text(encoding="utf-8"))
    cases, seen = [], set()
    for item in items:
        doc = item["doc"].strip()
        if str(item["label"]) != "1" or doc[:200] in seen or not 1500 < len(doc) < 3500:
            continue
        names = names_in(item["summary"], doc)
        if len(names) < 2:
            continue
        seen.add(doc[:200])
        cases.append({
            "id": f"summedits-{len(cases) + 1}",
            "articles": [{"text": doc + "\n\n" + "\n\n".join(PADDING), "source": "original", "published": ARRIVED},
                         {"text": spin(doc), "source": "spun copy", "published": ARRIVED}],
            "expect": {
                "must_include": [re.escape(n) for n in names],
                "must_not_include": ["explore a few possibilities", "ripple effects", "only time will tell",
                                     "keep an eye", "\\bnan\\b", "\\bpinch\\b"],
            },
        })
        if len(cases) == CASES:
            break
    dataset = {
        "name": "faithfulness-noise",
        "description": "SummEdits news documents (Apache-2.0) with AI padding appended and a word-spun copy.",
        "thresholds": {"boilerplate_leakage": {"max": 0.0}, "numbers_traceable": {"min": 1.0},
                       "damaged_shipped": {"max": 0.0}, "headline_words": {"max": 13.0}, "long_points": {"max": 0.3},
                       "placed_timeline": {"min": 1.0}},
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(yaml.safe_dump(dataset, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    print(f"wrote {OUT} with {len(cases)} cases")


if __name__ == "__main__":
    main()
