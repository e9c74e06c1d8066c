"""The reading pages: today's digest, a story with every citation one click from its evidence, the
archive, search, and a briefing requested over HTTP. HTML, no JavaScript; open, or behind a
read-only key (pages.read_keys)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from service.api import deps
from service.api.errors import ApiError
from service.models import Digest
from service.pages.render import SECURITY_HEADERS, environment
from service.pages.views import cited_sentences, marked_article, story_of
from service.render import source_name
from service.storage import Store

_TEMPLATES = environment()


def require_page_read(request: Request) -> None:
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


@router.get("/", response_class=HTMLResponse)
def today(store: StoreDep) -> HTMLResponse:
    """The latest digest that has stories, or how to make one."""
    records, _ = store.digests.page(limit=30)
    latest = next((r.digest for r in records if r.digest), None)
    return _page("digest.html", digest=latest) if latest else _page("empty.html")


@router.get("/digests", response_class=HTMLResponse)
def archive(store: StoreDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """Every digest by day, newest first."""
    size = 30
    records, total = store.digests.page(offset=(page - 1) * size, limit=size)
    return _page("archive.html", digests=records, page=page, more=page * size < total)


@router.get("/digests/{day}", response_class=HTMLResponse)
def digest_page(day: str, store: StoreDep) -> HTMLResponse:
    """One day's digest."""
    digest = _digest(store, day)
    return _page("digest.html", digest=digest) if digest else _missing(f"There is no digest for {day}.")


@router.get("/digests/{day}/{story_id}", response_class=HTMLResponse)
def story_page(day: str, story_id: str, store: StoreDep) -> HTMLResponse:
    """A story: summary, points (each citation opens its evidence), disagreements, timeline, sources."""
    digest = _digest(store, day)
    story = story_of(digest, story_id) if digest else None
    if digest is None or story is None or story.briefing is None:
        return _missing(f"There is no story {story_id} in the digest for {day}.")
    base = f"/digests/{day}/{story_id}/points"
    return _page("story.html", digest=digest, story=story, briefing=story.briefing,
                 point_href=_numbered(base))


@router.get("/digests/{day}/{story_id}/points/{number}", response_class=HTMLResponse)
def evidence_page(day: str, story_id: str, number: int, store: StoreDep) -> HTMLResponse:
    """A cited sentence and the source article it was verified against, the evidence marked."""
    digest = _digest(store, day)
    story = story_of(digest, story_id) if digest else None
    if digest is None or story is None or story.briefing is None:
        return _missing(f"There is no story {story_id} in the digest for {day}.")
    cited = cited_sentences(story.briefing)
    if not 1 <= number <= len(cited):
        return _missing(f"The story has no sentence {number}.")
    point = cited[number - 1]
    source_ids = [point.evidence.article_id] if point.evidence else point.sources[:1]
    found = store.articles.by_ids(source_ids) if source_ids else []
    article = found[0] if found else None
    names = {s.id: source_name(s) for s in story.briefing.sources}
    return _page("evidence.html", digest=digest, briefing=story.briefing, point=point, names=names, article=article,
                 paragraphs=marked_article(article, point, story.briefing.dropped) if article else [],
                 story_href=f"/digests/{day}/{story_id}")


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, store: StoreDep, q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """Stories whose title or summary match the words searched for."""
    limit = request.app.state.settings.pages.search_results
    return _page("search.html", query=q, hits=store.search.search(q, limit) if q.strip() else [])


@router.get("/briefings/{briefing_id}", response_class=HTMLResponse)
def briefing_page(briefing_id: str, store: StoreDep) -> HTMLResponse:
    """A briefing requested over HTTP (the job's Location), in the story layout."""
    record = store.briefings.get(briefing_id)
    if record is None:
        return _missing(f"There is no briefing {briefing_id}.")
    return _page("briefing.html", record=record, briefing=record.briefing, no_link=lambda n: None)


def _numbered(base: str) -> Callable[[int], str]:
    return lambda index: f"{base}/{index + 1}"
