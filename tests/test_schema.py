"""The live app against its own OpenAPI schema (schemathesis): every operation, every check, both databases.

Briefings go to the fake backend, which answers at once, so schemathesis exercises the whole
path (clean, brief, verify, store) and not just validation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from service.api.app import create_app
from service.llm import build_chat_model
from tests.conftest import make_settings
from tests.fake_backend import FakeBackend
from tests.served import in_thread

# Requests the schema allows but the service refuses on their meaning, each documented as a 422
# on its operation: an article with no text left after cleaning, a digest date in the future.
_SEMANTIC_422 = [("POST", "/v1/briefings"), ("POST", "/v1/digests/{day}/run")]
_ACCEPTED = ["2XX", "3XX", "401", "403", "404", "409", "429", "5XX"]
# Invalid data may also be refused for its size before it is read (413, documented on every body)
# A date-time anywhere in a response body (not a bare date), and how every one of them must end
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<offset>\S*)")
_OFFSET = re.compile(r"Z|[+-]\d{2}:\d{2}")
_REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5XX"]


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "checks": {"enabled": True, "negative_data_rejection": {"expected-statuses": _REJECTED}},
        "operations": [
            {"include-method": method, "include-path": path,
             "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "422"]}}}
            for method, path in _SEMANTIC_422
        ],
    })


def _app(database_url: str, llm_url: str) -> Any:
    app_settings = make_settings(api_keys="k1", database_url=database_url)
    return create_app(app_settings, model=build_chat_model(app_settings.llm, llm_url), inline_jobs=True)


schema = schemathesis.openapi.from_dict(_app("sqlite://", "http://127.0.0.1:9/v1").openapi(), config=_config())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served over HTTP by uvicorn, on a fresh database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'briefing.db'}"
    else:
        from tests import postgres

        url = postgres.new_database(request.getfixturevalue("postgres_admin_url"))
    with FakeBackend() as backend, in_thread(_app(url, backend.url)) as base_url:
        yield base_url


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_schema(case: Any, live_url: str) -> None:
    response = case.call_and_validate(base_url=live_url, headers={"Authorization": "Bearer k1"})
    if any(kind.startswith("application/json") for kind in response.headers.get("content-type", [])):
        _times_carry_an_offset(response.json())


def _times_carry_an_offset(node: Any) -> None:
    """Every date-time a response carries says its offset (SQLite hands times back without one)."""
    if isinstance(node, dict):
        for value in node.values():
            _times_carry_an_offset(value)
    elif isinstance(node, list):
        for value in node:
            _times_carry_an_offset(value)
    elif isinstance(node, str) and (time := _DATE_TIME.fullmatch(node)):
        assert _OFFSET.fullmatch(time["offset"]), f"a date-time without an offset: {node}"
