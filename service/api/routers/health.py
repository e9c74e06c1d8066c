"""/healthz (process up, answered on the event loop: no request work can hold it up), /readyz (a thread
free, database, task queue and LLM backend reachable), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Annotated

import httpx
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from service.api import deps
from service.storage import Store

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "saturated, or the database, the queue or the LLM backend "
                                                    "does not answer"}})
async def readyz(request: Request, store: Annotated[Store, Depends(deps.store)]) -> JSONResponse:
    """The node has a thread free for work, and the database, the task queue's broker and the LLM
    backend answer. A saturated node says so at once, without waiting for a thread."""
    load = to_thread.current_default_thread_limiter().statistics()
    busy = f"{load.borrowed_tokens} of {int(load.total_tokens)} threads busy, {load.tasks_waiting} requests waiting"
    if load.tasks_waiting:
        checks = {"load": f"saturated: {busy}"}
    else:
        checks = {"load": "ok", **await run_in_threadpool(_dependencies, request, store)}
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)


def _dependencies(request: Request, store: Store) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        store.ping()
        checks["database"] = "ok"
    except Exception as err:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = f"unreachable: {type(err).__name__}"
    try:
        request.app.state.queue.ping()
        checks["queue"] = "ok"
    except Exception as err:  # noqa: BLE001
        checks["queue"] = f"unreachable: {type(err).__name__}"
    own = request.app.state.own_worker
    if own is not None:  # the worker `briefing serve` started: down while it is being started again
        checks["worker"] = "ok" if own.alive else f"exited; being started again (restart {own.restarts})"
    url = request.app.state.llm_url
    try:
        httpx.get(f"{url.rstrip('/')}/models", timeout=3).raise_for_status()
        checks["llm"] = "ok"
    except httpx.HTTPError as err:
        checks["llm"] = f"unreachable: {type(err).__name__}"
    return checks


@router.get("/metrics", responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    return request.app.state.metrics.render()  # type: ignore[no-any-return]
