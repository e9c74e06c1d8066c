"""/v1/briefings: create (at once or queued), read, list, retry."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from langchain_core.language_models import BaseChatModel

from service.api import deps
from service.api.cache import DoneCache
from service.api.errors import ERROR_RESPONSES, ApiError
from service.api.limits import check_articles, check_options
from service.api.schemas import BriefingJob, BriefingOut, Page
from service.errors import BriefingError
from service.jobs import brief_request
from service.models import Briefing, ErrorKind, Status
from service.render import to_markdown
from service.requests import BriefingRequest, StoredRequest
from service.settings import Settings
from service.storage.briefings import BriefingRepository
from service.storage.records import BriefingRecord
from service.tasks.heartbeat import heartbeat
from service.tasks.queue import Queue

router = APIRouter(prefix="/v1/briefings", tags=["briefings"])
Format = Annotated[Literal["json", "md"] | None, Query(description="md returns Markdown")]
Jobs = Annotated[BriefingRepository, Depends(deps.briefings)]


@router.post("", status_code=201, response_model=BriefingOut, dependencies=[Depends(deps.require_key)],
             responses={202: {"model": BriefingJob}, 502: {"description": "the LLM backend's answer was unusable"},
                        503: {"description": "LLM backend down (Retry-After)"},
                        422: {"description": "invalid input, or no article has text left after cleaning"}})
async def create_briefing(
    body: BriefingRequest,
    request: Request,
    response: Response,
    settings: Annotated[Settings, Depends(deps.settings)],
    jobs: Jobs,
    model: Annotated[BaseChatModel, Depends(deps.chat_model)],
    queue: Annotated[Queue, Depends(deps.queue)],
) -> BriefingOut:
    """Brief small requests at once (201); queue larger ones (202 with Location)."""
    check_articles(body.articles, settings.api)
    check_options(body.options)
    job = StoredRequest.model_validate(body.model_dump())
    if sum(len(a.text) for a in body.articles) > settings.api.sync_max_chars:
        row = await run_in_threadpool(jobs.create, job, Status.QUEUED)
        await run_in_threadpool(queue.briefing, row.id)  # written first: a lost send is resent
        response.status_code = 202
        response.headers["Location"] = f"/v1/briefings/{row.id}"
        return BriefingOut(id=row.id, status=Status.QUEUED, location=response.headers["Location"],
                           created_at=row.created_at)
    row = await run_in_threadpool(jobs.create, job, Status.RUNNING)
    try:
        # why: the row beats like a worker's, so a job this process dies holding is resent, not stranded
        with heartbeat(partial(jobs.beat, row.id, row.attempts), settings.queue.heartbeat_s):
            briefing: Briefing = await run_in_threadpool(brief_request, job, settings, model)
    except BriefingError as err:
        await run_in_threadpool(partial(jobs.finish, row.id, attempt=row.attempts, error=str(err), kind=err.kind))
        if err.http_status < 500:
            raise ApiError(err.http_status, err.kind, err.public()) from None
        headers = {"Location": f"/v1/briefings/{row.id}"}
        if err.retryable:
            headers["Retry-After"] = str(settings.api.retry_after_s)
        raise ApiError(err.http_status, err.kind, f"{err.public()} (briefing {row.id} can be retried)",
                       headers=headers) from None
    except Exception:
        # why: the row must not stay `running` until a restart; the catch-all answers the request
        await run_in_threadpool(partial(jobs.finish, row.id, attempt=row.attempts,
                                        error="internal error; it was logged", kind=ErrorKind.INTERNAL))
        raise
    await run_in_threadpool(partial(jobs.finish, row.id, attempt=row.attempts, briefing=briefing))
    request.app.state.metrics.count_briefing(briefing)
    if body.options.format == "md":
        headers = {"Location": f"/v1/briefings/{row.id}"}
        return PlainTextResponse(to_markdown(briefing), 201, headers=headers, media_type="text/markdown")  # type: ignore[return-value]
    return BriefingOut(id=row.id, status=Status.DONE, briefing=briefing, created_at=row.created_at)


@router.get("/{briefing_id}", response_model=BriefingOut, dependencies=[Depends(deps.require_read)],
            responses={200: {"content": {"text/markdown": {}}}, 404: ERROR_RESPONSES[404]})
async def get_briefing(
    briefing_id: str, request: Request, jobs: Jobs, format: Format = None
) -> Response:
    """Return a briefing's state; the briefing when done (as Markdown with ?format=md)."""
    cache: DoneCache = request.app.state.done_cache
    if format != "md" and (body := cache.get(briefing_id)) is not None:
        return Response(body, media_type="application/json")
    row = await run_in_threadpool(_job, jobs, briefing_id)
    if format == "md" and row.status == Status.DONE and row.briefing:
        return PlainTextResponse(to_markdown(row.briefing), media_type="text/markdown")
    body = BriefingOut(id=row.id, status=row.status, briefing=row.briefing, error=row.error,  # type: ignore[arg-type]
                       created_at=row.created_at).model_dump_json().encode()
    if row.status == Status.DONE:  # a done briefing never changes (only failed ones are retried)
        cache.put(briefing_id, body)
    return Response(body, media_type="application/json")


@router.get("", response_model=Page[BriefingJob], dependencies=[Depends(deps.require_read)])
def list_briefings(
    jobs: Jobs,
    page: Annotated[deps.PageRequest, Depends(deps.page)],
) -> Page[BriefingJob]:
    """List briefings, newest first, without their bodies."""
    rows, total = jobs.page(offset=page.offset, limit=page.limit)
    items = [BriefingJob(id=r.id, status=r.status, error=r.error, created_at=r.created_at)  # type: ignore[arg-type]
             for r in rows]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)


@router.post("/{briefing_id}/retry", status_code=202, response_model=BriefingJob,
             dependencies=[Depends(deps.require_key)], responses={k: ERROR_RESPONSES[k] for k in (404, 409)})
def retry_briefing(
    briefing_id: str, response: Response, jobs: Jobs,
    queue: Annotated[Queue, Depends(deps.queue)],
) -> BriefingJob:
    """Queue a failed briefing again."""
    row = _job(jobs, briefing_id)
    if not jobs.retry(briefing_id):
        raise ApiError(409, "not_failed", f"briefing {briefing_id} is {row.status}; only failed ones are retried")
    queue.briefing(briefing_id)
    response.headers["Location"] = f"/v1/briefings/{briefing_id}"
    return BriefingJob(id=briefing_id, status=Status.QUEUED, location=response.headers["Location"])


def _job(jobs: BriefingRepository, briefing_id: str) -> BriefingRecord:
    job = jobs.get(briefing_id)
    if job is None:
        raise ApiError(404, "not_found", f"no briefing {briefing_id}")
    return job

