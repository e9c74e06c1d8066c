"""Write the address model's public source files into evals/data/addressed/ from local git copies.

They are not in the repository (the project ships no third-party data of this kind). Get git
copies of github.com/yizhongw/self-instruct and github.com/sherdencooper/GPTFuzz, then:

    python evals/addressed_sources.py --self-instruct PATH/.git --gptfuzz PATH/.git

`payloads_all_the_things.txt` (held back, only for `benchmarks/injection.py`) is copied by
hand: see evals/data/addressed/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
from pathlib import Path

from evals.addressed_data import ADDRESSED

_CNN = "data/finetuning/t0_train_50k/data_per_template/cnn_dailymail_3_0_0_news_summary.jsonl"


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


def files(self_instruct: Path, gptfuzz: Path) -> dict[str, list[str]]:
    """Each source file's lines."""
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
    ADDRESSED.mkdir(parents=True, exist_ok=True)
    for name, lines in files(args.self_instruct, args.gptfuzz).items():
        (ADDRESSED / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{ADDRESSED / name}: {len(lines)} lines")


if __name__ == "__main__":
    main()
