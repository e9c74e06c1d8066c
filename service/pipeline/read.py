"""What the LLM reads: the briefed articles' most salient sentences, no fact twice, within a token budget.

Prompt processing is most of what a run costs on a small model, and reports of one event repeat each
other, so over budget the LLM reads the sentences that matter most first and skips restatements. The
verifier, the extractive fallback and the disagreement finder still read every sentence.
"""

from __future__ import annotations

import numpy as np

from service.chunk import count_tokens
from service.fidelity.sources import SourceIndex
from service.models import CleanArticle
from service.pipeline.salience import NoveltyPicker, salience


def reading(articles: list[CleanArticle], index: SourceIndex, budget: int, encoding: str) -> list[CleanArticle]:
    """Return the articles cut to what the LLM reads (paragraph numbers kept); `budget` 0 reads all."""
    tokens = [count_tokens(s.text, encoding) for s in index.sentences]
    if budget <= 0 or sum(tokens) <= budget:
        return articles
    assert index.vectors is not None
    picker = NoveltyPicker(index, salience(index), list(range(len(index.sentences))))
    sizes = np.array(tokens)
    keep: set[int] = set()
    spent = 0
    while (row := picker.next()) is not None:
        if picker.redundant(row) or spent + tokens[row] > budget:
            continue
        picker.take(index.vectors[row])
        keep.add(row)
        spent += tokens[row]
        picker.close(np.flatnonzero(sizes > budget - spent))  # why: what no longer fits is not offered
    kept_text: dict[tuple[str, int], list[str]] = {}
    for row in sorted(keep):
        s = index.sentences[row]
        kept_text.setdefault((s.article_id, s.paragraph), []).append(s.text)
    out = []
    for article in articles:
        aid = article.article.id
        paragraphs = [
            p.model_copy(update={"text": " ".join(split), "sentences": split})
            for p in article.paragraphs if (split := kept_text.get((aid, p.index)))
        ]
        if paragraphs:
            out.append(article.model_copy(update={"paragraphs": paragraphs}))
    return out
