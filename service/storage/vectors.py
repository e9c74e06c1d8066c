"""Sentence vectors stored with their article, one set per embedding model."""

from __future__ import annotations

import numpy as np
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError

from service.embeddings import DIMENSIONS, ArticleVectors
from service.storage.database import Database
from service.storage.tables import ArticleVectorsRow

_AT_ONCE = 500  # ids in one query (SQLite allows 32,766 parameters; PostgreSQL more)


class VectorRepository:
    """Each article's sentence vectors, kept once per model and split of its sentences."""

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
        """Keep these articles' vectors by this model, replacing any kept for other sentences (another
        split); return how many were written. Written in batches, so a day's vectors are never all
        held twice."""
        return sum(self._save(ids, vectors, model) for ids in _batches(sorted(vectors)))

    def _save(self, ids: list[str], vectors: dict[str, ArticleVectors], model: str) -> int:
        for _ in range(3):
            with self.db.sessions() as session:
                keys = dict(session.execute(
                    select(ArticleVectorsRow.article_id, ArticleVectorsRow.sentences_key).where(*_of(ids, model))
                ).all())
            todo = [i for i in ids if keys.get(i) != vectors[i].sentences_key]
            try:
                with self.db.sessions.begin() as session:
                    if stale := [i for i in todo if i in keys]:
                        session.execute(delete(ArticleVectorsRow).where(*_of(stale, model)))
                    for article_id in todo:
                        kept = vectors[article_id]
                        session.add(ArticleVectorsRow(
                            article_id=article_id, model=model, sentences_key=kept.sentences_key,
                            rows=len(kept.vectors), vectors=np.ascontiguousarray(kept.vectors, np.float32).tobytes(),
                        ))
                return len(todo)
            except IntegrityError:  # why: another process kept some of them meanwhile; keep the rest
                continue
        return 0


def _batches(article_ids: list[str]) -> list[list[str]]:
    return [article_ids[start:start + _AT_ONCE] for start in range(0, len(article_ids), _AT_ONCE)]


def _of(article_ids: list[str], model: str) -> tuple[ColumnElement[bool], ...]:
    return ArticleVectorsRow.model == model, ArticleVectorsRow.article_id.in_(article_ids)
