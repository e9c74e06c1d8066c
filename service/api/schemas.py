"""Response bodies of the HTTP API, and the path and query types its routes share (request bodies:
service.requests, which the job stores as it was posted)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, Field

from service.models import Briefing, Status

Item = TypeVar("Item", bound=BaseModel)


def iso_date(value: object) -> object:
    """Accept a date only as YYYY-MM-DD (pydantic would read '0' as 1970-01-01)."""
    if not isinstance(value, str | date) or (isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_date)]


class BriefingJob(BaseModel):
    """A briefing job: where it stands, and the error when it failed."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    error: str | None = None
    location: str | None = Field(None, description="Where to read it (a queued job's Location).")
    created_at: datetime | None = None


class BriefingOut(BriefingJob):
    """A briefing job with its briefing when done."""

    briefing: Briefing | None = None


class DigestJob(BaseModel):
    """A requested digest run."""

    date: str = Field(description="YYYY-MM-DD")
    status: Status
    location: str


class DigestSummary(BaseModel):
    """A digest in a list: its run's state and how many stories it has."""

    date: str = Field(description="YYYY-MM-DD")
    status: Status
    error: str | None = None
    stories: int = Field(description="Stories of the last complete digest.")
    generated_at: datetime | None = None
    updated_at: datetime | None = None


class StoredArticle(BaseModel):
    """An article as stored."""

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: datetime | None = None


class StoredArticles(BaseModel):
    """Which posted articles were new and which were stored already."""

    added: list[str]
    existing: list[str]


class Page(BaseModel, Generic[Item]):
    """A page of a list."""

    items: list[Item]
    total: int
    offset: int
    limit: int
