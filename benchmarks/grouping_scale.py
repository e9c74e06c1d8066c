"""How grouping (copy detection and story clustering) grows with the size of a day.

    python benchmarks/grouping_scale.py [--sizes 1000 4000 10000]

Builds days from the 264 distinct public news documents in the repository (the four examples,
SummEdits' 25 news documents, QAGS CNN/DailyMail's 235 sources): each article of a day is a run of
sentences from one document, a quarter of them reprinted or spun copies of another article, so
the day holds stories of several reports and copies to fold. Sentence vectors are made, not
embedded (each document a random direction, each sentence near it), so the figure is grouping's own
cost: `group_stories` alone, timed once per size (one process, one core's worth of BLAS), with the
process's peak memory. Prints seconds per size and the ratio of the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from pathlib import Path

import numpy as np

from service.group import group_stories
from service.models import Article, CleanArticle, Paragraph
from service.settings import GroupSettings
from service.text import sentences

ROOT = Path(__file__).resolve().parent.parent
DIMENSIONS = 384


def documents() -> list[str]:
    faithfulness = ROOT / "evals" / "data" / "faithfulness"
    summedits = {e["doc"] for e in json.loads((faithfulness / "summedits_news.json").read_text(encoding="utf-8"))}
    qags = {e["source"] for e in json.loads((faithfulness / "qags_cnndm.json").read_text(encoding="utf-8"))}
    examples = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples" / "articles").glob("*.txt"))]
    return sorted(summedits | qags | set(examples))


def day(size: int, seed: int = 7) -> tuple[list[CleanArticle], dict[str, np.ndarray]]:
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    docs = [sentences(" ".join(d.split())) for d in documents()]
    directions = noise.standard_normal((len(docs), DIMENSIONS))
    articles: list[CleanArticle] = []
    vectors: dict[str, np.ndarray] = {}
    while len(articles) < size:
        if articles and rng.random() < 0.25:  # a copy of an earlier article: reprinted, or spun
            source = rng.choice(articles)
            lines = [p.text for p in source.paragraphs]
            lines = [line.replace(" the ", " nan ") for line in lines] if rng.random() < 0.5 else lines
            doc = int(source.article.origin.split(":")[1])
        else:
            doc = rng.randrange(len(docs))
            start = rng.randrange(max(1, len(docs[doc]) - 8))
            lines = docs[doc][start:start + rng.randint(6, 14)]
        text = "\n".join(lines) + f"\nReport {len(articles)}."
        article = Article(id=Article.make_id(text), text=text, origin=f"doc:{doc}:{len(articles)}")
        paragraphs = [Paragraph(article_id=article.id, index=k + 1, text=line)
                      for k, line in enumerate(text.split("\n"))]
        clean = CleanArticle(article=article, paragraphs=paragraphs)
        rows = sum(len(p.sentences) for p in paragraphs)
        made = directions[doc] + 0.8 * noise.standard_normal((rows, DIMENSIONS))
        vectors[article.id] = made / np.linalg.norm(made, axis=1, keepdims=True)
        articles.append(clean)
    return articles, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000])
    args = parser.parse_args()
    timings = {}
    for size in args.sizes:
        articles, vectors = day(size)
        started = time.perf_counter()
        stories = group_stories(articles, vectors, GroupSettings())
        timings[size] = time.perf_counter() - started
        sources = sum(s.independent_sources for s in stories)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>6} articles: {timings[size]:7.1f} s grouping, {len(stories)} stories, "
              f"{sources} independent sources, peak RSS {peak:.0f} MiB")
    low, high = min(timings), max(timings)
    ratio = timings[high] / timings[low]
    print(f"ratio {high}/{low} articles: {ratio:.1f}x the time for {high / low:.0f}x the articles")


if __name__ == "__main__":
    main()
