"""Benchmark: this pipeline vs LangChain's stock map_reduce summarize chain, same backend, one run.

    python benchmarks/compare_langchain.py [PATH ...] [--base-url URL]

With no --base-url it starts the embedded SmolLM2 server once and points both at it. Each
pipeline runs in its own subprocess so peak memory is measured cleanly. Prints a table:
wall seconds, LLM calls, prompt/completion tokens, share of wall time outside LLM calls,
peak memory (client process, and with the embedded server added), how much of the prompt text
is article text, and the physical floor: the useful article text (kept sentences, none
restating another) read once.
"""

from __future__ import annotations

import argparse
import json
import re
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
    meter = _Meter()
    model.callbacks = [meter]
    started = time.perf_counter()
    corpus = prepare(articles, settings)
    briefing = brief(corpus, settings=settings, model=model)
    wall = time.perf_counter() - started
    run = briefing.run
    text = "\n".join([briefing.title, briefing.summary,
                      *[f"- {p.text}" for b in briefing.story_briefings() for p in b.key_points]])
    figures = _figures(wall, run.llm_calls, run.prompt_tokens, run.completion_tokens, run.llm_seconds, text)
    # article text reaches the model fenced as <article> (listing prompts) or <sentences> (rewrite prompts)
    fenced = [m.group(2) for prompt in meter.prompts
              for m in re.finditer(r"<(article|sentences)>(.*?)</\1>", prompt, re.S)]
    return figures | _shares(meter.prompts, sum(_tokens(p) for p in fenced)) | {"floor": _floor(corpus)}


def _floor(corpus: Any) -> int:
    """The useful article text, read once: every kept sentence of the briefed sources, less those
    that restate a sentence already counted (the same threshold the reading stage uses)."""
    from service.pipeline.salience import REDUNDANT

    index = corpus.index.subset([a.article.id for a in corpus.briefed(corpus.stories)])
    counted: list[Any] = []
    total = 0
    for row, sentence in enumerate(index.sentences):
        if not counted or max(float(v @ index.vectors[row]) for v in counted) < REDUNDANT:
            counted.append(index.vectors[row])
            total += _tokens(sentence.text)
    return total


def _tokens(text: str) -> int:
    from service.chunk import count_tokens

    return count_tokens(text)


def _shares(prompts: list[str], article: int) -> dict[str, Any]:
    """cl100k tokens of every prompt sent, and how many of them are article text."""
    total = sum(_tokens(p) for p in prompts)
    return {"prompt_text_tokens": total, "article_tokens": article,
            "article_share": round(article / total, 4) if total else 0.0}


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
    figures = _figures(
        wall, meter.calls, meter.prompt_tokens, meter.completion_tokens, meter.busy, result["output_text"]
    )
    # why: the stock map prompt quotes each document whole, once
    return figures | _shares(meter.prompts, sum(_tokens(a.text) for a in articles))


class _Meter:
    """A LangChain callback counting calls, tokens and wall time with a call in flight, and keeping
    the text of every prompt sent."""

    def __new__(cls) -> Any:
        from langchain_core.callbacks import BaseCallbackHandler

        class Meter(BaseCallbackHandler):
            def __init__(self) -> None:
                self.calls = self.prompt_tokens = self.completion_tokens = 0
                self.busy = 0.0
                self.prompts: list[str] = []
                self._in_flight = 0
                self._since = 0.0

            def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
                self.prompts += ["\n".join(str(m.content) for m in batch) for batch in messages]
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
        ("prompt text, cl100k tokens", "prompt_text_tokens", "{}"),
        ("  of which article text", "article_tokens", "{}"),
        ("  article share of prompt text", "article_share", "{:.1%}"),
        ("peak memory, client process (MiB)", "peak_rss_mib", "{:.0f}"),
    ]
    print(f"{'':40} {'briefing':>12} {'LangChain':>12} {'ratio':>8}")
    for label, key, fmt in rows:
        ratio = "" if key.endswith("_share") or not stock[key] else f"{ours[key] / stock[key]:>7.2f}x"
        print(f"{label:40} {fmt.format(ours[key]):>12} {fmt.format(stock[key]):>12} {ratio:>8}")
    print(f"{'floor: useful article text read once':40} {ours['floor']:>12} "
          f"{'':>12} {ours['floor'] / stock['prompt_text_tokens']:>7.2f}x  (cl100k; ratio to LangChain's prompt text)")
    if server_mib:
        print(f"{'peak memory with embedded server (MiB)':40} {ours['peak_rss_mib'] + server_mib:>12.0f} "
              f"{stock['peak_rss_mib'] + server_mib:>12.0f}")
    print("\n--- briefing output ---\n" + ours["text"])
    print("\n--- LangChain map_reduce output ---\n" + stock["text"])


if __name__ == "__main__":
    main()
