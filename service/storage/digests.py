"""Digests, one a date: the run state and the last complete digest; and the story briefings a run
finished, so a rerun resumes after them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from service.models import Briefing, Digest, ErrorKind, Status
from service.storage.database import Database
from service.storage.jobs import JobTable
from service.storage.records import DigestRecord, JobClaim, StaleJobs, TaskStats
from service.storage.search import SearchRepository
from service.storage.tables import DigestRow, DigestStoryRow

JOBS = JobTable("digest", DigestRow, DigestRow.date, DigestRow.runs)


class DigestRepository:
    """The digest of each date and its runs; a run is claimed like a briefing job, keyed by the date."""

    def __init__(self, db: Database, search: SearchRepository) -> None:
        self.db = db
        self.search = search

    def request(self, day: str, *, fresh: bool = False) -> tuple[DigestRecord, bool]:
        """Queue a run of a date's digest; a run already queued or running is left as it is. Return the
        digest and whether a run was newly queued (only then is its task to be sent)."""
        with self.db.sessions.begin() as session:
            row = session.get(DigestRow, day)
            queued = True
            if row is None:
                row = DigestRow(date=day, status=Status.QUEUED, fresh=fresh, runs=0)
                session.add(row)
            elif row.status in (Status.QUEUED, Status.RUNNING):
                queued = False
            else:
                row.status, row.fresh, row.error, row.error_kind = Status.QUEUED, fresh, None, None
                row.updated_at = datetime.now(UTC)
            session.flush()
            return _record(row), queued

    def start(self, day: str) -> None:
        """Mark a date's digest running (a run started directly, not from the queue)."""
        with self.db.sessions.begin() as session:
            row = session.get(DigestRow, day)
            now = datetime.now(UTC)
            if row is None:
                session.add(DigestRow(date=day, status=Status.RUNNING, runs=1, started_at=now))
            else:
                row.status, row.error, row.runs, row.started_at = Status.RUNNING, None, row.runs + 1, now

    def claim(self, day: str, lease_s: float) -> JobClaim[DigestRecord]:
        """Take a date's queued run, or a running one whose claimant has been silent past the lease."""
        outcome, run, row = JOBS.claim(self.db, day, lease_s)
        return JobClaim(outcome, run, _record(row) if row else None)

    def touch(self, day: str, run: int) -> None:
        """Renew a running digest's lease (each finished story does), so a long run is not taken over."""
        self._update(day, run, updated_at=datetime.now(UTC))

    def finish(
        self, day: str, *, status: Status, digest: Digest | None = None, error: str | None = None,
        kind: ErrorKind | None = None, run: int | None = None,
    ) -> bool:
        """Record the end of a digest run (with `run`: only while that run still holds it); a failed run
        keeps the last good digest. A stored digest's stories replace the date's in the search index."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": status, "error": error, "error_kind": kind, "finished_at": now,
                                  "updated_at": now}
        if digest is not None:
            values["digest"] = digest.model_dump(mode="json")
        if run is not None:
            stored = self._update(day, run, **values)
        else:
            with self.db.sessions.begin() as session:
                done = session.execute(update(DigestRow).where(DigestRow.date == day).values(**values))
                stored = bool(done.rowcount)  # type: ignore[attr-defined]
        if stored and digest is not None:
            self.search.index(digest)
        return stored

    def release(self, day: str, run: int, reason: str) -> None:
        """Put a running digest back in the queue (its run is retried later), keeping why."""
        self._update(day, run, status=Status.QUEUED, error=reason, updated_at=datetime.now(UTC))

    def stale(self, queued_s: float, lease_s: float) -> StaleJobs:
        """Digest runs whose task may be lost: queued longer than `queued_s`, or running past the lease."""
        return JOBS.stale(self.db, queued_s, lease_s)

    def count(self, status: Status) -> int:
        """How many digest runs are in this state."""
        return JOBS.count(self.db, status)

    def stats(self) -> TaskStats:
        """What /metrics reports of digest runs."""
        return JOBS.stats(self.db)

    def get(self, day: str) -> DigestRecord | None:
        """Return a date's digest, or None."""
        with self.db.sessions() as session:
            row = session.get(DigestRow, day)
            return _record(row) if row else None

    def stamp(self, day: str | None = None) -> tuple[str, datetime] | None:
        """The date and last change of a date's stored digest (of the newest one with no date given),
        read without the digest itself: what a cached page of it is keyed by."""
        query = select(DigestRow.date, DigestRow.updated_at).where(DigestRow.digest.is_not(None))
        query = query.where(DigestRow.date == day) if day else query.order_by(DigestRow.date.desc()).limit(1)
        with self.db.sessions() as session:
            found = session.execute(query).first()
        return (found[0], found[1]) if found else None

    def earlier(self, day: str, days: int) -> list[Digest]:
        """The stored digests of the `days` dates before `day`, newest first."""
        first = (date.fromisoformat(day) - timedelta(days=days)).isoformat()
        query = (select(DigestRow).where(DigestRow.date < day, DigestRow.date >= first, DigestRow.digest.is_not(None))
                 .order_by(DigestRow.date.desc()))
        with self.db.sessions() as session:
            return [Digest.model_validate(row.digest) for row in session.scalars(query).all()]

    def page(self, *, offset: int = 0, limit: int = 20, status: Status | None = None) -> tuple[
        list[DigestRecord], int
    ]:
        """Return a page of digests (newest date first) and the total."""
        query = select(DigestRow)
        if status:
            query = query.where(DigestRow.status == status)
        rows, total = self.db.page(query, DigestRow.date.desc(), offset, limit)
        return [_record(r) for r in rows], total

    def _update(self, day: str, run: int, **values: Any) -> bool:
        with self.db.sessions.begin() as session:
            done = session.execute(update(DigestRow).where(DigestRow.date == day, DigestRow.runs == run,
                                                           DigestRow.status == Status.RUNNING).values(**values))
            return bool(done.rowcount)  # type: ignore[attr-defined]


class StoryRepository:
    """The story briefings of a date's runs, keyed by what a story's briefing depends on."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, day: str, key: str) -> Briefing | None:
        """Return a story briefing an earlier run of the date finished, or None."""
        with self.db.sessions() as session:
            row = session.get(DigestStoryRow, (day, key))
            return Briefing.model_validate(row.briefing) if row else None

    def save(self, day: str, key: str, briefing: Briefing) -> None:
        """Keep a finished story briefing, so a killed run resumes after it."""
        data = briefing.model_dump(mode="json")
        with self.db.sessions.begin() as session:
            row = session.get(DigestStoryRow, (day, key))
            if row is None:
                session.add(DigestStoryRow(date=day, key=key, briefing=data))
            else:
                row.briefing = data

    def drop(self, day: str, *, keep: set[str] | None = None) -> None:
        """Forget a date's story briefings, except those in `keep`; a requested fresh start is then done."""
        with self.db.sessions.begin() as session:
            query = delete(DigestStoryRow).where(DigestStoryRow.date == day)
            if keep:
                query = query.where(DigestStoryRow.key.not_in(keep))
            session.execute(query)
            if keep is None:
                # why: a fresh run killed after this point resumes from the stories it re-made.
                session.execute(update(DigestRow).where(DigestRow.date == day).values(fresh=False))


def _record(row: DigestRow) -> DigestRecord:
    return DigestRecord(
        date=row.date, status=Status(row.status), error=row.error,
        error_kind=ErrorKind(row.error_kind) if row.error_kind else None, fresh=bool(row.fresh), runs=row.runs or 0,
        updated_at=row.updated_at, digest=Digest.model_validate(row.digest) if row.digest else None,
    )
