"""What the reading pages show, built from the models the API returns: a digest's stories, a story's
cited sentences, and a source article with the sentences a point was verified against marked."""

from __future__ import annotations

from dataclasses import dataclass

from service.clean import paragraphs_of
from service.models import Article, Briefing, Digest, DigestStory, Dropped, KeyPoint


@dataclass(frozen=True)
class MarkedSentence:
    """A sentence of a source article, and whether the point was verified against it."""

    text: str
    evidence: bool
    anchor: bool = False  # the first marked sentence: where a citation's link lands


@dataclass(frozen=True)
class MarkedParagraph:
    """A paragraph of a source article: its sentences, or why cleaning dropped it."""

    index: int
    sentences: list[MarkedSentence]
    dropped: str | None


def cited_sentences(briefing: Briefing) -> list[KeyPoint]:
    """Every sentence of a story a reader can check, numbered in page order: summary, then points."""
    return [*briefing.summary_sentences, *briefing.key_points]


def story_of(digest: Digest, story_id: str) -> DigestStory | None:
    """A digest's story by id, if it was briefed."""
    return next((s for s in digest.stories if s.id == story_id and s.briefing), None)


def one_line(briefing: Briefing) -> str:
    """A story's summary as one line: its first sentence."""
    return briefing.summary_sentences[0].text if briefing.summary_sentences else briefing.summary


def marked_article(article: Article, point: KeyPoint, dropped: list[Dropped]) -> list[MarkedParagraph]:
    """The article as the pipeline split it, each paragraph's sentences with the ones the point was
    verified against marked, and the paragraphs cleaning dropped with their reason."""
    evidence = _normal(point.evidence.text) if point.evidence and point.evidence.article_id == article.id else ""
    why_dropped = {d.paragraph + n: d.reason for d in dropped if d.source == article.id for n in range(d.paragraphs)}
    anchored = False
    marked: list[MarkedParagraph] = []
    for paragraph in paragraphs_of(article):
        sentences = []
        for text in paragraph.sentences:
            hit = bool(evidence) and paragraph.index not in why_dropped and _same(evidence, _normal(text))
            sentences.append(MarkedSentence(text, hit, anchor=hit and not anchored))
            anchored = anchored or hit
        marked.append(MarkedParagraph(paragraph.index, sentences, why_dropped.get(paragraph.index)))
    return marked


def _normal(text: str) -> str:
    return " ".join(text.split()).strip(" “”\"'")


def _same(evidence: str, sentence: str) -> bool:
    # why: the evidence window may be a sentence or a run of them; either way it holds the whole sentence
    return sentence == evidence or (len(sentence) > 20 and sentence in evidence)
