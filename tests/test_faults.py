"""Backend faults, on SQLite and PostgreSQL: every fault a backend shows ends in a documented status
with the briefing to retry, never a Python exception text, and never a row left running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.llm import build_chat_model
from service.models import Status
from tests.conftest import make_settings
from tests.fake_backend import FakeBackend, Mode
from tests.test_api import KEY, LONG, SHORT, _error

FAULTS = [
    (Mode.ERROR, 503, "backend_unavailable", "busy or failing"),
    (Mode.RATE_LIMITED, 503, "backend_unavailable", "busy or failing"),
    (Mode.HANG, 503, "backend_unavailable", "timed out"),
    (Mode.REFUSED, 503, "backend_unavailable", "unreachable"),
    (Mode.GARBAGE, 502, "bad_gateway", "unusable"),
    (Mode.EMPTY, 502, "bad_gateway", "unusable"),
]


@pytest.fixture(scope="module")
def backend() -> Iterator[FakeBackend]:
    with FakeBackend() as fake:
        yield fake


@pytest.fixture
def client(database_url: str, backend: FakeBackend) -> Iterator[TestClient]:
    settings = make_settings(api_keys="k1", database_url=database_url)
    settings.llm.timeout_s, settings.llm.max_retries, settings.queue.max_retries = 1.0, 0, 1
    app = create_app(settings, model=build_chat_model(settings.llm, backend.url), inline_jobs=True)
    with TestClient(app) as test_client:
        yield test_client
    backend.mode = Mode.OK


def _statuses(client: TestClient) -> list[str]:
    return [row["status"] for row in client.get("/v1/briefings", params={"limit": 500}).json()["items"]]


@pytest.mark.parametrize(("mode", "status", "code", "said"), FAULTS, ids=[str(f[0]) for f in FAULTS])
def test_a_fault_ends_in_its_status_and_the_briefing_is_retried_once_the_backend_is_back(
    client: TestClient, backend: FakeBackend, mode: Mode, status: int, code: str, said: str
) -> None:
    backend.mode = mode
    at_once = client.post("/v1/briefings", json={"articles": [{"text": SHORT}]}, headers=KEY)
    error = _error(at_once, status, code)
    assert "Traceback" not in error["message"] and "Exception" not in error["message"]
    assert (at_once.headers.get("retry-after") is not None) == (status == 503)
    queued = client.post("/v1/briefings", json={"articles": [{"text": LONG}]}, headers=KEY).json()  # run inline
    failed = client.get(f"/v1/briefings/{queued['id']}").json()
    assert failed["status"] == "failed" and said in failed["error"], failed["error"]
    assert _statuses(client) == [Status.FAILED, Status.FAILED]
    kind = "backend_unavailable" if status == 503 else "bad_gateway"
    assert f'briefing_task_failures_total{{kind="{kind}",task="briefing"}} 2.0' in client.get("/metrics").text

    backend.mode = Mode.OK
    for location in (at_once.headers["location"], f"/v1/briefings/{queued['id']}"):
        assert client.post(f"{location}/retry", headers=KEY).status_code == 202
    assert _statuses(client) == [Status.DONE, Status.DONE]


def test_the_fake_backend_can_fail_for_real(backend: FakeBackend) -> None:
    """The fault suite means something only if the fake's faults reach the client as faults."""
    import httpx

    backend.mode = Mode.REFUSED
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{backend.url}/chat/completions", json={})
    backend.mode = Mode.ERROR
    assert httpx.post(f"{backend.url}/chat/completions", json={}).status_code == 500
    backend.mode = Mode.OK
    reply = httpx.post(f"{backend.url}/chat/completions", json={"messages": [{"content": "[P1] A cat sat. It slept."}]})
    assert reply.json()["choices"][0]["message"]["content"] == "- A cat sat. [P1]"
