"""A briefing request as posted, checked at the door and stored as the job's own record: the worker
reads back the same model, never a dict."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from service.models import not_blank
from service.settings import MAX_ARTICLE_CHARS

# C0 controls other than tab, newline and carriage return, DEL, and lone surrogates: never text.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\ud800-\udfff]")


# why: in the spec only (plain_text checks, and names the position): clients see what is refused
_PLAIN: dict[str, Any] = {"pattern": r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"}


def plain_text(value: str | None) -> str | None:
    """Reject what no article text contains: lone surrogates (not encodable), NUL and other
    control characters; the error names the position."""
    if value is None or (bad := _NOT_TEXT.search(value)) is None:
        return value
    kind = "a lone surrogate" if "\ud800" <= bad.group() <= "\udfff" else "control character"
    raise ValueError(f"contains {kind} U+{ord(bad.group()):04X} at position {bad.start()}")


def iso_datetime(value: object) -> object:
    """Accept a date-time only as ISO 8601 text: pydantic would read a number (or numeric text,
    4e-162 too) as a Unix time, so `"published": 0` would become 1970-01-01."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"\s*\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO 8601 date-time such as 2024-11-18T09:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(iso_datetime)]


class ArticleIn(BaseModel):
    """An article as posted: text plus optional metadata."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_ARTICLE_CHARS, json_schema_extra=_PLAIN)
    title: str | None = Field(None, max_length=1_000, json_schema_extra=_PLAIN)
    source: str | None = Field(None, max_length=500, json_schema_extra=_PLAIN)
    url: str | None = Field(None, max_length=2_000, json_schema_extra=_PLAIN)
    published: IsoDateTime | None = None

    _text_not_blank = field_validator("text")(lambda cls, value: not_blank(value))
    _plain = field_validator("text", "title", "source", "url")(lambda cls, value: plain_text(value))


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


class ArticlesIn(BaseModel):
    """POST /v1/articles: one or many."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1)


class StoredRequest(BriefingRequest):
    """A briefing request as a job stores it. `version` says which form a row holds: rows written
    before it existed are version 1, and a later form is read from the earlier ones here."""

    version: Literal[1] = 1
