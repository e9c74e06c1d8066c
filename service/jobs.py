"""A briefing request as stored: its articles and options, and how it is briefed (at once by the API,
or by a worker's task)."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.models import Article, Briefing
from service.pipeline.prepare import prepare
from service.pipeline.run import abrief
from service.requests import StoredRequest
from service.settings import Settings


def request_articles(request: StoredRequest) -> list[Article]:
    """Turn a stored request's articles into Articles with content ids."""
    return [
        Article(id=Article.make_id(a.text), origin=f"request[{n}]", **a.model_dump(exclude_none=True))
        for n, a in enumerate(request.articles)
    ]


def brief_request(request: StoredRequest, settings: Settings, model: BaseChatModel) -> Briefing:
    """Brief a stored request, with its prompt versions: prepared on the calling thread, briefed on the
    shared event loop."""
    settings = settings.with_overrides(prompts=request.options.prompts)
    corpus = prepare(request_articles(request), settings)
    return run_sync(abrief(corpus, settings=settings, model=model))
