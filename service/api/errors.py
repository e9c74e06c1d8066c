"""One JSON error shape for every failure: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class ApiError(Exception):
    """An error answered with a status code, a stable code word and a message."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers


class ErrorBody(BaseModel):
    """The one error shape: a stable code word, a message, and the field at fault when there is one."""

    error: dict[str, str]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no such resource"},
    409: {"model": ErrorBody, "description": "the resource is not in a state that allows this"},
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str]]:
    """Return the shared error body."""
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def allowed_methods(request: Request) -> list[str]:
    """Every method the API documents at the request's path (the OpenAPI schema is the contract)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in operations if m in _HTTP_METHODS}
    return sorted(methods)


def _answer(err: ApiError) -> JSONResponse:
    return JSONResponse(error_body(err.code, err.message, err.field), err.status, headers=err.headers)


def install(app: FastAPI, *, refused_first: Callable[[Request], ApiError | None]) -> None:
    """Answer every error, ours or the framework's, in the shared shape; input the framework refused
    before any dependency ran is answered with `refused_first`'s refusal (the key's) when there is one."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return _answer(err)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        if (refusal := refused_first(request)) is not None:
            return _answer(refusal)
        first = err.errors()[0]
        if first["type"] == "json_invalid":  # its place is a character offset in the body, not a field
            return JSONResponse(error_body("invalid", f"body: not valid JSON ({first['ctx']['error']})", "body"), 422)
        loc = list(first["loc"])
        field = ".".join(str(p) for p in (loc[1:] if loc and loc[0] in ("body", "path", "query", "header") else loc))
        return JSONResponse(error_body("invalid", f"{field}: {first['msg']}", field), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        if err.status_code == 400:  # the framework's only 400: a body it cannot parse
            if (refusal := refused_first(request)) is not None:
                return _answer(refusal)
            return JSONResponse(error_body("invalid", "body: not JSON in UTF-8", "body"), 422)
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        headers = dict(err.headers or {})
        if err.status_code == 405:
            # why: the framework lists only the first route it matched; a path served by several
            # routes (GET and POST /v1/articles) must list them all
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(error_body(code, str(err.detail)), err.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", f"internal error ({type(err).__name__}); it was logged"), 500)
