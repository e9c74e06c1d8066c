"""What the repositories hand out: typed records of stored rows, and what a job's claim found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar

from service.models import Briefing, Digest, ErrorKind, Status
from service.requests import StoredRequest


@dataclass(frozen=True)
class BriefingState:
    """A briefing job as lists show it: where it stands, without the request or the briefing."""

    id: str
    status: Status
    error: str | None
    error_kind: ErrorKind | None
    attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class BriefingRecord(BriefingState):
    """A briefing job whole: the request it was given and, once done, its briefing."""

    request: StoredRequest
    briefing: Briefing | None


@dataclass(frozen=True)
class DigestRecord:
    """The digest of a date with its latest run's state (`digest`: the last complete one, if any)."""

    date: str
    status: Status
    error: str | None
    error_kind: ErrorKind | None
    fresh: bool
    runs: int
    updated_at: datetime
    digest: Digest | None


ClaimOutcome = Literal["claimed", "finished", "busy", "missing"]
Record = TypeVar("Record", BriefingRecord, DigestRecord)


@dataclass(frozen=True)
class JobClaim(Generic[Record]):
    """What a task found when it tried to take its job: `claimed` (run it, as this attempt, with the
    job as claimed), `finished` (done or failed already: nothing to do), `busy` (another live task has
    it), `missing`."""

    outcome: ClaimOutcome
    attempt: int = 0
    record: Record | None = None


@dataclass(frozen=True)
class StaleJobs:
    """Jobs whose task may be lost: `waiting` (queued past resend_after_s: its message may never have
    reached the broker) and `abandoned` (running past the lease: its worker died)."""

    waiting: list[str]
    abandoned: list[str]


@dataclass(frozen=True)
class TaskStats:
    """What /metrics reports of one kind of job."""

    kind: Literal["briefing", "digest"]
    queued: int
    running: int
    finished: int
    seconds: float
    failures: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoryHit:
    """A digest story a search found."""

    date: str
    story_id: str
    title: str
    summary: str
