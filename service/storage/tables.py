"""The tables (SQLAlchemy 2 declarative rows). Rows never leave the storage package: its repositories
hand out records (service/storage/records.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from service.dates import as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A time stored in UTC and read back with its offset, on every database (SQLite keeps none, and
    compares times as text, so every value and every bound goes in as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class ArticleRow(Base):
    """A stored article, keyed by its content id (so storing twice is a no-op)."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    origin: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)


class JobState:
    """The columns every job's row has: where it stands, why it failed, when it ran and changed
    (updated_at is also its heartbeat)."""

    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now, onupdate=_now)


class BriefingRow(JobState, Base):
    """A briefing request: its job state, the request, and the briefing or error."""

    __tablename__ = "briefings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    briefing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class DigestRow(JobState, Base):
    """The one digest of a date: its run state and the digest itself."""

    __tablename__ = "digests"

    date: Mapped[str] = mapped_column(String(10), primary_key=True)
    digest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fresh: Mapped[bool] = mapped_column(Boolean, default=False)
    runs: Mapped[int] = mapped_column(Integer, default=0)


class DigestStoryRow(Base):
    """A story briefing a digest run finished, keyed by its articles and settings, so a rerun resumes."""

    __tablename__ = "digest_stories"

    date: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    briefing: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)


class ArticleVectorsRow(Base):
    """An article's sentence vectors by one embedding model (float32, one row per sentence), so a
    rerun, a later day's digest or another worker never embeds the article again."""

    __tablename__ = "article_vectors"

    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model: Mapped[str] = mapped_column(String(32), primary_key=True)
    sentences_key: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
