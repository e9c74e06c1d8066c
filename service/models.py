"""Typed values passed between the pipeline's stages."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.text import sentences as split_sentences

FlagKind = Literal["word-spun", "machine-translated", "other-language", "mis-encoded"]
# llm: written by the model and verified; extract: a source sentence, verbatim; edited: a source sentence
# with the loaded words that grade what they stand before, or a trailing clause, left out (neutral.point_form);
# repaired: a source sentence with a word spinner's or a translation's damage undone (fidelity/damage.py)
KeyPointOrigin = Literal["llm", "extract", "edited", "repaired"]
RejectionStage = Literal["map", "summary", "key point", "title"]


class Status(StrEnum):
    """Where a stored briefing job or digest stands (`partial`: a digest some of whose stories
    have no briefing)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    PARTIAL = "partial"


class ErrorKind(StrEnum):
    """Why a job failed, as counted on /metrics."""

    BACKEND_UNAVAILABLE = "backend_unavailable"  # retried with backoff first
    BAD_GATEWAY = "bad_gateway"  # the backend's answer was unusable
    CANNOT_BRIEF = "cannot_brief"  # the input itself (nothing left after cleaning, ...)
    TIME_LIMIT = "time_limit"
    INTERNAL = "internal"


class Flag(BaseModel):
    """A source-quality warning: its kind, and what it means for the reader."""

    kind: FlagKind
    note: str

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        # why: briefings and digests stored before flags were typed hold "kind: note" strings
        if isinstance(value, str):
            kind, _, note = value.partition(": ")
            return {"kind": kind, "note": note}
        return value

    def __str__(self) -> str:
        return f"{self.kind}: {self.note}"


def not_blank(text: str) -> str:
    """Return text unchanged, or raise if it is empty or only whitespace."""
    if not text.strip():
        raise ValueError("text is empty or whitespace")
    return text


class Article(BaseModel):
    """One news article as ingested: untrusted text plus where it came from."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id derived from the text.")
    text: str
    title: str | None = None
    source: str | None = Field(None, description="Publisher or feed name.")
    url: str | None = None
    published: datetime | None = None
    origin: str = Field("inline", description="File path (and line) or 'inline'.")

    _text_not_blank = field_validator("text")(lambda cls, value: not_blank(value))

    @staticmethod
    def make_id(text: str) -> str:
        """Return the content id of an article text (whitespace-insensitive)."""
        canonical = " ".join(text.split()).encode()
        return "a" + hashlib.sha256(canonical).hexdigest()[:11]


class Paragraph(BaseModel):
    """A paragraph of an article, numbered from 1 within it, split into sentences once, here."""

    article_id: str
    index: int
    text: str
    sentences: list[str] = Field(default_factory=list, description="Filled from text when not given.")

    @model_validator(mode="after")
    def _split(self) -> Paragraph:
        if not self.sentences:
            self.sentences = split_sentences(self.text) or [self.text]
        return self


DROPPED_TEXT_CHARS = 500


class Dropped(BaseModel):
    """A paragraph removed before any LLM call (or a run of them, for one reason), and why."""

    source: str = Field(description="Article id.")
    paragraph: int = Field(description="Index of the (first) paragraph.")
    paragraphs: int = Field(1, ge=1, description="Paragraphs this entry stands for, from `paragraph` on.")
    text: str = Field(description=f"The text, its first {DROPPED_TEXT_CHARS} characters and '…' when longer.")
    reason: str

    @field_validator("text")
    @classmethod
    def _clipped(cls, text: str) -> str:
        return text if len(text) <= DROPPED_TEXT_CHARS else text[: DROPPED_TEXT_CHARS - 1].rstrip() + "…"


class Skipped(BaseModel):
    """An input that could not be briefed, and why."""

    origin: str
    reason: str


class CleanArticle(BaseModel):
    """An article after cleaning: the paragraphs kept and quality flags."""

    article: Article
    paragraphs: list[Paragraph]
    dropped: list[Dropped] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    published: datetime | None = Field(
        None, description="When it was published: the article's own date (feed, file metadata, `ingest --date`), "
        "else the date its text states about itself (a dateline, a 'Published ...' line); None when neither.")


class Chunk(BaseModel):
    """A token-bounded run of paragraphs from one article."""

    id: str
    article_id: str
    paragraphs: list[Paragraph]
    tokens: int


class Provenance(BaseModel):
    """Where a fact was read: article id and paragraph number."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    paragraph: int


class Fact(BaseModel):
    """An atomic statement proposed by the LLM, with the passages it came from."""

    text: str
    provenance: list[Provenance]
    origin: KeyPointOrigin = Field(
        "llm", description="'extract' (or 'edited', 'repaired'): the source sentence itself, "
        "its rewrite failed.")

    @property
    def article_ids(self) -> list[str]:
        """Return the distinct article ids this fact came from, in order."""
        return list(dict.fromkeys(p.article_id for p in self.provenance))


class Evidence(BaseModel):
    """The source sentence that best supports a briefing sentence."""

    article_id: str
    text: str
    similarity: float


class KeyPoint(BaseModel):
    """A verified briefing sentence and the articles that support it."""

    text: str
    sources: list[str] = Field(description="Ids of the articles that support this point.")
    support: float = Field(0.0, description="Support score in [0, 1].")
    evidence: Evidence | None = None
    origin: KeyPointOrigin = Field(
        "llm", description="'llm', 'extract' for a verbatim source sentence, 'edited' for one with its "
        "grading words ('a landmark decision') or a trailing clause left out, or 'repaired' for one with a word "
        "spinner's substitutes or a translation's debris undone ('once morest' -> 'against').")
    gist_sources: list[str] = Field(
        default_factory=list,
        description="Ids of further articles that state the point's gist (who did what, with every number) in "
        "their own words, though not all of its details; counted, not cited.")
    independent_sources: int = Field(
        0, description="Independent sources that state it, in full (`sources`) or its gist (`gist_sources`); "
        "copies of one report count once."
    )
    disputed: list[str] = Field(
        default_factory=list, description="Disagreements this sentence states one value of (see `disagreements`)."
    )


DatePrecision = Literal["day", "week", "month", "year"]


class DateMention(BaseModel):
    """A date as a source wrote it, and the date it means when that can be known."""

    said: str = Field(description="As written: 'last month', 'on Sunday', 'November 17, 2024'.")
    when: str | None = Field(
        None, description="ISO date, YYYY-MM or YYYY (a week: its Monday); None when nothing resolves it."
    )
    precision: DatePrecision | None = None


class TimelineEntry(BaseModel):
    """A dated event of a story: a verified briefing sentence or a source sentence, and its date."""

    date: DateMention
    text: str
    sources: list[str]


class DateSpan(BaseModel):
    """When a story was reported: from its articles' publication dates."""

    start: str
    end: str


class Claim(BaseModel):
    """One value of a disputed fact and the articles that state it."""

    text: str
    sources: list[str]


class Disagreement(BaseModel):
    """Sources that give different values for the same thing."""

    about: str
    claims: list[Claim]


class SourceInfo(BaseModel):
    """An article as listed in a briefing, as a reader knows it: title, outlet, date."""

    id: str
    title: str | None
    origin: str
    lead: str | None = Field(None, description="The article's first words, to know an untitled one by.")
    outlet: str | None = Field(None, description="The publisher, or the host of the article's URL.")
    url: str | None = None
    published: datetime | None = None
    flags: list[Flag] = Field(default_factory=list)


class Rejected(BaseModel):
    """A sentence the verifier removed, and why."""

    text: str
    reason: str
    stage: RejectionStage
    unsupported: bool = Field(False, description="Removed for lack of support in its sources.")
    origin: KeyPointOrigin = Field("llm", description="'extract' or 'edited': a source sentence, not the model's.")


class RunRecord(BaseModel):
    """How a briefing was made."""

    model: str
    prompts: dict[str, str]
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    llm_seconds: float = Field(0.0, description="Wall seconds with an LLM call in flight.")
    settings_hash: str = ""
    facts_proposed: int = 0
    facts_kept: int = 0
    collapse_rounds: int = 0
    rejected: list[Rejected] = Field(default_factory=list)
    unsupported_dropped: int = Field(0, description="Summary, point and title sentences the verifier removed.")
    fallback_used: bool = False


class Story(BaseModel):
    """Articles about one event, with near-duplicates folded into independent sources."""

    id: str = Field(description="Stable id derived from the article ids.")
    article_ids: list[str]
    independent: list[list[str]] = Field(
        description="Groups of article ids that are copies of one another (syndicated, spun, lightly rewritten), "
        "each led by its cleanest copy."
    )

    @property
    def independent_sources(self) -> int:
        """Return how many independent sources report the story."""
        return len(self.independent)

    @staticmethod
    def make_id(article_ids: list[str]) -> str:
        """Return the id of the story made of these articles."""
        return "s" + hashlib.sha256(",".join(sorted(article_ids)).encode()).hexdigest()[:11]


class Briefing(BaseModel):
    """The product: a short neutral briefing whose every sentence cites its sources."""

    title: str
    summary: str
    summary_sentences: list[KeyPoint] = Field(
        default_factory=list, description="The summary's sentences with their sources."
    )
    key_points: list[KeyPoint]
    disagreements: list[Disagreement] = Field(default_factory=list)
    stories: list[Story] = Field(
        default_factory=list, description="The events the articles report; figures are compared within each."
    )
    date_span: DateSpan | None = Field(None, description="When it happened, as far as the sources say.")
    timeline: list[TimelineEntry] = Field(default_factory=list, description="Dated events, in order, each cited.")
    sources: list[SourceInfo]
    dropped: list[Dropped] = Field(
        default_factory=list, description="What was dropped before summarising: the first pipeline.dropped_listed."
    )
    dropped_counts: dict[str, int] = Field(
        default_factory=dict, description="Paragraphs dropped, all of them, by reason."
    )
    skipped: list[Skipped] = Field(default_factory=list)
    run: RunRecord
    sections: list[Briefing] = Field(
        default_factory=list,
        description="When the articles report more than one story: one briefing per story, ranked by independent "
        "sources, each citing only its own articles. The fields above are then the batch's overview: the "
        "stories' titles, each story's lead sentence, the date span, every source, and the run's totals.",
    )

    def story_briefings(self) -> list[Briefing]:
        """The briefing of each story: its sections, or itself when it reports one story."""
        return self.sections or [self]


class Continuation(BaseModel):
    """The story of an earlier digest that a digest story continues (same event, newer articles),
    and what is new since."""

    date: str = Field(description="The earlier digest's date, YYYY-MM-DD.")
    story_id: str
    title: str
    new: list[KeyPoint] = Field(
        default_factory=list, description="This story's sentences the earlier briefing did not state."
    )


class DigestStory(BaseModel):
    """One story of a digest: its briefing, or why it has none."""

    id: str
    rank: int
    article_ids: list[str]
    independent_sources: int
    duplicates: list[list[str]] = Field(
        default_factory=list, description="Groups of articles counted as one source."
    )
    briefing: Briefing | None = None
    disagreements: list[Disagreement] = Field(default_factory=list)
    error: str | None = None
    continues: Continuation | None = Field(
        None, description="The story of an earlier digest this one continues, and what is new since."
    )


class FurtherStory(BaseModel):
    """A story ranked below digest.max_stories: listed with its sources, not briefed."""

    id: str
    rank: int
    title: str = Field(description="Its lead article's title, or that article's first words.")
    sources: list[str] = Field(description="Who reports it: one outlet (or file) per independent source.")
    article_ids: list[str]
    independent_sources: int


class DigestTotals(BaseModel):
    """What a digest run cost."""

    seconds: float = 0.0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stories_reused: int = Field(0, description="Stories whose briefing was kept from an earlier run.")


class Digest(BaseModel):
    """Everything that came in on one date, as ranked stories each with a briefing. Read over HTTP it
    carries its run's state: a rerun in progress still shows the last complete digest (empty while none
    was made), with the run's status, error and last change."""

    date: str = Field(description="YYYY-MM-DD in the digest's time zone.")
    timezone: str
    status: Status
    error: str | None = Field(None, description="Why the latest run failed.")
    updated_at: datetime | None = Field(None, description="When the latest run last changed.")
    generated_at: datetime | None = None
    articles: int = 0
    inputs: dict[str, int] = Field(default_factory=dict, description="Articles read per input kind.")
    stories: list[DigestStory] = Field(default_factory=list)
    further: list[FurtherStory] = Field(
        default_factory=list, description="Stories ranked below digest.max_stories: listed, not briefed."
    )
    skipped: list[Skipped] = Field(default_factory=list, description="Inputs left out, each with the reason.")
    totals: DigestTotals = Field(default_factory=DigestTotals)
