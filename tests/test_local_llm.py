"""The embedded llama.cpp server: starts on a free loopback port, honours the token cap, stops."""

from __future__ import annotations

import httpx
import pytest
from langchain_core.messages import HumanMessage

from service.errors import BackendUnavailable
from service.llm import as_briefing_error, build_chat_model, with_token_cap
from service.local_llm import EmbeddedServer, embedded_model_path
from service.settings import Settings


def test_the_model_file_ships_inside_its_package() -> None:
    path = embedded_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000


@pytest.mark.embedded
def test_embedded_server_serves_capped_completions_and_stops(settings: Settings) -> None:
    """A real server (not a recording): the cap must hold where max_completion_tokens alone does not."""
    with EmbeddedServer(settings.embedded, alias=settings.llm.model) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        model = build_chat_model(settings.llm, server.base_url)
        reply = with_token_cap(model, 12, settings.llm).invoke([HumanMessage("Tell a very long story.")])
        assert reply.usage_metadata is not None
        assert 0 < reply.usage_metadata["output_tokens"] <= 12
        process = server.process
        assert process is not None
    assert process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/models", timeout=2)


def test_connection_failures_map_to_a_retryable_error() -> None:
    err = as_briefing_error(httpx.ConnectError("refused"))
    assert isinstance(err, BackendUnavailable) and err.retryable
    assert "unreachable" in str(err)
