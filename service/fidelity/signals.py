"""Support signals for one claim sentence against source sentences: semantic and lexical.

Every signal is a number where larger means *less* supported, except the similarities.
They run on a 2-core CPU with no downloads; the logistic model in `model.py` weighs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from service.fidelity.sources import SourceIndex
from service.text import content_words, dates, name_occurs, numbers, proper_names, stem, words

# Evidence-level signals only: measured on held-out data, document-level variants and a
# top-3 similarity added noise (SummEdits' edits swap one entity of an otherwise true sentence).
FEATURES = (
    "sim_best",
    "novel_words_evidence",
    "numbers_missing_evidence",
    "names_missing_evidence",
    "dates_missing",
    "negation_mismatch",
    "antonym_conflict",
)
# The closest source sentences that form a claim's evidence (the model was fitted with 3).
EVIDENCE_SENTENCES = 3
_NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot n't".split())
_ANTONYMS = [
    ("increase", "decrease"), ("increase", "cut"), ("increase", "decline"), ("rise", "decline"),
    ("growth", "decline"), ("growth", "contraction"), ("boost", "reduce"), ("rise", "fall"), ("rise", "drop"),
    ("gain", "loss"),
    ("win", "lose"), ("won", "lost"), ("winner", "loser"), ("victory", "defeat"), ("accept", "reject"),
    ("approve", "reject"), ("allow", "ban"), ("allow", "forbid"), ("permit", "prohibit"), ("support", "oppose"),
    ("before", "after"), ("more", "less"), ("more", "fewer"), ("higher", "lower"), ("larger", "smaller"),
    ("bigger", "smaller"), ("largest", "smallest"), ("most", "least"), ("positive", "negative"),
    ("open", "close"), ("opened", "closed"), ("start", "end"), ("begin", "end"), ("first", "last"),
    ("early", "late"), ("earlier", "later"), ("buy", "sell"), ("bought", "sold"), ("import", "export"),
    ("north", "south"), ("east", "west"), ("include", "exclude"), ("guilty", "innocent"), ("legal", "illegal"),
    ("majority", "minority"), ("maximum", "minimum"), ("strengthen", "weaken"), ("rich", "poor"),
    ("young", "old"), ("arrive", "depart"), ("enter", "leave"), ("agree", "disagree"), ("confirm", "deny"),
    ("true", "false"), ("success", "failure"), ("succeed", "fail"), ("peace", "war"), ("love", "hate"),
    ("male", "female"), ("men", "women"), ("husband", "wife"), ("son", "daughter"), ("father", "mother"),
    ("boy", "girl"), ("inside", "outside"), ("above", "below"), ("up", "down"), ("hot", "cold"),
    ("dead", "alive"), ("killed", "injured"), ("arrested", "released"), ("convicted", "acquitted"),
    ("public", "private"), ("domestic", "foreign"), ("left", "right"), ("best", "worst"), ("better", "worse"),
    ("always", "never"), ("all", "none"), ("same", "different"), ("full", "empty"), ("easy", "difficult"),
    ("cheap", "expensive"), ("safe", "dangerous"), ("strong", "weak"), ("fast", "slow"), ("long", "short"),
    ("high", "low"), ("new", "old"), ("wet", "dry"), ("light", "heavy"), ("join", "leave"), ("hire", "fire"),
    ("raise", "lower"), ("add", "remove"), ("expand", "shrink"), ("profit", "loss"), ("surplus", "deficit"),
]
_ANTONYM_OF: dict[str, set[str]] = {}
for _a, _b in _ANTONYMS:
    _ANTONYM_OF.setdefault(_a, set()).add(_b)
    _ANTONYM_OF.setdefault(_b, set()).add(_a)
_QUOTE = re.compile(r"[\"“”]([^\"“”]{12,}?)[\"“”]")


@dataclass(frozen=True)
class ClaimSignals:
    """The signals of one claim, the sentences that support it best, and any quote not found verbatim."""

    values: dict[str, float]
    evidence_rows: list[int]
    evidence_similarities: list[float]
    misquoted: bool = False

    @property
    def best_similarity(self) -> float:
        """Return the similarity of the closest source sentence (0 with none)."""
        return self.evidence_similarities[0] if self.evidence_similarities else 0.0


def claim_signals(claim: str, vector: np.ndarray, index: SourceIndex, rows: np.ndarray) -> ClaimSignals:
    """Compute every signal of `claim` against the source sentences at `rows` of the index."""
    assert index.vectors is not None
    if rows.size == 0:
        return ClaimSignals(dict.fromkeys(FEATURES, 1.0) | {"sim_best": 0.0}, [], [])
    sims = index.vectors[rows] @ vector
    order = np.argsort(-sims)[:EVIDENCE_SENTENCES]
    top = [int(rows[i]) for i in order]
    top_sims = [float(sims[i]) for i in order]
    articles = list(dict.fromkeys(index.sentences[r].article_id for r in rows))
    document = " ".join(index.texts[a] for a in articles)
    evidence = " ".join(index.sentences[r].text for r in top)
    best = index.sentences[top[0]].text
    spun = any(f.startswith("word-spun") for a in articles for f in index.flags.get(a, []))
    values = {
        "sim_best": top_sims[0],
        "novel_words_evidence": _novel_share(claim, evidence, spun),
        "numbers_missing_evidence": float(bool(numbers(claim) - numbers(evidence))),
        "names_missing_evidence": _names_missing(claim, evidence),
        "dates_missing": float(bool(dates(claim) - dates(document))),
        "negation_mismatch": _negation_mismatch(claim, best),
        "antonym_conflict": _antonym_conflict(claim, evidence),
    }
    return ClaimSignals(values, top, top_sims, misquoted=_quote_not_verbatim(claim, document))


def _novel_share(claim: str, source: str, spun: bool) -> float:
    claim_words = content_words(claim)
    if not claim_words:
        return 0.0
    novel = len(claim_words - content_words(source)) / len(claim_words)
    # why: a spinner swaps ordinary words ('utilized successful'), so a true claim shares fewer
    # of them with a spun source; names and numbers, checked separately, survive spinning.
    return novel * 0.5 if spun else novel


def _names_missing(claim: str, source: str) -> float:
    haystack = source.lower().replace("’", "'")
    names = proper_names(claim)
    return float(sum(1 for n in names if not name_occurs(n, haystack)) > 0)


def _negation_count(text: str) -> int:
    lowered = text.lower().replace("’", "'")
    return sum(1 for w in words(lowered) if w in _NEGATIONS) + lowered.count("n't")


def _negation_mismatch(claim: str, evidence: str) -> float:
    return float((_negation_count(claim) % 2) != (_negation_count(evidence) % 2))


def _antonym_conflict(claim: str, evidence: str) -> float:
    claim_words = set(words(claim)) | {stem(w) for w in words(claim)}
    evidence_words = set(words(evidence)) | {stem(w) for w in words(evidence)}
    for word in claim_words - evidence_words:
        if _ANTONYM_OF.get(word, set()) & (evidence_words - claim_words):
            return 1.0
    return 0.0


def _quote_not_verbatim(claim: str, document: str) -> bool:
    flat = " ".join(words(document))
    quotes = [" ".join(words(q)) for q in _QUOTE.findall(claim)]
    return any(q and q not in flat for q in quotes)
