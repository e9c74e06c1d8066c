"""Persistence: articles, briefings with their run records, and the job queue (SQLAlchemy 2)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, create_engine, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from service.models import Article, Status
from service.resources import MIGRATIONS_DIR


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
    published: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    origin: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


class BriefingRow(Base):
    """A briefing request: its job state, the request, and the briefing or error."""

    __tablename__ = "briefings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    status: Mapped[str] = mapped_column(String(16), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    briefing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC)
    )


class DigestRow(Base):
    """The one digest of a date: its run state and the digest itself."""

    __tablename__ = "digests"

    date: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    digest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    fresh: Mapped[bool] = mapped_column(Boolean, default=False)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC)
    )


class DigestStoryRow(Base):
    """A story briefing a digest run finished, keyed by its articles and settings, so a rerun resumes."""

    __tablename__ = "digest_stories"

    date: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    briefing: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


class Store:
    """All database access of the service."""

    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = url.startswith("sqlite")
        connect_args = {"check_same_thread": False} if sqlite else {}
        # why: pre-ping costs a query per request; only a networked database can drop connections.
        self.engine: Engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not sqlite)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    # articles
    def add_articles(self, articles: list[Article]) -> tuple[list[str], list[str]]:
        """Store articles; return the ids added and the ids already stored."""
        added, existing = [], []
        with self.sessions.begin() as session:
            for article in articles:
                if session.get(ArticleRow, article.id) is not None or article.id in added:
                    existing.append(article.id)
                    continue
                row = article.model_dump()
                # why: SQLite keeps no offset; every stored time is UTC so date ranges compare right.
                row["published"] = as_utc(article.published) if article.published else None
                session.add(ArticleRow(**row))
                added.append(article.id)
        return added, existing

    def list_articles(
        self, *, since: datetime | None = None, until: datetime | None = None, source: str | None = None,
        offset: int = 0, limit: int = 20,
    ) -> tuple[list[Article], int]:
        """Return a page of stored articles (newest first) and the total matching."""
        query = select(ArticleRow)
        # why: SQLite compares times as text and drops offsets, so every bound goes in as UTC.
        if since:
            query = query.where(ArticleRow.published >= as_utc(since))
        if until:
            query = query.where(ArticleRow.published < as_utc(until))
        if source:
            query = query.where(ArticleRow.source == source)
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(ArticleRow.created_at.desc()).offset(offset).limit(limit)).all()
        return [_article(r) for r in rows], total

    def articles_between(self, start: datetime, end: datetime) -> list[Article]:
        """Return every article published in [start, end), or received then when it has no date."""
        start, end = as_utc(start), as_utc(end)
        query = select(ArticleRow).where(or_(
            (ArticleRow.published >= start) & (ArticleRow.published < end),
            ArticleRow.published.is_(None) & (ArticleRow.created_at >= start) & (ArticleRow.created_at < end),
        ))
        with self.sessions() as session:
            rows = session.scalars(query.order_by(ArticleRow.published, ArticleRow.id)).all()
        return [_article(r) for r in rows]

    # briefings and jobs
    def create_briefing(self, request: dict[str, Any], status: Status = Status.QUEUED) -> BriefingRow:
        """Store a new briefing request with the given status."""
        with self.sessions.begin() as session:
            row = BriefingRow(status=status, request=request, attempts=1 if status == Status.RUNNING else 0)
            session.add(row)
        return row

    def get_briefing(self, briefing_id: str) -> BriefingRow | None:
        """Return one briefing row, or None."""
        with self.sessions() as session:
            return session.get(BriefingRow, briefing_id)

    def list_briefings(self, *, offset: int = 0, limit: int = 20) -> tuple[list[BriefingRow], int]:
        """Return a page of briefings (newest first) and the total."""
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(BriefingRow)) or 0
            rows = session.scalars(
                select(BriefingRow).order_by(BriefingRow.created_at.desc()).offset(offset).limit(limit)
            ).all()
        return list(rows), total

    def claim_next(self) -> BriefingRow | None:
        """Atomically move the oldest queued job to running and return it."""
        with self.sessions.begin() as session:
            query = select(BriefingRow.id).where(BriefingRow.status == Status.QUEUED).order_by(BriefingRow.created_at)
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for candidate in session.scalars(query.limit(5)).all():
                # why: the status guard makes the claim atomic even where SKIP LOCKED does not exist.
                claimed = session.execute(
                    update(BriefingRow)
                    .where(BriefingRow.id == candidate, BriefingRow.status == Status.QUEUED)
                    .values(status=Status.RUNNING, attempts=BriefingRow.attempts + 1, updated_at=datetime.now(UTC))
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return session.get(BriefingRow, candidate)
        return None

    def finish(self, briefing_id: str, *, briefing: dict[str, Any] | None = None, error: str | None = None) -> None:
        """Record a job's result: done with its briefing, or failed with the reason."""
        status = Status.DONE if error is None else Status.FAILED
        with self.sessions.begin() as session:
            session.execute(
                update(BriefingRow).where(BriefingRow.id == briefing_id)
                .values(status=status, briefing=briefing, error=error, updated_at=datetime.now(UTC))
            )

    def requeue_unfinished(self) -> int:
        """Put jobs left running by a crashed process back in the queue; finished ones stay finished."""
        with self.sessions.begin() as session:
            stuck = update(BriefingRow).where(BriefingRow.status == Status.RUNNING)
            result = session.execute(stuck.values(status=Status.QUEUED))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def retry(self, briefing_id: str) -> bool:
        """Queue a failed job again; return False if it is not failed."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(BriefingRow).where(BriefingRow.id == briefing_id, BriefingRow.status == Status.FAILED)
                .values(status=Status.QUEUED, error=None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def count_by_status(self) -> dict[str, int]:
        """Return how many briefings are in each state."""
        with self.sessions() as session:
            rows = session.execute(select(BriefingRow.status, func.count()).group_by(BriefingRow.status)).all()
        jobs = (Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED)
        return dict.fromkeys(jobs, 0) | {s: int(n) for s, n in rows}


    # digests
    def request_digest(self, day: str, *, fresh: bool = False) -> DigestRow:
        """Queue a run of a date's digest; a run already queued or running is left as it is."""
        with self.sessions.begin() as session:
            row = session.get(DigestRow, day)
            if row is None:
                row = DigestRow(date=day, status=Status.QUEUED, fresh=fresh)
                session.add(row)
            elif row.status not in (Status.QUEUED, Status.RUNNING):
                row.status, row.fresh, row.error = Status.QUEUED, fresh, None
        return row

    def start_digest(self, day: str) -> None:
        """Mark a date's digest running (a run started directly, not from the queue)."""
        with self.sessions.begin() as session:
            row = session.get(DigestRow, day)
            if row is None:
                session.add(DigestRow(date=day, status=Status.RUNNING, runs=1))
            else:
                row.status, row.error, row.runs = Status.RUNNING, None, row.runs + 1

    def claim_digest(self) -> DigestRow | None:
        """Atomically move the oldest queued digest to running and return it."""
        with self.sessions.begin() as session:
            query = select(DigestRow.date).where(DigestRow.status == Status.QUEUED).order_by(DigestRow.updated_at)
            for day in session.scalars(query.limit(5)).all():
                claimed = session.execute(
                    update(DigestRow).where(DigestRow.date == day, DigestRow.status == Status.QUEUED)
                    .values(status=Status.RUNNING, runs=DigestRow.runs + 1, updated_at=datetime.now(UTC))
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return session.get(DigestRow, day)
        return None

    def finish_digest(
        self, day: str, *, status: Status, digest: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Record the end of a digest run; a failed run keeps the last good digest."""
        with self.sessions.begin() as session:
            values: dict[str, Any] = {"status": status, "error": error}
            if digest is not None:
                values["digest"] = digest
            session.execute(update(DigestRow).where(DigestRow.date == day).values(**values))

    def get_digest(self, day: str) -> DigestRow | None:
        """Return a date's digest row, or None."""
        with self.sessions() as session:
            return session.get(DigestRow, day)

    def list_digests(self, *, offset: int = 0, limit: int = 20, status: str | None = None) -> tuple[
        list[DigestRow], int
    ]:
        """Return a page of digests (newest date first) and the total."""
        query = select(DigestRow)
        if status:
            query = query.where(DigestRow.status == status)
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(DigestRow.date.desc()).offset(offset).limit(limit)).all()
        return list(rows), total

    def requeue_running_digests(self) -> int:
        """Queue again the digests a stopped process left running; their finished stories are kept."""
        with self.sessions.begin() as session:
            stuck = update(DigestRow).where(DigestRow.status == Status.RUNNING)
            result = session.execute(stuck.values(status=Status.QUEUED))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def story_briefing(self, day: str, key: str) -> dict[str, Any] | None:
        """Return a story briefing an earlier run of the date finished, or None."""
        with self.sessions() as session:
            row = session.get(DigestStoryRow, (day, key))
            return row.briefing if row else None

    def save_story_briefing(self, day: str, key: str, briefing: dict[str, Any]) -> None:
        """Keep a finished story briefing, so a killed run resumes after it."""
        with self.sessions.begin() as session:
            row = session.get(DigestStoryRow, (day, key))
            if row is None:
                session.add(DigestStoryRow(date=day, key=key, briefing=briefing))
            else:
                row.briefing = briefing

    def drop_story_briefings(self, day: str, *, keep: set[str] | None = None) -> None:
        """Forget a date's story briefings, except those in `keep`; a requested fresh start is then done."""
        with self.sessions.begin() as session:
            query = delete(DigestStoryRow).where(DigestStoryRow.date == day)
            if keep:
                query = query.where(DigestStoryRow.key.not_in(keep))
            session.execute(query)
            if keep is None:
                # why: a fresh run killed after this point resumes from the stories it re-made.
                session.execute(update(DigestRow).where(DigestRow.date == day).values(fresh=False))


def as_utc(moment: datetime) -> datetime:
    """Return a time in UTC; one without an offset is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _article(row: ArticleRow) -> Article:
    published = as_utc(row.published) if row.published else None
    return Article(
        id=row.id, text=row.text, title=row.title, source=row.source, url=row.url,
        published=published, origin=row.origin or f"db:{row.id}",
    )
