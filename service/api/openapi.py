"""The OpenAPI schema states every status a route can answer, all in the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.api import deps
from service.api.errors import ErrorBody

_ERROR = {"$ref": "#/components/schemas/ErrorBody"}
_KEYED = {deps.require_key: "an API key is required",
          deps.require_read: "an API key is required when api.auth_reads is on"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _errors_of(route: APIRoute) -> dict[str, dict[str, Any]]:
    errors = {"422": _error("invalid input; the error names the field")}
    for dependency in route.dependant.dependencies:
        if dependency.call in _KEYED:
            errors["401"] = _error(f"no API key ({_KEYED[dependency.call]})")
            errors["403"] = _error("the API key is not valid")
    if (route.methods or set()) & {"POST", "PUT", "PATCH"}:
        errors["413"] = _error("the body is larger than api.max_body_bytes")
    return errors


def install(app: FastAPI, routers: list[APIRouter]) -> None:
    """Replace the framework's validation-error model by the error shape, and add auth and size errors.
    The routers are given: the app's own route list holds included routers, not their routes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for route in (r for router in routers for r in router.routes):
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            path = schema["paths"][route.path_format]
            for method in route.methods or ():
                responses = path[method.lower()]["responses"]
                for status, documented in _errors_of(route).items():
                    if status == "422" and status not in responses:
                        continue  # a route with no input cannot be invalid
                    # a route's own description of the status (what else it refuses) wins
                    said = route.responses.get(int(status), {}).get("description", documented["description"])
                    responses[status] = {**documented, "description": said}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["ErrorBody"] = ErrorBody.model_json_schema()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
