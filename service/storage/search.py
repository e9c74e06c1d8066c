"""Search over the digests' stories (titles and summaries), in the database's own full-text search:
FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL (migration 0005). Reindexed per date
whenever a digest is stored."""

from __future__ import annotations

import re

from sqlalchemy import text

from service.models import Digest
from service.storage.database import Database
from service.storage.records import StoryHit

_TERMS = re.compile(r"\w+")


class SearchRepository:
    """The search index of digest stories."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = db.engine.dialect.name == "postgresql"

    def index(self, digest: Digest) -> None:
        """Replace a date's stories in the index with this digest's."""
        rows = [{"date": digest.date, "story_id": s.id, "title": s.briefing.title, "summary": s.briefing.summary}
                for s in digest.stories if s.briefing]
        with self.db.engine.begin() as connection:
            connection.execute(text("DELETE FROM story_search WHERE date = :date"), {"date": digest.date})
            if rows:
                connection.execute(text("INSERT INTO story_search (date, story_id, title, summary) "
                                        "VALUES (:date, :story_id, :title, :summary)"), rows)

    def search(self, query: str, limit: int = 20) -> list[StoryHit]:
        """Stories whose title or summary match every word of the query, best first (then newest)."""
        terms = _TERMS.findall(query)
        if not terms:
            return []
        if self.postgres:
            sql = ("SELECT date, story_id, title, summary FROM story_search "
                   "WHERE document @@ plainto_tsquery('english', :q) "
                   "ORDER BY ts_rank(document, plainto_tsquery('english', :q)) DESC, date DESC LIMIT :limit")
            params: dict[str, object] = {"q": " ".join(terms), "limit": limit}
        else:
            # why: each word quoted, so FTS5's own syntax (AND, NEAR, column:, *) in a query is just text
            sql = ("SELECT date, story_id, title, summary FROM story_search WHERE story_search MATCH :q "
                   "ORDER BY bm25(story_search, 0, 0, 4.0, 1.0), date DESC LIMIT :limit")
            params = {"q": " ".join(f'"{term}"' for term in terms), "limit": limit}
        with self.db.engine.connect() as connection:
            found = connection.execute(text(sql), params).all()
        return [StoryHit(date=r[0], story_id=r[1], title=r[2], summary=r[3]) for r in found]
