"""Stored articles, for digests: de-duplicated by content id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from service.models import Article
from service.storage.database import Database
from service.storage.tables import ArticleRow


class ArticleRepository:
    """Articles in, articles out; storing one twice is a no-op."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, articles: list[Article]) -> tuple[list[str], list[str]]:
        """Store articles; return the ids added and the ids already stored."""
        added: list[str] = []
        existing: list[str] = []
        with self.db.sessions.begin() as session:
            for article in articles:
                if session.get(ArticleRow, article.id) is not None or article.id in added:
                    existing.append(article.id)
                    continue
                session.add(ArticleRow(**article.model_dump()))
                added.append(article.id)
        return added, existing

    def page(
        self, *, since: datetime | None = None, until: datetime | None = None, source: str | None = None,
        offset: int = 0, limit: int = 20,
    ) -> tuple[list[Article], int]:
        """Return a page of stored articles (newest first) and the total matching."""
        query = select(ArticleRow)
        if since:
            query = query.where(ArticleRow.published >= since)
        if until:
            query = query.where(ArticleRow.published < until)
        if source:
            query = query.where(ArticleRow.source == source)
        rows, total = self.db.page(query, ArticleRow.created_at.desc(), offset, limit)
        return [_article(r) for r in rows], total

    def by_ids(self, ids: list[str]) -> list[Article]:
        """Return the stored articles with these ids (those that exist)."""
        with self.db.sessions() as session:
            rows = session.scalars(select(ArticleRow).where(ArticleRow.id.in_(ids))).all()
        return [_article(r) for r in rows]

    def between(self, start: datetime, end: datetime) -> list[Article]:
        """Return every article published in [start, end), or received then when it has no date."""
        query = select(ArticleRow).where(or_(
            (ArticleRow.published >= start) & (ArticleRow.published < end),
            ArticleRow.published.is_(None) & (ArticleRow.created_at >= start) & (ArticleRow.created_at < end),
        ))
        with self.db.sessions() as session:
            rows = session.scalars(query.order_by(ArticleRow.published, ArticleRow.id)).all()
        return [_article(r) for r in rows]


def _article(row: ArticleRow) -> Article:
    return Article(
        id=row.id, text=row.text, title=row.title, source=row.source, url=row.url,
        published=row.published, origin=row.origin or f"db:{row.id}",
    )
