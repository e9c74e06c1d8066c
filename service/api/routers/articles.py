"""/v1/articles: store articles for digests (de-duplicated by content) and list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.api import deps
from service.api.limits import check_articles
from service.api.schemas import Page, StoredArticle, StoredArticles
from service.models import Article
from service.requests import ArticlesIn, IsoDateTime
from service.settings import Settings
from service.storage.articles import ArticleRepository

router = APIRouter(prefix="/v1/articles", tags=["articles"])


@router.post("", status_code=201, response_model=StoredArticles, dependencies=[Depends(deps.require_key)])
def add_articles(
    body: ArticlesIn,
    stored: Annotated[ArticleRepository, Depends(deps.articles)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> StoredArticles:
    """Store one or many articles; an article already stored (same text) is not stored twice."""
    check_articles(body.articles, settings.api)
    articles = [
        Article(id=Article.make_id(a.text), origin="api", **a.model_dump(exclude_none=True)) for a in body.articles
    ]
    added, existing = stored.add(articles)
    return StoredArticles(added=added, existing=existing)


@router.get("", response_model=Page[StoredArticle], dependencies=[Depends(deps.require_read)])
def list_articles(
    stored: Annotated[ArticleRepository, Depends(deps.articles)],
    page: Annotated[deps.PageRequest, Depends(deps.page)],
    since: Annotated[IsoDateTime | None, Query(description="published at or after")] = None,
    until: Annotated[IsoDateTime | None, Query(description="published before")] = None,
    # why: PostgreSQL text cannot hold NUL; the schema states it, so the 422 is documented
    source: Annotated[str | None, Query(max_length=500, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")] = None,
) -> Page[StoredArticle]:
    """List stored articles, filtered by publication date and source."""
    since, until = deps.utc_bound(since, "since"), deps.utc_bound(until, "until")
    articles, total = stored.page(since=since, until=until, source=source, offset=page.offset, limit=page.limit)
    items = [StoredArticle(**a.model_dump(exclude={"origin"})) for a in articles]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)
