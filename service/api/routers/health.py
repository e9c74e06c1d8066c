"""/healthz (process up), /readyz (database, task queue and LLM backend reachable), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from service.api import deps
from service.store import Store

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "the database, the queue or the LLM backend does not answer"}})
def readyz(request: Request, store: Annotated[Store, Depends(deps.store)]) -> JSONResponse:
    """The database, the task queue's broker and the LLM backend answer."""
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
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)


@router.get("/metrics", responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    return request.app.state.metrics.render()  # type: ignore[no-any-return]
