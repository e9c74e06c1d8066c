"""Persistence: articles, briefings and digests with their job state (SQLAlchemy 2).

The database is the system of record of every job; the task queue only carries ids. A job
is claimed by compare-and-set on its row, so a second copy of a task (a resend, or a
redelivery while the first still runs) does nothing, and only the claimant's result is kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, create_engine, delete, func, or_, select, update
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from service.models import Article, ErrorKind, Status
from service.requests import StoredRequest
from service.resources import MIGRATIONS_DIR


def as_utc(moment: datetime) -> datetime:
    """Return a time in UTC; one without an offset is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A time stored in UTC and read back with its offset, on every database (SQLite keeps none, and
    compares times as text, so every value and every bound goes in as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))


class BriefingRow(Base):
    """A briefing request: its job state, the request, and the briefing or error."""

    __tablename__ = "briefings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    status: Mapped[str] = mapped_column(String(16), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    briefing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC)
    )


class DigestRow(Base):
    """The one digest of a date: its run state and the digest itself."""

    __tablename__ = "digests"

    date: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    digest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fresh: Mapped[bool] = mapped_column(Boolean, default=False)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC)
    )


class DigestStoryRow(Base):
    """A story briefing a digest run finished, keyed by its articles and settings, so a rerun resumes."""

    __tablename__ = "digest_stories"

    date: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    briefing: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=lambda: datetime.now(UTC))


ClaimOutcome = Literal["claimed", "finished", "busy", "missing"]
Row = TypeVar("Row", "BriefingRow", "DigestRow")


@dataclass(frozen=True)
class JobClaim(Generic[Row]):
    """What a task found when it tried to take its job: `claimed` (run it, as this attempt, with the
    job's row as claimed), `finished` (done or failed already: nothing to do), `busy` (another live
    task has it), `missing`."""

    outcome: ClaimOutcome
    attempt: int = 0
    row: Row | None = None


@dataclass(frozen=True)
class StaleJobs:
    """Jobs whose task may be lost: `waiting` (queued past resend_after_s: its message may never have
    reached the broker) and `abandoned` (running past the lease: its worker died)."""

    waiting: list[str]
    abandoned: list[str]


@dataclass(frozen=True)
class TaskStats:
    """What /metrics reports of one kind of job."""

    kind: str
    queued: int
    running: int
    finished: int
    seconds: float
    failures: dict[str, int]


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
                session.add(ArticleRow(**article.model_dump()))
                added.append(article.id)
        return added, existing

    def list_articles(
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
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(ArticleRow.created_at.desc()).offset(offset).limit(limit)).all()
        return [_article(r) for r in rows], total

    def articles_by_ids(self, ids: list[str]) -> list[Article]:
        """Return the stored articles with these ids (those that exist)."""
        with self.sessions() as session:
            rows = session.scalars(select(ArticleRow).where(ArticleRow.id.in_(ids))).all()
        return [_article(r) for r in rows]

    def articles_between(self, start: datetime, end: datetime) -> list[Article]:
        """Return every article published in [start, end), or received then when it has no date."""
        query = select(ArticleRow).where(or_(
            (ArticleRow.published >= start) & (ArticleRow.published < end),
            ArticleRow.published.is_(None) & (ArticleRow.created_at >= start) & (ArticleRow.created_at < end),
        ))
        with self.sessions() as session:
            rows = session.scalars(query.order_by(ArticleRow.published, ArticleRow.id)).all()
        return [_article(r) for r in rows]

    # briefings and jobs
    def create_briefing(self, request: StoredRequest, status: Status = Status.QUEUED) -> BriefingRow:
        """Store a new briefing request with the given status."""
        with self.sessions.begin() as session:
            row = BriefingRow(status=status, request=request.model_dump(mode="json"),
                              attempts=1 if status == Status.RUNNING else 0)
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

    def claim_briefing(self, briefing_id: str, lease_s: float) -> JobClaim[BriefingRow]:
        """Take a queued job, or a running one whose heartbeat is older than `lease_s` (its claimant died)."""
        return self._claim(BriefingRow, BriefingRow.id, briefing_id, BriefingRow.attempts, lease_s)

    def beat_briefing(self, briefing_id: str, attempt: int) -> bool:
        """Renew a running job's heartbeat; False when that attempt no longer holds it."""
        with self.sessions.begin() as session:
            beaten = session.execute(
                update(BriefingRow)
                .where(BriefingRow.id == briefing_id, BriefingRow.status == Status.RUNNING,
                       BriefingRow.attempts == attempt)
                .values(updated_at=datetime.now(UTC))
            )
            return bool(beaten.rowcount)  # type: ignore[attr-defined]

    def _claim(self, table: Any, key: Any, value: str, counter: Any, lease_s: float) -> JobClaim[Any]:
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            status = session.scalar(select(table.status).where(key == value))
            if status is None:
                return JobClaim("missing")
            if status not in (Status.QUEUED, Status.RUNNING):
                return JobClaim("finished")
            takeable = (table.status == Status.QUEUED) | (
                (table.status == Status.RUNNING) & (table.updated_at < now - timedelta(seconds=lease_s))
            )
            claimed = session.execute(
                update(table).where(key == value, takeable)
                .values({table.status: Status.RUNNING, counter: counter + 1, table.started_at: now,
                         table.updated_at: now})
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return JobClaim("busy")
            row = session.get(table, value)
            return JobClaim("claimed", int(getattr(row, counter.key)), row)

    def _stale(self, table: Any, key: Any, queued_s: float, lease_s: float, limit: int = 500) -> StaleJobs:
        now = datetime.now(UTC)
        query = select(key, table.status).where(
            ((table.status == Status.QUEUED) & (table.updated_at < now - timedelta(seconds=queued_s)))
            | ((table.status == Status.RUNNING) & (table.updated_at < now - timedelta(seconds=lease_s)))
        )
        with self.sessions() as session:
            rows = session.execute(query.order_by(table.created_at).limit(limit)).all()
        return StaleJobs(waiting=[k for k, status in rows if status == Status.QUEUED],
                         abandoned=[k for k, status in rows if status == Status.RUNNING])

    def queued_count(self) -> int:
        """Jobs (briefings and digest runs) waiting for a worker."""
        return self._queued(BriefingRow) + self._queued(DigestRow)

    def _queued(self, table: Any) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).where(table.status == Status.QUEUED)) or 0)

    def finish(
        self, briefing_id: str, *, attempt: int | None = None, briefing: dict[str, Any] | None = None,
        error: str | None = None, kind: ErrorKind | None = None,
    ) -> bool:
        """Record a job's result: done with its briefing, or failed with the reason. With `attempt`,
        only while that attempt still holds the job (a result is stored once); return whether it was."""
        status = Status.DONE if error is None else Status.FAILED
        now = datetime.now(UTC)
        query = update(BriefingRow).where(BriefingRow.id == briefing_id)
        if attempt is not None:
            query = query.where(BriefingRow.status == Status.RUNNING, BriefingRow.attempts == attempt)
        with self.sessions.begin() as session:
            done = session.execute(query.values(
                status=status, briefing=briefing, error=error, error_kind=kind, finished_at=now, updated_at=now,
            ))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def release(self, briefing_id: str, attempt: int, reason: str, due_in_s: float = 0.0) -> bool:
        """Put a running job back in the queue, keeping why; its task is retried in `due_in_s`, and
        until then the job does not count as waiting (updated_at is when it is due)."""
        with self.sessions.begin() as session:
            done = session.execute(
                update(BriefingRow)
                .where(BriefingRow.id == briefing_id, BriefingRow.status == Status.RUNNING,
                       BriefingRow.attempts == attempt)
                .values(status=Status.QUEUED, error=reason,
                        updated_at=datetime.now(UTC) + timedelta(seconds=due_in_s))
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def stale_briefings(self, queued_s: float, lease_s: float) -> StaleJobs:
        """Jobs whose task may be lost: queued longer than `queued_s`, or running past the lease."""
        return self._stale(BriefingRow, BriefingRow.id, queued_s, lease_s)

    def retry(self, briefing_id: str) -> bool:
        """Queue a failed job again; return False if it is not failed."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(BriefingRow).where(BriefingRow.id == briefing_id, BriefingRow.status == Status.FAILED)
                .values(status=Status.QUEUED, error=None, error_kind=None, updated_at=datetime.now(UTC))
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def task_stats(self) -> list[TaskStats]:
        """Per kind of job: how many wait in the queue, how long finished attempts ran (count and sum of
        seconds) and failures by kind; read from the rows, so every API process reports all workers."""
        stats = []
        for kind, table in (("briefing", BriefingRow), ("digest", DigestRow)):
            seconds = self._seconds(table.finished_at) - self._seconds(table.started_at)  # type: ignore[attr-defined]
            finished = (table.finished_at.is_not(None)) & (table.started_at.is_not(None))  # type: ignore[attr-defined]
            queued = self._queued(table)
            with self.sessions() as session:
                count, total = session.execute(select(func.count(), func.sum(seconds)).where(finished)).one()
                running = session.scalar(select(func.count()).where(table.status == Status.RUNNING))  # type: ignore[attr-defined]
                failures = session.execute(
                    select(table.error_kind, func.count()).where(table.status == Status.FAILED)  # type: ignore[attr-defined]
                    .group_by(table.error_kind)  # type: ignore[attr-defined]
                ).all()
            stats.append(TaskStats(kind=kind, queued=queued, running=int(running or 0), finished=int(count or 0),
                                   seconds=float(total or 0.0),
                                   failures={str(k or ErrorKind.INTERNAL): int(n) for k, n in failures}))
        return stats

    def _seconds(self, column: Any) -> Any:
        if self.engine.dialect.name == "postgresql":
            return func.extract("epoch", column)
        return func.julianday(column) * 86400.0

    def count_by_status(self) -> dict[str, int]:
        """Return how many briefings are in each state."""
        with self.sessions() as session:
            rows = session.execute(select(BriefingRow.status, func.count()).group_by(BriefingRow.status)).all()
        jobs = (Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED)
        return dict.fromkeys(jobs, 0) | {s: int(n) for s, n in rows}


    # digests
    def request_digest(self, day: str, *, fresh: bool = False) -> tuple[DigestRow, bool]:
        """Queue a run of a date's digest; a run already queued or running is left as it is. Return the
        row and whether a run was newly queued (only then is its task to be sent)."""
        with self.sessions.begin() as session:
            row = session.get(DigestRow, day)
            if row is None:
                row = DigestRow(date=day, status=Status.QUEUED, fresh=fresh)
                session.add(row)
                return row, True
            if row.status in (Status.QUEUED, Status.RUNNING):
                return row, False
            row.status, row.fresh, row.error, row.error_kind = Status.QUEUED, fresh, None, None
            row.updated_at = datetime.now(UTC)
            return row, True

    def start_digest(self, day: str) -> None:
        """Mark a date's digest running (a run started directly, not from the queue)."""
        with self.sessions.begin() as session:
            row = session.get(DigestRow, day)
            now = datetime.now(UTC)
            if row is None:
                session.add(DigestRow(date=day, status=Status.RUNNING, runs=1, started_at=now))
            else:
                row.status, row.error, row.runs, row.started_at = Status.RUNNING, None, row.runs + 1, now

    def claim_digest(self, day: str, lease_s: float) -> JobClaim[DigestRow]:
        """Take a date's queued digest run, or a running one whose claimant has been silent past the lease."""
        return self._claim(DigestRow, DigestRow.date, day, DigestRow.runs, lease_s)

    def touch_digest(self, day: str, run: int) -> None:
        """Renew a running digest's lease (each finished story does), so a long run is not taken over."""
        with self.sessions.begin() as session:
            session.execute(update(DigestRow).where(DigestRow.date == day, DigestRow.runs == run,
                                                    DigestRow.status == Status.RUNNING)
                            .values(updated_at=datetime.now(UTC)))

    def finish_digest(
        self, day: str, *, status: Status, digest: dict[str, Any] | None = None, error: str | None = None,
        kind: ErrorKind | None = None, run: int | None = None,
    ) -> bool:
        """Record the end of a digest run (with `run`: only while that run still holds it); a failed run
        keeps the last good digest."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": status, "error": error, "error_kind": kind, "finished_at": now,
                                  "updated_at": now}
        if digest is not None:
            values["digest"] = digest
        query = update(DigestRow).where(DigestRow.date == day)
        if run is not None:
            query = query.where(DigestRow.status == Status.RUNNING, DigestRow.runs == run)
        with self.sessions.begin() as session:
            return bool(session.execute(query.values(**values)).rowcount)  # type: ignore[attr-defined]

    def release_digest(self, day: str, run: int, reason: str) -> None:
        """Put a running digest back in the queue (its run is retried later), keeping why."""
        with self.sessions.begin() as session:
            session.execute(update(DigestRow).where(DigestRow.date == day, DigestRow.runs == run,
                                                    DigestRow.status == Status.RUNNING)
                            .values(status=Status.QUEUED, error=reason, updated_at=datetime.now(UTC)))

    def stale_digests(self, queued_s: float, lease_s: float) -> StaleJobs:
        """Digest runs whose task may be lost: queued longer than `queued_s`, or running past the lease."""
        return self._stale(DigestRow, DigestRow.date, queued_s, lease_s)

    def get_digest(self, day: str) -> DigestRow | None:
        """Return a date's digest row, or None."""
        with self.sessions() as session:
            return session.get(DigestRow, day)

    def earlier_digests(self, day: str, days: int) -> list[DigestRow]:
        """The stored digests of the `days` dates before `day`, newest first."""
        first = (date.fromisoformat(day) - timedelta(days=days)).isoformat()
        query = (select(DigestRow).where(DigestRow.date < day, DigestRow.date >= first, DigestRow.digest.is_not(None))
                 .order_by(DigestRow.date.desc()))
        with self.sessions() as session:
            return list(session.scalars(query).all())

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


def _article(row: ArticleRow) -> Article:
    return Article(
        id=row.id, text=row.text, title=row.title, source=row.source, url=row.url,
        published=row.published, origin=row.origin or f"db:{row.id}",
    )
