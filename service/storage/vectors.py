"""Sentence vectors stored with their article, one set per embedding model."""

from __future__ import annotations

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError

from service.embeddings import DIMENSIONS, ArticleVectors
from service.storage.database import Database
from service.storage.tables import ArticleVectorsRow

_AT_ONCE = 500  # ids in one query (SQLite allows 32,766 parameters; PostgreSQL more)


class VectorRepository:
    """Each article's sentence vectors, kept once per model; an article already kept is left as is."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, article_ids: list[str], model: str) -> dict[str, ArticleVectors]:
        """The stored vectors of these articles by this model (those that have them)."""
        found: dict[str, ArticleVectors] = {}
        with self.db.sessions() as session:
            for ids in _batches(article_ids):
                for row in session.scalars(select(ArticleVectorsRow).where(*_of(ids, model))):
                    vectors = np.frombuffer(row.vectors, dtype=np.float32).reshape(row.rows, DIMENSIONS)
                    found[row.article_id] = ArticleVectors(row.sentences_key, vectors)
        return found

    def kept(self, article_ids: list[str], model: str) -> set[str]:
        """Which of these articles have vectors by this model (their ids only, no vectors read)."""
        with self.db.sessions() as session:
            return {i for ids in _batches(article_ids)
                    for i in session.scalars(select(ArticleVectorsRow.article_id).where(*_of(ids, model)))}

    def save(self, vectors: dict[str, ArticleVectors], model: str) -> int:
        """Keep the vectors of articles not kept yet by this model; return how many were added."""
        for _ in range(3):
            new = sorted(set(vectors) - self.kept(sorted(vectors), model))
            try:
                with self.db.sessions.begin() as session:
                    for article_id in new:
                        kept = vectors[article_id]
                        session.add(ArticleVectorsRow(
                            article_id=article_id, model=model, sentences_key=kept.sentences_key,
                            rows=len(kept.vectors), vectors=np.ascontiguousarray(kept.vectors, np.float32).tobytes(),
                        ))
                return len(new)
            except IntegrityError:  # why: another process kept some of them meanwhile; keep the rest
                continue
        return 0


def _batches(article_ids: list[str]) -> list[list[str]]:
    return [article_ids[start:start + _AT_ONCE] for start in range(0, len(article_ids), _AT_ONCE)]


def _of(article_ids: list[str], model: str) -> tuple[ColumnElement[bool], ...]:
    return ArticleVectorsRow.model == model, ArticleVectorsRow.article_id.in_(article_ids)
