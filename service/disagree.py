"""Find figures the sources of one story give differently (a range, a sum, a count), with who says what."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from service.models import Claim, CleanArticle, Disagreement
from service.text import STOPWORDS

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9,
          "trillion": 1e12}
_COUNTED = {noun: noun for noun in
            "troops people civilians missiles drones killed deaths casualties refugees tanks".split()}
_COUNTED["soldiers"] = "troops"
_MEASURE = re.compile(
    r"(?i:(?P<qual>about|around|approximately|roughly|some|nearly|almost|up to|more than|over|at least"
    r"|less than|under|astir)\s+)?"
    r"(?:(?P<cur>[$€£])\s?(?P<money>\d+(?:[.,]\d+)*)\s?(?i:(?P<scale>k|m|mn|bn|thousand|million|billion|trillion)\b)?"
    r"|(?P<length>\d+(?:[.,]\d+)*)\s?(?i:(?P<unit>km|kilomet(?:re|er)s?|miles?|mi|met(?:re|er)s?|%|percent|per cent))"
    r"(?!\w)"
    r"|(?P<count>\d{1,3}(?:,\d{3})+|\d{2,})\s+(?P<quals>(?:[A-Z][\w’'-]*\s+(?:and\s+)?){0,4})"
    r"(?P<noun>" + "|".join(_COUNTED) + r")\b)"
)
_ATTRIBUTE = re.compile(r"\b([a-z]{3,})\s+of\s+$")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{2,}\b")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
_APPROX = {"about", "around", "approximately", "roughly", "some", "nearly", "almost", "astir"}
_LOWER, _UPPER = {"more than", "over", "at least"}, {"up to", "less than", "under"}
_TOLERANCE = 0.1
_DIMENSION_NAMES = {"length": "distance", "share": "share"}


@dataclass
class Mention:
    """One figure as a source states it."""

    article_id: str
    dimension: str
    subject: str
    attribute: str
    value: float
    qualifier: str
    text: str


def find_disagreements(articles: list[CleanArticle]) -> list[Disagreement]:
    """Return the figures on which the given articles (one story) differ, each value with its sources."""
    found_mentions = [m for article in articles for m in mentions(article)]
    subjects: dict[str, set[str]] = {}
    for m in found_mentions:
        if m.subject:
            subjects.setdefault(m.dimension, set()).add(m.subject.lower())
    groups: dict[tuple[str, str], list[Mention]] = {}
    for mention in found_mentions:
        subject = mention.subject.lower()
        if not subject:  # why: a figure of unknown subject is comparable only when the story has one subject
            known = subjects.get(mention.dimension, set())
            if len(known) > 1:
                continue
            subject = next(iter(known), "")
        groups.setdefault((mention.dimension, subject), []).append(mention)
    order = {a.article.id: n for n, a in enumerate(articles)}
    found = []
    for group in groups.values():
        clusters = _value_clusters(group)
        # why: one source giving two values is not sources disagreeing.
        if not any(_disjoint(a, b) for a in clusters for b in clusters):
            continue
        claims = [_claim(cluster, order) for cluster in clusters]
        claims.sort(key=lambda c: (-len(c.sources), order[c.sources[0]]))
        found.append(Disagreement(about=_about(group), claims=claims))
    return found


def disputed(text: str, disagreements: list[Disagreement]) -> list[str]:
    """Return what a sentence takes one side on: the `about` of each disagreement whose value it states."""
    stated = _sentence_mentions("", text, "")
    found = []
    for dispute in disagreements:
        values = [m for claim in dispute.claims for m in _sentence_mentions("", claim.text, "")]
        if any(s.dimension == v.dimension and _same_value(s, v) for s in stated for v in values):
            found.append(dispute.about)
    return found


def mentions(article: CleanArticle) -> list[Mention]:
    """Return the figures of one article, each with what it measures and of what."""
    found: list[Mention] = []
    context = ""
    for paragraph in article.paragraphs:
        for sentence in paragraph.sentences:
            found += _sentence_mentions(article.article.id, sentence, context)
            context += " " + sentence
    return found


def _sentence_mentions(article_id: str, sentence: str, context: str) -> list[Mention]:
    found: list[Mention] = []
    spans: list[tuple[int, int]] = []
    for match in _MEASURE.finditer(sentence):
        dimension, value = _parse(match)
        before = sentence[: match.start()]
        if dimension.startswith("count:"):
            subject = " ".join((match.group("quals") or "").split())
        else:
            subject = _subject(before) or _subject(context, acronyms_only=True) or ""
        attribute = _ATTRIBUTE.search(before[-40:].lower())
        mention = Mention(
            article_id=article_id, dimension=dimension, subject=subject,
            attribute=attribute.group(1) if attribute else "", value=value,
            qualifier=(match.group("qual") or "").lower(), text=sentence[_figure_start(match):match.end()],
        )
        # why: "300km (190 miles)" is one statement in two units, not two statements.
        if found and sentence[spans[-1][1]:match.start()].strip() == "(" and found[-1].dimension == dimension:
            end = match.end() + (sentence[match.end():match.end() + 1] == ")")
            found[-1].text = sentence[spans[-1][0]:end].strip()
            spans[-1] = (spans[-1][0], end)
            continue
        found.append(mention)
        spans.append((_figure_start(match), match.end()))
    return found


def _figure_start(match: re.Match[str]) -> int:
    """Return where the figure itself starts, after any qualifier ('about')."""
    return next(match.start(group) for group in ("cur", "length", "count") if match.start(group) >= 0)


def _parse(match: re.Match[str]) -> tuple[str, float]:
    if match.group("cur"):
        scale = _SCALE.get((match.group("scale") or "").lower(), 1.0)
        return f"money:{match.group('cur')}", _number(match.group("money")) * scale
    if match.group("unit"):
        unit = match.group("unit").lower()
        if unit in {"%", "percent", "per cent"}:
            return "share", _number(match.group("length"))
        factor = 1.609344 if unit.startswith("mi") else 0.001 if unit.startswith("met") else 1.0
        return "length", _number(match.group("length")) * factor
    return f"count:{_COUNTED[match.group('noun')]}", _number(match.group("count"))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _subject(text: str, *, acronyms_only: bool = False) -> str | None:
    """Return the name mentioned last before a figure: what the figure is about."""
    candidates = [(m.start(), m.group(0)) for m in _ACRONYM.finditer(text)]
    if not acronyms_only:
        candidates += [(m.start(), m.group(0)) for m in _NAME.finditer(text)
                       if m.group(0).lower() not in STOPWORDS]
    return max(candidates)[1] if candidates else None


def _same_value(a: Mention, b: Mention) -> bool:
    low, high = sorted((a.value, b.value))
    if high == 0:
        return True
    if (a.qualifier in _LOWER and b.value >= a.value) or (b.qualifier in _LOWER and a.value >= b.value):
        return True
    if (a.qualifier in _UPPER and b.value <= a.value) or (b.qualifier in _UPPER and a.value <= b.value):
        return True
    slack = _TOLERANCE * (2 if a.qualifier in _APPROX or b.qualifier in _APPROX else 1)
    return (high - low) / high <= slack


def _value_clusters(group: list[Mention]) -> list[list[Mention]]:
    clusters: list[list[Mention]] = []
    for mention in sorted(group, key=lambda m: m.value):
        for cluster in clusters:
            if all(_same_value(mention, other) for other in cluster):
                cluster.append(mention)
                break
        else:
            clusters.append([mention])
    return clusters


def _disjoint(a: list[Mention], b: list[Mention]) -> bool:
    return not {m.article_id for m in a} & {m.article_id for m in b}


def _claim(cluster: list[Mention], order: dict[str, int]) -> Claim:
    text = max((m.text for m in cluster), key=len)
    return Claim(text=text, sources=sorted({m.article_id for m in cluster}, key=order.__getitem__))


def _about(group: list[Mention]) -> str:
    subjects = Counter(m.subject for m in group if m.subject)
    attributes = Counter(m.attribute for m in group if m.attribute)
    dimension = group[0].dimension
    if attributes:
        attribute = attributes.most_common(1)[0][0]
    elif dimension.startswith("count:"):
        attribute = dimension.split(":", 1)[1]
    else:
        attribute = _DIMENSION_NAMES.get(dimension, "amount")
    subject = subjects.most_common(1)[0][0] if subjects else ""
    return f"{subject} {attribute}".strip()
