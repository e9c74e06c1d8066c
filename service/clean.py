"""Split articles into paragraphs, drop speculative boilerplate, flag noisy sources.

Runs before any LLM call, so what it removes is cheap to remove and auditable in
`dropped`. Boilerplate is detected by families of signals (meta-commentary, trend-list
items, generic conclusions, unattributed hedged predictions), never by a list of known
sentences; paragraphs addressed to an AI or the reader by the address model
(`service/addressed.py`), which the caller passes in as `addressed`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from service.dates import date_line_length, is_date_label, stated_date
from service.encoding import has_mojibake
from service.models import Article, CleanArticle, Dropped, Flag, Paragraph
from service.text import has_attribution, sentences, words

_META = [
    r"\blet['’]?s\s+(now\s+)?(delve|dive|explore|examine|take\s+a\s+(closer\s+)?look|look|unpack"
    r"|analy[sz]e|consider|break\s+down|turn|unpick|zoom)",
    r"\blet\s+us\s+(now\s+)?\w+",
    r"\b(delve|dive)\s+(deeper\s+)?into\b",
    r"\b(potential|possible|emerging|future|upcoming|likely)\s+(future\s+)?"
    r"(trends|developments|implications|scenarios|outcomes|ramifications)\b",
    r"\b(trends|scenarios|developments|things)\s+to\s+watch\b",
    r"\banaly[sz](e|ing)\s+(their|the|its|these|some)\s+(potential\s+)?(implications|impact|consequences)",
    r"\bwhat\s+(does|might|could|will)\s+the\s+future\s+hold\b",
    r"^(in\s+conclusion|to\s+conclude|in\s+summary|to\s+sum\s+up|to\s+summari[sz]e|all\s+in\s+all"
    r"|in\s+closing|to\s+wrap\s+up|wrapping\s+up|in\s+the\s+final\s+analysis|in\s+a\s+nutshell)\b",
    r"^(looking\s+ahead|looking\s+forward|moving\s+forward|going\s+forward"
    r"|in\s+the\s+(coming|months|years)\s+(ahead|months|years))\b",
    r"\b(it\s+is|it['’]s|it\s+remains|it\s+will\s+be)\s+(crucial|essential|important|vital|imperative"
    r"|critical|key)\s+(for|to)\b.{0,120}\b(monitor|watch|observe|keep\s+an\s+eye|follow)",
    r"\bonly\s+time\s+will\s+tell\b",
    r"\bas\s+(these|the|such)\s+(events|developments|situation|dynamics)\s+(unfold|evolve|continue)",
]
_META_RE = [re.compile(p, re.IGNORECASE) for p in _META]
_LIST_ITEM_RE = re.compile(r"^\s*(\d{1,2}[.)]|[-*•])\s+[A-Z][^:.]{2,80}:\s")
_HEDGES = frozenset(
    "may might could likely potentially possibly perhaps probably presumably "
    "uncertain unclear remains".split()
)
EDITORIAL = re.compile(
    r"\b(implications?|dynamics|underscor\w+|highlights?|reflects?|significant(ly)?|landscape"
    r"|precedent|broader|far-reaching|delicate\s+balance|strategic\s+shift|commitment|stability"
    r"|reevaluation|crucial|paramount|pivotal|loom\s+large|geopolitical|trajectory)\b",
    re.IGNORECASE,
)
_SPECIFIC = re.compile(r"\d|\b(January|February|March|April|May|June|July|August|September"
                       r"|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday"
                       r"|Saturday|Sunday)\b")
_FUNCTION_WORDS = frozenset(
    "the of and to in a is that for on with as was at by it be from have has are were this an".split()
)
# The ten commonest function words of each language an English feed may carry instead.
_FUNCTION_WORDS_BY_LANGUAGE = {
    "English": frozenset("the of and to in a is that for on".split()),
    "French": frozenset("de la le et les des en un une est".split()),
    "Spanish": frozenset("de la que el en y los del se las".split()),
    "German": frozenset("der die und in den von zu das mit sich".split()),
    "Italian": frozenset("di che il la per un in del non le".split()),
    "Portuguese": frozenset("de que o a do da em para com os".split()),
    "Dutch": frozenset("de van het een en in is dat op te".split()),
}
_GLUED_RE = re.compile(r"\b[a-z]{4,}(which|that)\b")
_DOUBLE_SAID_RE = re.compile(r"\b(said|says|added|stated)[.,]?\s+(said|says)\b", re.IGNORECASE)
_RESUMPTIVE_RE = re.compile(
    r"(^|[.;]\s+)[A-Z][^.;]{25,},\s+(they|he|she|it)\s+(will|would|have|has|are|is|was|were|may)\b"
)
_HEADING_MAX_WORDS = 10
_HEADING_MAX_CHARS = 100


@dataclass(frozen=True)
class Verdict:
    """Why a paragraph is boilerplate (reason) or None to keep it."""

    reason: str | None
    opens_section: bool = False


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs: blank-line blocks if any, otherwise lines."""
    if re.search(r"\n\s*\n", text):
        blocks = re.split(r"\n\s*\n", text)
        return [" ".join(b.split()) for b in blocks if b.strip()]
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def paragraphs_of(article: Article) -> list[Paragraph]:
    """The article's paragraphs, numbered from 1, each split into sentences; a dateline opening the first
    ("KYIV, November 17, 2024 (Reuters) —") is left out of it: it dates the article, it is not the story."""
    texts = split_paragraphs(article.text)
    if texts and (length := date_line_length(texts[0])) and texts[0][length:].strip():
        texts[0] = texts[0][length:].strip()
    return [Paragraph(article_id=article.id, index=i, text=t) for i, t in enumerate(texts, 1)]


def clean_article(
    article: Article, addressed: Callable[[str], bool], paragraphs: list[Paragraph] | None = None
) -> CleanArticle:
    """Drop boilerplate, headings and paragraphs addressed to an AI or the reader (`addressed`
    tells a sentence that is), and flag the article's quality; `paragraphs` when already split."""
    kept: list[Paragraph] = []
    dropped: list[Dropped] = []
    in_speculation = False
    for n, paragraph in enumerate(paragraphs if paragraphs is not None else paragraphs_of(article)):
        text, index = paragraph.text, paragraph.index
        verdict = judge_paragraph(text, split=paragraph.sentences, in_speculative_section=in_speculation)
        if (instruction := next((s for s in paragraph.sentences if addressed(s)), None)) is not None:
            verdict = Verdict(f"addressed to an AI or the reader, not news ('{_start(instruction)}')")
        if verdict.opens_section:
            in_speculation = True
        elif verdict.reason is None and not is_heading(text):
            in_speculation = False
        if verdict.reason is None and ((n == 0 and date_line_length(text)) or is_date_label(text)):
            verdict = Verdict("the article's date line, no content")
        if verdict.reason is None and is_heading(text):
            verdict = Verdict("section heading, no content")
        if verdict.reason is None:
            kept.append(paragraph)
        else:
            dropped.append(Dropped(source=article.id, paragraph=index, text=text, reason=verdict.reason))
    return CleanArticle(article=article, paragraphs=kept, dropped=dropped, flags=quality_flags(article.text),
                        published=article.published or stated_date(article.text))


def judge_paragraph(
    text: str, *, split: list[str] | None = None, in_speculative_section: bool = False
) -> Verdict:
    """Decide whether one paragraph (or sentence) is speculative boilerplate, and why; `split` is
    its sentences when already split."""
    attributed = has_attribution(text)
    meta = next((m for r in _META_RE if (m := r.search(text))), None)
    if meta and not attributed:
        return Verdict(f"meta-commentary ('{meta.group(0).strip()}')", opens_section=True)
    stats = _speculation_stats(text, split or sentences(text) or [text])
    if _LIST_ITEM_RE.match(text) and not attributed and (in_speculative_section or stats.speculative):
        return Verdict("speculative trend-list item", opens_section=True)
    if in_speculative_section and not attributed and stats.specific_per_sentence < 1.0:
        return Verdict("part of a speculative section", opens_section=True)
    if not attributed and stats.speculative and stats.specific_per_sentence < 1.5:
        return Verdict("unattributed generic speculation")
    return Verdict(None)


def _start(sentence: str, words_shown: int = 8) -> str:
    parts = sentence.split()
    return " ".join(parts[:words_shown]) + (" ..." if len(parts) > words_shown else "")


def is_heading(text: str) -> bool:
    """Tell whether a paragraph is a short heading or question line with no content."""
    n = len(text.split())
    # why: scripts without spaces make one long "word"; a heading is short in characters too
    short = n <= _HEADING_MAX_WORDS and len(text) <= _HEADING_MAX_CHARS
    return short and not re.search(r"[.!\"”。！？」』]$", text)


@dataclass(frozen=True)
class _SpeculationStats:
    hedges_per_sentence: float
    generic_per_sentence: float
    specific_per_sentence: float

    @property
    def speculative(self) -> bool:
        return (self.hedges_per_sentence + self.generic_per_sentence) >= 1.5 and (
            self.generic_per_sentence >= 0.5
        )


def _speculation_stats(text: str, split: list[str]) -> _SpeculationStats:
    n = len(split)
    hedges = sum(1 for w in words(text) if w in _HEDGES)
    generic = len(EDITORIAL.findall(text))
    specific = len(_SPECIFIC.findall(text))
    return _SpeculationStats(hedges / n, generic / n, specific / n)


def quality_flags(text: str) -> list[Flag]:
    """Return source-quality notes: not English, word-spun, machine-translated or mis-encoded text."""
    language = language_of(text)
    if language != "English":
        # why: the English signals below mean nothing here (French has no "the" and would read as spun)
        note = f"written in {language}; the embedded model briefs English, the figures still count"
        return [Flag(kind="other-language", note=note)]
    flags: list[Flag] = []
    if looks_spun(text):
        note = "common words replaced by odd synonyms; facts kept, wording unreliable"
        flags.append(Flag(kind="word-spun", note=note))
    if looks_machine_translated(text):
        flags.append(Flag(kind="machine-translated", note="garbled phrasing; facts kept, quotes may be inexact"))
    if has_mojibake(text):
        flags.append(Flag(kind="mis-encoded", note="characters garbled by a wrong encoding upstream, beyond repair"))
    return flags


def language_of(text: str) -> str:
    """Name the article's language: by script when most letters are not Latin, else by which
    language's commonest function words it uses most ('English' when none beats English's)."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    if letters and latin / len(letters) < 0.5:
        scripts = [unicodedata.name(c, "").split(" ")[0] for c in letters[:2000] if not c.isascii()]
        script = Counter(scripts).most_common(1)[0][0].title() if scripts else "another script"
        return {"Cjk": "Chinese or Japanese", "Hiragana": "Japanese", "Katakana": "Japanese",
                "Hangul": "Korean"}.get(script, f"{script} script")
    tokens = re.findall(r"[^\W\d_]+", text.lower())
    if len(tokens) < 20:
        return "English"
    counts = Counter(tokens)
    rates = {name: sum(counts[w] for w in common) / len(tokens) for name, common in _FUNCTION_WORDS_BY_LANGUAGE.items()}
    best = max(rates, key=lambda name: rates[name])
    return best if rates[best] > 1.5 * rates["English"] else "English"


def looks_spun(text: str) -> bool:
    """Tell whether function words are replaced, as article spinners do ('nan' for 'the')."""
    tokens = words(text)
    if len(tokens) < 150:
        return False
    counts = Counter(tokens)
    the_rate = counts["the"] / len(tokens)
    function_rate = sum(counts[w] for w in _FUNCTION_WORDS) / len(tokens)
    top_word = counts.most_common(1)[0][0]
    # why: in any English news text 'the' is ~3-8% of words and a function word tops the list.
    return (the_rate < 0.02 and function_rate < 0.22) or top_word not in _FUNCTION_WORDS


def looks_machine_translated(text: str) -> bool:
    """Tell whether text shows two or more kinds of machine-translation damage."""
    signals = [
        len(_DOUBLE_SAID_RE.findall(text)),
        len(_GLUED_RE.findall(text)),
        len(_RESUMPTIVE_RE.findall(text)),
    ]
    return sum(1 for s in signals if s) >= 2 or sum(signals) >= 3
