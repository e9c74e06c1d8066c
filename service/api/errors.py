"""One JSON error shape for every failure: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered with a status code, a stable code word and a message."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str]]:
    """Return the shared error body."""
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def install(app: FastAPI) -> None:
    """Answer every error, ours or the framework's, in the shared shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse(error_body(err.code, err.message, err.field), err.status, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0]
        loc = list(first["loc"])
        field = ".".join(str(p) for p in (loc[1:] if loc and loc[0] in ("body", "path", "query", "header") else loc))
        return JSONResponse(error_body("invalid", f"{field}: {first['msg']}", field), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        # why: a 405 carries the Allow header the framework set; dropping it breaks the protocol
        return JSONResponse(error_body(code, str(err.detail)), err.status_code, headers=err.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", f"internal error ({type(err).__name__}); it was logged"), 500)
