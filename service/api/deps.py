"""Dependencies of the routers: settings, store, chat model, and API-key checks.

All async: FastAPI runs sync dependencies in its thread pool, a costly hop for a lookup.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request
from langchain_core.language_models import BaseChatModel

from service.api.errors import ApiError
from service.settings import Settings
from service.store import Store
from service.tasks.queue import Queue

MAX_OFFSET = 1_000_000_000


async def settings(request: Request) -> Settings:
    """Return the app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def store(request: Request) -> Store:
    """Return the app's store."""
    return request.app.state.store  # type: ignore[no-any-return]


async def chat_model(request: Request) -> BaseChatModel:
    """Return the app's chat model."""
    return request.app.state.model  # type: ignore[no-any-return]


async def queue(request: Request) -> Queue:
    """Return the app's task queue."""
    return request.app.state.queue  # type: ignore[no-any-return]


async def require_key(request: Request) -> None:
    """Allow the request only with a configured key (Bearer or X-API-Key): 401 without, 403 wrong."""
    keys = request.app.state.settings.keys
    sent = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not sent and auth.lower().startswith("bearer "):
        sent = auth[7:].strip()
    if not sent:
        raise ApiError(401, "unauthorized", "an API key is required (Authorization: Bearer KEY or X-API-Key)",
                       headers={"WWW-Authenticate": "Bearer"})
    # why: as bytes, so a key with characters outside ASCII is simply wrong, not a TypeError
    given = sent.encode("utf-8", "surrogateescape")
    if not any(hmac.compare_digest(given, key.encode("utf-8")) for key in keys):
        raise ApiError(403, "forbidden", "the API key is not valid")


async def require_read(request: Request) -> None:
    """Check the key on reads only when api.auth_reads is on."""
    if request.app.state.settings.api.auth_reads:
        await require_key(request)


def utc_bound(value: datetime | None, field: str) -> datetime | None:
    """A date bound of a query, or a 422 naming it when it cannot be a point in UTC time."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(422, "invalid", f"{field}: {value.isoformat()} is outside the dates that can be stored",
                       field=field) from None


@dataclass(frozen=True)
class PageRequest:
    """Which slice of a list was asked for."""

    offset: int
    limit: int


async def page(
    request: Request,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=500, description="default: api.page_size")] = None,
) -> PageRequest:
    """Return the requested slice of a list; the default size comes from the settings."""
    return PageRequest(offset, limit or request.app.state.settings.api.page_size)
