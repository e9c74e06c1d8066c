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
from service.store import Store
from service.tasks.queue import Queue

router = APIRouter(prefix="/v1/digests", tags=["digests"])
Format = Annotated[Literal["json", "md", "html"] | None, Query(description="md or html return the rendered digest")]


@router.post("/{day}/run", status_code=202, response_model=DigestJob, dependencies=[Depends(deps.require_key)],
             responses={422: {"description": "invalid input, or a date in the future or before 1900"}})
def run_digest(
    day: Annotated[IsoDate, Path(description="YYYY-MM-DD")],
    response: Response,
    settings: Annotated[Settings, Depends(deps.settings)],
    store: Annotated[Store, Depends(deps.store)],
    queue: Annotated[Queue, Depends(deps.queue)],
    fresh: Annotated[bool, Query(description="brief every story again instead of keeping finished ones")] = False,
) -> DigestJob:
    """Queue a run of the date's digest (in the background); one already queued or running is left as is."""
    if problem := digest_day_problem(day, dt.datetime.now(ZoneInfo(settings.digest.timezone)).date()):
        raise ApiError(422, "invalid_date", f"{problem}; dates are days in {settings.digest.timezone}",
                       field="day")
    row, queued = store.request_digest(day.isoformat(), fresh=fresh)
    if queued:
        queue.digest(row.date)
    response.headers["Location"] = f"/v1/digests/{row.date}"
    return DigestJob(date=row.date, status=row.status, location=response.headers["Location"])


@router.get("/feed.atom", dependencies=[Depends(deps.require_read)],
            responses={200: {"content": {"application/atom+xml": {}}}})
def digest_feed(settings: Annotated[Settings, Depends(deps.settings)],
                store: Annotated[Store, Depends(deps.store)]) -> Response:
    """Return an Atom feed of the most recent digests."""
    rows, _ = store.list_digests(limit=settings.digest.feed_entries)
    digests = [Digest.model_validate(r.digest) for r in rows if r.digest]
    return Response(atom_feed(digests), media_type="application/atom+xml")


@router.get("/{day}", response_model=Digest, dependencies=[Depends(deps.require_read)],
            responses={200: {"content": {"text/markdown": {}, "text/html": {}}},
                       **{k: ERROR_RESPONSES[k] for k in (404, 409)}})
def get_digest(
    day: Annotated[IsoDate, Path(description="YYYY-MM-DD")],
    store: Annotated[Store, Depends(deps.store)],
    settings: Annotated[Settings, Depends(deps.settings)],
    format: Format = None,
) -> Response | Digest:
    """Return a date's digest with its run status: stories ranked, each with its briefing and disagreements."""
    row = store.get_digest(day.isoformat())
    if row is None:
        raise ApiError(404, "not_found", f"no digest for {day}; POST /v1/digests/{day}/run builds one")
    if format in ("md", "html"):
        if not row.digest:
            raise ApiError(409, "not_ready", f"the digest of {day} is {row.status} and has no content yet")
        digest = Digest.model_validate(row.digest)
        if format == "md":
            return PlainTextResponse(to_markdown(digest), media_type="text/markdown")
        return HTMLResponse(to_html(digest))
    # why: a rerun in progress still shows the last complete digest, with the run's status
    made = row.digest or {"date": row.date, "timezone": settings.digest.timezone}
    return Digest.model_validate({**made, "status": row.status, "error": row.error, "updated_at": row.updated_at})


@router.get("", response_model=Page[DigestSummary], dependencies=[Depends(deps.require_read)])
def list_digests(
    store: Annotated[Store, Depends(deps.store)],
    page: Annotated[deps.PageRequest, Depends(deps.page)],
) -> Page[DigestSummary]:
    """List digests, newest date first, with their status and number of stories."""
    rows, total = store.list_digests(offset=page.offset, limit=page.limit)
    items = [DigestSummary(date=r.date, status=r.status, error=r.error, updated_at=r.updated_at,
                           stories=len((r.digest or {}).get("stories", [])),
                           generated_at=(r.digest or {}).get("generated_at")) for r in rows]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)

