"""The reading pages: today's digest, a story with every citation one click from its evidence, the
archive, search, and a briefing requested over HTTP. HTML, no JavaScript; open, or behind a
read-only key (pages.read_keys)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from service.api import deps
from service.api.cache import DoneCache
from service.api.errors import ApiError
from service.models import Digest
from service.pages.render import SECURITY_HEADERS, environment
from service.pages.views import cited_sentences, marked_article, story_of
from service.storage import Store

_TEMPLATES = environment()


async def require_page_read(request: Request) -> None:
    """Open pages, or a read-only key as the HTTP Basic password (a browser asks for it), or an API key."""
    keys = request.app.state.settings.pages.keys
    if not keys:
        return
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            password = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            password = ""
        if any(hmac.compare_digest(password.encode(), key.encode()) for key in keys):
            return
    elif deps.key_error(request) is None:
        return
    raise ApiError(401, "unauthorized", "these pages need a read key (the password of HTTP Basic)",
                   headers={"WWW-Authenticate": 'Basic realm="briefing", charset="UTF-8"'})


router = APIRouter(include_in_schema=False, dependencies=[Depends(require_page_read)])
StoreDep = Annotated[Store, Depends(deps.store)]


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("query", "")
    return HTMLResponse(_TEMPLATES.get_template(name).render(**context), status_code=status,
                        headers=SECURITY_HEADERS)


def _missing(message: str) -> HTMLResponse:
    return _page("not_found.html", 404, message=message)


def _digest(store: Store, day: str) -> Digest | None:
    record = store.digests.get(day)
    return record.digest if record else None


async def _cached(request: Request, store: Store, day: str | None, render: Callable[[Digest], HTMLResponse],
                  missing: str) -> HTMLResponse:
    """A page of a stored digest, rendered once per change of that digest (a done digest changes only
    when it is made again), by one request while the others wait for it; `missing` when there is none."""
    stamp = await _stamp(request, store, day)
    if stamp is None:
        return _page("empty.html") if day is None else _missing(missing)
    cache: DoneCache = request.app.state.page_cache
    key = f"{request.url.path}@{stamp[0]}@{stamp[1].isoformat()}"
    if (body := cache.get(key)) is None:
        async with _single(request, key):
            if (body := cache.get(key)) is None:
                digest = await to_thread.run_sync(_digest, store, stamp[0])
                response = await to_thread.run_sync(render, digest) if digest else _missing(missing)
                if response.status_code != 200:
                    return response
                body = bytes(response.body)
                cache.put(key, body)
    return HTMLResponse(body, headers=SECURITY_HEADERS)


async def _stamp(request: Request, store: Store, day: str | None) -> tuple[str, datetime] | None:
    """The digest's last change, asked of the database at most every pages.fresh_s: while one request
    asks, the others are answered from what was known (a page at most that much older)."""
    stamps: dict[str | None, tuple[float, tuple[str, datetime] | None]] = request.app.state.page_stamps
    known = stamps.get(day)
    if known is not None and (time.monotonic() - known[0] < request.app.state.settings.pages.fresh_s
                              or _single(request, f"stamp@{day}").locked()):
        return known[1]
    async with _single(request, f"stamp@{day}"):
        known = stamps.get(day)
        if known is None or time.monotonic() - known[0] >= request.app.state.settings.pages.fresh_s:
            if len(stamps) > 10_000:  # why: bounded however many dates are asked for
                stamps.clear()
            known = (time.monotonic(), await to_thread.run_sync(store.digests.stamp, day))
            stamps[day] = known
    return known[1]


def _single(request: Request, key: str) -> asyncio.Lock:
    locks: dict[str, asyncio.Lock] = request.app.state.page_locks
    if len(locks) > 10_000:
        locks.clear()
    return locks.setdefault(key, asyncio.Lock())


@router.get("/", response_class=HTMLResponse)
async def today(request: Request, store: StoreDep) -> HTMLResponse:
    """The latest digest, or how to make one."""
    return await _cached(request, store, None, lambda digest: _page("digest.html", digest=digest), "")


@router.get("/digests", response_class=HTMLResponse)
def archive(store: StoreDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """Every digest by day, newest first."""
    size = 30
    records, total = store.digests.page(offset=(page - 1) * size, limit=size)
    return _page("archive.html", digests=records, page=page, more=page * size < total)


@router.get("/digests/{day}", response_class=HTMLResponse)
async def digest_page(day: str, request: Request, store: StoreDep) -> HTMLResponse:
    """One day's digest."""
    return await _cached(request, store, day, lambda digest: _page("digest.html", digest=digest),
                   f"There is no digest for {day}.")


@router.get("/digests/{day}/{story_id}", response_class=HTMLResponse)
async def story_page(day: str, story_id: str, request: Request, store: StoreDep) -> HTMLResponse:
    """A story: summary, points (each citation opens its evidence), disagreements, timeline, sources."""

    def render(digest: Digest) -> HTMLResponse:
        story = story_of(digest, story_id)
        if story is None or story.briefing is None:
            return _missing(f"There is no story {story_id} in the digest for {day}.")
        return _page("story.html", digest=digest, story=story, briefing=story.briefing,
                     point_href=_numbered(f"/digests/{day}/{story_id}/points"))

    return await _cached(request, store, day, render, f"There is no digest for {day}.")


@router.get("/digests/{day}/{story_id}/points/{number}", response_class=HTMLResponse)
async def evidence_page(day: str, story_id: str, number: int, request: Request, store: StoreDep) -> HTMLResponse:
    """A cited sentence and the source article it was verified against, the evidence marked."""

    def render(digest: Digest) -> HTMLResponse:
        story = story_of(digest, story_id)
        if story is None or story.briefing is None:
            return _missing(f"There is no story {story_id} in the digest for {day}.")
        cited = cited_sentences(story.briefing)
        if not 1 <= number <= len(cited):
            return _missing(f"The story has no sentence {number}.")
        point = cited[number - 1]
        source_ids = [point.evidence.article_id] if point.evidence else point.sources[:1]
        found = store.articles.by_ids(source_ids) if source_ids else []
        article = found[0] if found else None
        paragraphs = marked_article(article, point, story.briefing.dropped) if article else []
        return _page("evidence.html", digest=digest, briefing=story.briefing, point=point, article=article,
                     paragraphs=paragraphs, story_href=f"/digests/{day}/{story_id}")

    return await _cached(request, store, day, render, f"There is no digest for {day}.")


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, store: StoreDep, q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """Stories whose title or summary match the words searched for."""
    limit = request.app.state.settings.pages.search_results
    return _page("search.html", query=q, hits=store.search.search(q, limit))


@router.get("/briefings/{briefing_id}", response_class=HTMLResponse)
def briefing_page(briefing_id: str, store: StoreDep) -> HTMLResponse:
    """A briefing requested over HTTP (the job's Location), in the story layout."""
    record = store.briefings.get(briefing_id)
    if record is None:
        return _missing(f"There is no briefing {briefing_id}.")
    return _page("briefing.html", record=record, briefing=record.briefing, no_link=lambda n: None)


def _numbered(base: str) -> Callable[[int], str]:
    return lambda index: f"{base}/{index + 1}"
