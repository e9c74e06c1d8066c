"""The one place that builds chat models and knows the LLM client libraries."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI

from service.errors import BackendError, BackendUnavailable, BriefingError
from service.settings import LLMSettings, Settings

log = logging.getLogger(__name__)

def build_chat_model(llm: LLMSettings, base_url: str) -> BaseChatModel:
    """Build a ChatOpenAI model for an OpenAI-compatible endpoint, with timeout and retries."""
    return ChatOpenAI(
        model=llm.model,
        base_url=base_url,
        api_key=llm.api_key,  # type: ignore[arg-type]
        temperature=llm.temperature,
        seed=llm.seed,
        timeout=llm.timeout_s,
        max_retries=llm.max_retries,
    )


def with_token_cap(model: BaseChatModel, max_tokens: int, llm: LLMSettings) -> Runnable:
    """Bind a completion cap that holds on every backend.

    langchain-openai sends only `max_completion_tokens`, which llama.cpp ignores (a call
    then runs until the context is full), so the legacy `max_tokens` is sent as well.
    """
    kwargs: dict[str, object] = {"max_tokens": max_tokens}
    if llm.send_max_tokens:
        kwargs["extra_body"] = {"max_tokens": max_tokens}
    return model.bind(**kwargs)


@contextmanager
def open_chat_model(settings: Settings) -> Iterator[BaseChatModel]:
    """Yield the configured chat model: the backend at llm.base_url, or the embedded server."""
    if settings.llm.base_url:
        yield build_chat_model(settings.llm, settings.llm.base_url)
        return
    from service.local_llm import EmbeddedServer

    with EmbeddedServer(settings.embedded, alias=settings.llm.model) as server:
        yield build_chat_model(settings.llm, server.base_url)


def as_briefing_error(err: Exception) -> BriefingError:
    """Translate a client-library exception into the service's error tree."""
    if isinstance(err, BriefingError):
        return err
    if isinstance(err, openai.APITimeoutError | httpx.TimeoutException):
        return BackendUnavailable(f"LLM backend timed out: {err}")
    if isinstance(err, openai.APIConnectionError | httpx.TransportError):
        return BackendUnavailable(f"LLM backend unreachable: {err}")
    if isinstance(err, openai.RateLimitError | openai.InternalServerError):
        return BackendUnavailable(f"LLM backend busy or failing: {err}")
    if isinstance(err, openai.APIStatusError):
        return BackendError(f"LLM backend refused the request ({err.status_code}): {err.message}")
    # why: what the client library made of the garbage is for the log, not for the API's readers
    log.warning("unusable LLM answer: %s: %s", type(err).__name__, err)
    return BackendError("the LLM backend gave an unusable answer")
