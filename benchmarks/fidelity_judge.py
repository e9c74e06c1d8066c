"""Benchmark: the fidelity judge's speed, and peak memory of a briefing on the embedded model.

    python benchmarks/fidelity_judge.py [--pairs 300]

1. `briefing fidelity score` on news-length pairs (SummEdits and QAGS documents with their
   summaries), in its own process: pairs per second, including the models' load, and peak memory.
2. `briefing brief examples/articles` with the embedded SmolLM2 server (started by the
   command itself): peak memory of the whole process tree (client plus server), sampled
   from /proc every 0.1 s, and whether torch was loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# why: service.cli has no __main__ guard; `-m service.cli` imported it and exited 0, measuring nothing
BRIEFING = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))"]


def _tree_rss_mib(root: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total / 2**20


def run_measured(command: list[str]) -> tuple[float, float]:
    """Run a command; return wall seconds and peak tree memory (MiB); exit naming it when it fails."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors, text=True)
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, _tree_rss_mib(process.pid))
            time.sleep(0.1)
        if process.returncode:
            errors.seek(0)
            sys.exit(f"{' '.join(command[3:])} exited {process.returncode}:\n{errors.read()[-2000:]}")
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args()
    data = ROOT / "evals" / "data" / "faithfulness"
    items = [{"id": f"se-{i}", "sources": [x["doc"]], "summary": x["summary"]}
             for i, x in enumerate(json.loads((data / "summedits_news.json").read_text()))]
    items += [{"id": f"qags-{i}", "sources": [x["source"]], "summary": x["system_output"]}
              for i, x in enumerate(json.loads((data / "qags_cnndm.json").read_text()))]
    items = items[:: max(1, len(items) // args.pairs)][: args.pairs]
    chars = sum(len(i["sources"][0]) for i in items) / len(items)
    with tempfile.TemporaryDirectory() as tmp:
        pairs = Path(tmp) / "pairs.jsonl"
        pairs.write_text("".join(json.dumps(i) + "\n" for i in items))
        seconds, peak = run_measured([*BRIEFING, "fidelity", "score", str(pairs), "-o", str(Path(tmp) / "o")])
        print(f"fidelity score: {len(items)} pairs ({chars:,.0f} source characters on average) in {seconds:.1f}s "
              f"= {len(items) / seconds:.1f} pairs/s including model load; peak memory {peak:.0f} MiB")
        out = Path(tmp) / "briefing.json"
        command = [*BRIEFING, "brief", "examples/articles", "--format", "json", "-o", str(out)]
        seconds, peak = run_measured(command)
        print(f"briefing brief examples/articles, embedded server: {seconds:.1f}s, peak memory of client + "
              f"server {peak:.0f} MiB")
    probe = ("import sys, service.cli, service.pipeline.run, service.fidelity.checker as c;"
             "c.FidelityChecker().score(['a b c.'], 'a b c.'); print('torch' in sys.modules)")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"torch imported by the briefing code: {loaded}")


if __name__ == "__main__":
    main()
