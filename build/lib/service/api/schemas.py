"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.models import not_blank


class ArticleIn(BaseModel):
    """An article as posted: text plus optional metadata."""

    model_config = ConfigDict(extra="forbid")

    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: datetime | None = None

    _text_not_blank = field_validator("text")(lambda cls, value: not_blank(value))


class BriefingOptions(BaseModel):
    """How to brief: prompt versions per stage, and the format of a briefing answered at once
    ("md": Markdown; queued ones are read with GET ?format=md)."""

    model_config = ConfigDict(extra="forbid")

    prompts: dict[str, str] | None = None
    format: Literal["json", "md"] = "json"


class BriefingRequest(BaseModel):
    """POST /v1/briefings."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1)
    options: BriefingOptions = Field(default_factory=BriefingOptions)


class BriefingOut(BaseModel):
    """A briefing job: its state, and the briefing when done or the error when failed."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    briefing: dict[str, Any] | None = None
    error: str | None = None
    location: str | None = None
    created_at: datetime | None = None


class ArticlesIn(BaseModel):
    """POST /v1/articles: one or many."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1)


class StoredArticles(BaseModel):
    """Which posted articles were new and which were stored already."""

    added: list[str]
    existing: list[str]


class Page(BaseModel):
    """A page of a list."""

    items: list[Any]
    total: int
    offset: int
    limit: int
