"""Benchmark: this pipeline vs LangChain's stock map_reduce summarize chain, same backend, one run.

    python benchmarks/compare_langchain.py [PATH ...] [--base-url URL]

With no --base-url it starts the embedded SmolLM2 server once and points both at it. Each
pipeline runs in its own subprocess so peak memory is measured cleanly. Prints a table:
wall seconds, LLM calls, prompt/completion tokens, share of wall time outside LLM calls,
peak memory (client process, and with the embedded server added).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# why: the same completion cap for LangChain's chain; uncapped, llama.cpp generates until
# the context is full and the comparison would be meaningless.
STOCK_MAX_TOKENS = 256


def run_ours(paths: list[str], base_url: str) -> dict[str, Any]:
    """Brief the articles with this project's pipeline."""
    from service.ingest import ingest_paths
    from service.llm import build_chat_model
    from service.pipeline.prepare import prepare
    from service.pipeline.run import brief
    from service.settings import get_settings

    settings = get_settings()
    articles = ingest_paths(paths).articles
    model = build_chat_model(settings.llm, base_url)
    started = time.perf_counter()
    briefing = brief(prepare(articles, settings.group), settings=settings, model=model)
    wall = time.perf_counter() - started
    run = briefing.run
    text = "\n".join([briefing.title, briefing.summary, *[f"- {p.text}" for p in briefing.key_points]])
    return _figures(wall, run.llm_calls, run.prompt_tokens, run.completion_tokens, run.llm_seconds, text)


def run_stock(paths: list[str], base_url: str) -> dict[str, Any]:
    """Summarize the same articles with load_summarize_chain(chain_type='map_reduce')."""
    import tiktoken.registry
    from langchain_classic.chains.summarize import load_summarize_chain
    from langchain_core.documents import Document

    from service.chunk import get_encoding
    from service.ingest import ingest_paths
    from service.llm import build_chat_model, with_token_cap
    from service.settings import get_settings

    # why: LangChain counts tokens with tiktoken, which would download the encoding; hand it ours.
    tiktoken.registry.ENCODINGS["cl100k_base"] = get_encoding("cl100k_base")
    settings = get_settings()
    articles = ingest_paths(paths).articles
    model = with_token_cap(build_chat_model(settings.llm, base_url), STOCK_MAX_TOKENS, settings.llm)
    meter = _Meter()
    chain = load_summarize_chain(model, chain_type="map_reduce")  # type: ignore[arg-type]
    docs = [Document(page_content=a.text) for a in articles]
    started = time.perf_counter()
    result = chain.invoke({"input_documents": docs}, config={"callbacks": [meter]})
    wall = time.perf_counter() - started
    return _figures(wall, meter.calls, meter.prompt_tokens, meter.completion_tokens, meter.busy, result["output_text"])


class _Meter:
    """A LangChain callback counting calls, tokens and wall time with a call in flight."""

    def __new__(cls) -> Any:
        from langchain_core.callbacks import BaseCallbackHandler

        class Meter(BaseCallbackHandler):
            def __init__(self) -> None:
                self.calls = self.prompt_tokens = self.completion_tokens = 0
                self.busy = 0.0
                self._in_flight = 0
                self._since = 0.0

            def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
                if self._in_flight == 0:
                    self._since = time.perf_counter()
                self._in_flight += 1

            def on_llm_end(self, response: Any, **kwargs: Any) -> None:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self.busy += time.perf_counter() - self._since
                self.calls += 1
                for generations in response.generations:
                    for generation in generations:
                        usage = getattr(generation.message, "usage_metadata", None) or {}
                        self.prompt_tokens += usage.get("input_tokens", 0)
                        self.completion_tokens += usage.get("output_tokens", 0)

        return Meter()


def _figures(wall: float, calls: int, prompt: int, completion: int, llm_seconds: float, text: str) -> dict[str, Any]:
    return {
        "wall_s": round(wall, 2),
        "llm_calls": calls,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "outside_llm_share": round(max(0.0, wall - llm_seconds) / wall, 4) if wall else 0.0,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "text": text,
    }


def _child(which: str, paths: list[str], base_url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, "--base-url", base_url, *paths],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _server_peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    """Run both pipelines against one backend and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "examples" / "articles")])
    parser.add_argument("--base-url", help="OpenAI-compatible backend; default: start the embedded server")
    parser.add_argument("--child", choices=["ours", "stock"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runner = run_ours if args.child == "ours" else run_stock
        print(json.dumps(runner(args.paths, args.base_url)))
        return
    server = None
    if not args.base_url:
        from service.local_llm import EmbeddedServer
        from service.settings import get_settings

        settings = get_settings()
        server = EmbeddedServer(settings.embedded, alias=settings.llm.model).start()
        args.base_url = server.base_url
    try:
        stock = _child("stock", args.paths, args.base_url)
        ours = _child("ours", args.paths, args.base_url)
        server_mib = _server_peak_mib(server.process.pid) if server and server.process else 0.0
    finally:
        if server:
            server.stop()
    _print(ours, stock, server_mib)


def _print(ours: dict[str, Any], stock: dict[str, Any], server_mib: float) -> None:
    rows = [
        ("wall seconds", "wall_s", "{:.1f}"),
        ("LLM calls", "llm_calls", "{}"),
        ("prompt tokens", "prompt_tokens", "{}"),
        ("completion tokens", "completion_tokens", "{}"),
        ("total tokens", "total_tokens", "{}"),
        ("share of wall time outside LLM calls", "outside_llm_share", "{:.1%}"),
        ("peak memory, client process (MiB)", "peak_rss_mib", "{:.0f}"),
    ]
    print(f"{'':40} {'briefing':>12} {'LangChain':>12} {'ratio':>8}")
    for label, key, fmt in rows:
        ratio = ours[key] / stock[key] if stock[key] else float("nan")
        print(f"{label:40} {fmt.format(ours[key]):>12} {fmt.format(stock[key]):>12} {ratio:>7.2f}x")
    if server_mib:
        print(f"{'peak memory with embedded server (MiB)':40} {ours['peak_rss_mib'] + server_mib:>12.0f} "
              f"{stock['peak_rss_mib'] + server_mib:>12.0f}")
    print("\n--- briefing output ---\n" + ours["text"])
    print("\n--- LangChain map_reduce output ---\n" + stock["text"])


if __name__ == "__main__":
    main()
