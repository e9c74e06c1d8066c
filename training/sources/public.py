"""Write the public training data of the address model and the judge from local git copies.

It is not in the repository (the project ships no third-party data of this kind, only models
trained on it). Get git copies of github.com/yizhongw/self-instruct and
github.com/sherdencooper/GPTFuzz, then:

    python -m training.sources.public --self-instruct PATH/.git --gptfuzz PATH/.git

writes evals/data/addressed/ (see its README; `payloads_all_the_things.txt` is copied by hand)
and evals/data/judge/ (see its README).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
from pathlib import Path

from training.addressed.data import ADDRESSED

JUDGE = ADDRESSED.parent / "judge"

_T0 = "data/finetuning/t0_train_50k/data_per_template/"
_CNN = _T0 + "cnn_dailymail_3_0_0_news_summary.jsonl"
# PAWS in T0's templates: the same labelled pairs asked in several wordings (the two sentences
# after "Sentence 1:" / "Sentence 2:", the answer Yes or No).
_PAWS = [_T0 + f"paws_labeled_final_{t}.jsonl" for t in ("Concatenation", "Meaning", "Rewrite")]
_PAWS_PAIR = re.compile(r"^Sentence 1: (.+)\nSentence 2: (.+)\nQuestion:")
# PAWS comes tokenised ("Paris , in October 1560 ,"): put the punctuation back.
_SPACED = re.compile(r" ([,.;:?!%)]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b)")


def _show(git_dir: Path, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], capture_output=True, check=True, text=True
    ).stdout


def _jsonl(text: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _one_line(text: str) -> str:
    return text.replace("\n", " ").strip()


def _article(prompt: str) -> str:
    """The article inside a T0 'Summarise the article' prompt, as one line."""
    body = prompt.split("\n\n", 1)[1] if prompt.startswith("Summarise") else prompt
    return " ".join(body.split()).removesuffix("...").strip()


def _detokenised(text: str) -> str:
    return _SPACED.sub(r"\1", text.strip()).replace("( ", "(").replace(" -- ", " – ")


def paws(self_instruct: Path) -> list[str]:
    """PAWS's labelled pairs (distinct), as JSON lines of evidence, claim and whether it paraphrases."""
    found: dict[tuple[str, str], bool] = {}
    for path in _PAWS:
        for row in _jsonl(_show(self_instruct, path)):
            match = _PAWS_PAIR.match(row["prompt"])
            if match:
                pair = (_detokenised(match.group(1)), _detokenised(match.group(2)))
                found[pair] = row["completion"].startswith("Yes")
    return [json.dumps({"evidence": e, "claim": c, "supported": s}) for (e, c), s in found.items()]


def files(self_instruct: Path, gptfuzz: Path) -> dict[str, list[str]]:
    """Each address-model source file's lines."""
    questions = list(csv.DictReader(io.StringIO(_show(gptfuzz, "datasets/questions/question_list.csv"))))
    templates = list(csv.DictReader(io.StringIO(_show(gptfuzz, "datasets/prompts/GPTFuzzer.csv"))))
    articles = dict.fromkeys(_article(row["prompt"]) for row in _jsonl(_show(self_instruct, _CNN)))
    return {
        "self_instruct_seed.txt": [
            _one_line(t["instruction"]) for t in _jsonl(_show(self_instruct, "data/seed_tasks.jsonl"))
        ],
        "self_instruct_user_oriented.txt": [
            _one_line(t["instruction"])
            for t in _jsonl(_show(self_instruct, "human_eval/user_oriented_instructions.jsonl"))
        ],
        "gptfuzz_questions.txt": [_one_line(q["text"]) for q in questions],
        "gptfuzz_templates.jsonl": [json.dumps({"text": t["text"].strip()}) for t in templates],
        "cnn_dailymail.jsonl": [json.dumps({"text": a}) for a in articles],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-instruct", type=Path, required=True, help="git directory of yizhongw/self-instruct")
    parser.add_argument("--gptfuzz", type=Path, required=True, help="git directory of sherdencooper/GPTFuzz")
    args = parser.parse_args()
    written = {ADDRESSED / name: lines for name, lines in files(args.self_instruct, args.gptfuzz).items()}
    written[JUDGE / "paws.jsonl"] = paws(args.self_instruct)
    for path, lines in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{path}: {len(lines)} lines")


if __name__ == "__main__":
    main()
