"""/v1/digests: request a date's digest run, read a digest, list digests, the Atom feed of digests."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from service.api import deps
from service.api.errors import ERROR_RESPONSES, ApiError
from service.api.schemas import DigestJob, DigestSummary, IsoDate, Page
from service.dates import digest_day_problem
from service.digest.outputs import atom_feed, to_html, to_markdown
from service.models import Digest
from service.settings import Settings
from service.storage.digests import DigestRepository
from service.tasks.queue import Queue

router = APIRouter(prefix="/v1/digests", tags=["digests"])
Format = Annotated[Literal["json", "md", "html"] | None, Query(description="md or html return the rendered digest")]


@router.post("/{day}/run", status_code=202, response_model=DigestJob, dependencies=[Depends(deps.require_key)],
             responses={422: {"description": "invalid input, or a date in the future or before 1900"}})
def run_digest(
    day: Annotated[IsoDate, Path(description="YYYY-MM-DD")],
    response: Response,
    settings: Annotated[Settings, Depends(deps.settings)],
    digests: Annotated[DigestRepository, Depends(deps.digests)],
    queue: Annotated[Queue, Depends(deps.queue)],
    fresh: Annotated[bool, Query(description="brief every story again instead of keeping finished ones")] = False,
) -> DigestJob:
    """Queue a run of the date's digest (in the background); one already queued or running is left as is."""
    if problem := digest_day_problem(day, dt.datetime.now(ZoneInfo(settings.digest.timezone)).date()):
        raise ApiError(422, "invalid_date", f"{problem}; dates are days in {settings.digest.timezone}",
                       field="day")
    record, queued = digests.request(day.isoformat(), fresh=fresh)
    if queued:
        queue.digest(record.date)
    response.headers["Location"] = f"/v1/digests/{record.date}"
    return DigestJob(date=record.date, status=record.status, location=response.headers["Location"])


@router.get("/feed.atom", dependencies=[Depends(deps.require_read)],
            responses={200: {"content": {"application/atom+xml": {}}}})
def digest_feed(settings: Annotated[Settings, Depends(deps.settings)],
                digests: Annotated[DigestRepository, Depends(deps.digests)]) -> Response:
    """Return an Atom feed of the most recent digests."""
    rows, _ = digests.page(limit=settings.digest.feed_entries)
    return Response(atom_feed([r.digest for r in rows if r.digest]), media_type="application/atom+xml")


@router.get("/{day}", response_model=Digest, dependencies=[Depends(deps.require_read)],
            responses={200: {"content": {"text/markdown": {}, "text/html": {}}},
                       **{k: ERROR_RESPONSES[k] for k in (404, 409)}})
def get_digest(
    day: Annotated[IsoDate, Path(description="YYYY-MM-DD")],
    digests: Annotated[DigestRepository, Depends(deps.digests)],
    settings: Annotated[Settings, Depends(deps.settings)],
    format: Format = None,
) -> Response | Digest:
    """Return a date's digest with its run status: stories ranked, each with its briefing and disagreements."""
    row = digests.get(day.isoformat())
    if row is None:
        raise ApiError(404, "not_found", f"no digest for {day}; POST /v1/digests/{day}/run builds one")
    if format in ("md", "html"):
        digest = row.digest
        if digest is None:
            raise ApiError(409, "not_ready", f"the digest of {day} is {row.status} and has no content yet")
        if format == "md":
            return PlainTextResponse(to_markdown(digest), media_type="text/markdown")
        return HTMLResponse(to_html(digest))
    # why: a rerun in progress still shows the last complete digest, with the run's status
    run = {"status": row.status, "error": row.error, "updated_at": row.updated_at}
    if row.digest is None:
        return Digest(date=row.date, timezone=settings.digest.timezone, **run)
    return row.digest.model_copy(update=run)


@router.get("", response_model=Page[DigestSummary], dependencies=[Depends(deps.require_read)])
def list_digests(
    digests: Annotated[DigestRepository, Depends(deps.digests)],
    page: Annotated[deps.PageRequest, Depends(deps.page)],
) -> Page[DigestSummary]:
    """List digests, newest date first, with their status and number of stories."""
    rows, total = digests.page(offset=page.offset, limit=page.limit)
    items = [DigestSummary(date=r.date, status=r.status, error=r.error, updated_at=r.updated_at,
                           stories=len(r.digest.stories) if r.digest else 0,
                           generated_at=r.digest.generated_at if r.digest else None) for r in rows]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)

