"""What the LLM reads: the briefed articles' most salient sentences, no fact twice, within a token budget
(as chunks of articles for the fact-listing prompts, or as short passages for the rewrite prompts).

Prompt processing is most of what a run costs on a small model, and reports of one event repeat each
other, so over budget the LLM reads the sentences that matter most first and skips restatements. The
verifier, the extractive fallback and the disagreement finder still read every sentence.
"""

from __future__ import annotations

import numpy as np

from service.chunk import count_tokens
from service.fidelity.sources import SourceIndex
from service.models import Chunk, CleanArticle, Paragraph
from service.pipeline.extract import as_shipped
from service.pipeline.salience import NoveltyPicker, new_facts_first, salience

_PASSAGE_WORDS = 45


def reading(articles: list[CleanArticle], index: SourceIndex, budget: int, encoding: str) -> list[CleanArticle]:
    """Return the articles cut to what the LLM reads (paragraph numbers kept); `budget` 0 reads all."""
    tokens = [count_tokens(s.text, encoding) for s in index.sentences]
    if budget <= 0 or sum(tokens) <= budget:
        return articles
    keep = set(_picked(index, tokens, budget))
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


def passages(index: SourceIndex, encoding: str, count: int) -> list[Chunk]:
    """The `count` most salient passages, none restating another, for the rewrite prompts: a picked
    sentence that could ship (`as_shipped`), joined by the sentences after it in its paragraph while the
    passage is short (at most three sentences, _PASSAGE_WORDS words); new facts first, then the most
    salient. The count bounds what the model reads."""
    tokens = [count_tokens(s.text, encoding) for s in index.sentences]
    # why: a sentence that cannot ship costs a call for nothing (a failed rewrite falls back to it), and
    # must not count as covering the names it states when the passages with new facts are put first
    candidates = [row for row in _picked(index, tokens, sum(tokens)) if as_shipped(index, index.sentences[row].text)]
    used: set[int] = set()
    out: list[Chunk] = []
    for row in new_facts_first(index, candidates):
        if len(out) >= count:
            break
        if row in used:
            continue
        rows = [row]
        first = index.sentences[row]
        while len(rows) < 3 and (after := rows[-1] + 1) < len(index.sentences) and after not in used:
            nxt = index.sentences[after]
            words = sum(len(index.sentences[r].text.split()) for r in rows) + len(nxt.text.split())
            if (nxt.article_id, nxt.paragraph) != (first.article_id, first.paragraph) or words > _PASSAGE_WORDS:
                break
            rows.append(after)
        used.update(rows)
        said = [index.sentences[r].text for r in rows]
        paragraph = Paragraph(article_id=first.article_id, index=first.paragraph, text=" ".join(said), sentences=said)
        out.append(Chunk(id=f"{first.article_id}-s{first.position}", article_id=first.article_id,
                         paragraphs=[paragraph], tokens=sum(tokens[r] for r in rows)))
    return out


def _picked(index: SourceIndex, tokens: list[int], budget: int) -> list[int]:
    """Sentence rows in the order they are picked: most salient first, none restating one already
    picked, until the budget is spent."""
    assert index.vectors is not None
    picker = NoveltyPicker(index, salience(index), list(range(len(index.sentences))))
    sizes = np.array(tokens)
    picked: list[int] = []
    spent = 0
    while (row := picker.next()) is not None:
        if picker.redundant(row) or spent + tokens[row] > budget:
            continue
        picker.take(index.vectors[row])
        picked.append(row)
        spent += tokens[row]
        picker.close(np.flatnonzero(sizes > budget - spent))  # why: what no longer fits is not offered
    return picked
