"""Dependencies of the routers: settings, the store and its repositories, chat model, and API-key checks.

All async: FastAPI runs sync dependencies in its thread pool, a costly hop for a lookup.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from langchain_core.language_models import BaseChatModel

from service.api.errors import ApiError
from service.settings import Settings
from service.storage import Store
from service.storage.articles import ArticleRepository
from service.storage.briefings import BriefingRepository
from service.storage.digests import DigestRepository
from service.tasks.queue import Queue

MAX_OFFSET = 1_000_000_000


async def settings(request: Request) -> Settings:
    """Return the app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def store(request: Request) -> Store:
    """Return the app's store."""
    return request.app.state.store  # type: ignore[no-any-return]


async def articles(request: Request) -> ArticleRepository:
    """Return the stored articles."""
    return request.app.state.store.articles  # type: ignore[no-any-return]


async def briefings(request: Request) -> BriefingRepository:
    """Return the briefing jobs."""
    return request.app.state.store.briefings  # type: ignore[no-any-return]


async def digests(request: Request) -> DigestRepository:
    """Return the digests."""
    return request.app.state.store.digests  # type: ignore[no-any-return]


async def chat_model(request: Request) -> BaseChatModel:
    """Return the app's chat model."""
    return request.app.state.model  # type: ignore[no-any-return]


async def queue(request: Request) -> Queue:
    """Return the app's task queue."""
    return request.app.state.queue  # type: ignore[no-any-return]


# why: declared as security schemes, so the spec says which routes need a key; read by key_error
_BEARER = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")


def key_error(request: Request) -> ApiError | None:
    """Why the request's key (Bearer or X-API-Key) does not allow it: 401 without one, 403 wrong; None when it does."""
    keys = request.app.state.settings.keys
    sent = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not sent and auth.lower().startswith("bearer "):
        sent = auth[7:].strip()
    if not sent:
        return ApiError(401, "unauthorized", "an API key is required (Authorization: Bearer KEY or X-API-Key)",
                        headers={"WWW-Authenticate": "Bearer"})
    # why: as bytes, so a key with characters outside ASCII is simply wrong, not a TypeError
    given = sent.encode("utf-8", "surrogateescape")
    if not any(hmac.compare_digest(given, key.encode("utf-8")) for key in keys):
        return ApiError(403, "forbidden", "the API key is not valid")
    return None


async def require_key(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
    _key: Annotated[str | None, Security(_API_KEY)],
) -> None:
    """Allow the request only with a configured key."""
    if (error := key_error(request)) is not None:
        raise error


def refused_key(request: Request) -> ApiError | None:
    """The key's refusal when the route the request matched requires one: a body the framework could not
    read is answered with this first, so a caller without a key learns nothing of the route's input."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None or not any(d.call is require_key for d in dependant.dependencies):
        return None
    return key_error(request)


async def require_read(request: Request) -> None:
    """Check the key on reads only when api.auth_reads is on."""
    if request.app.state.settings.api.auth_reads and (error := key_error(request)) is not None:
        raise error


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
