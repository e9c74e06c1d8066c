"""A briefing request as stored: its articles and options, and how it is briefed (at once by the API,
or by a worker's task)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.models import Article, Briefing
from service.pipeline.prepare import prepare
from service.pipeline.run import abrief
from service.settings import Settings


def request_articles(request: dict[str, Any]) -> list[Article]:
    """Turn a stored request's articles into Articles with content ids."""
    return [
        Article(id=Article.make_id(a["text"]), origin=f"request[{n}]", **{k: v for k, v in a.items() if v is not None})
        for n, a in enumerate(request["articles"])
    ]


def request_settings(request: dict[str, Any], settings: Settings) -> Settings:
    """Apply a request's options (prompt versions) to a copy of the settings."""
    return settings.with_overrides(prompts=(request.get("options") or {}).get("prompts"))


def brief_request(request: dict[str, Any], settings: Settings, model: BaseChatModel) -> Briefing:
    """Brief a stored request: prepared on the calling thread, briefed on the shared event loop."""
    settings = request_settings(request, settings)
    corpus = prepare(request_articles(request), settings)
    return run_sync(abrief(corpus, settings=settings, model=model))
