"""Briefing jobs: the request, its state from queued to done or failed, and the briefing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from service.models import Briefing, ErrorKind, Status
from service.requests import StoredRequest
from service.storage.database import Database
from service.storage.jobs import JobTable
from service.storage.records import BriefingRecord, BriefingState, JobClaim, StaleJobs, TaskStats
from service.storage.tables import BriefingRow

JOBS = JobTable("briefing", BriefingRow, BriefingRow.id, BriefingRow.attempts)
_STATE = (BriefingRow.id, BriefingRow.status, BriefingRow.error, BriefingRow.error_kind, BriefingRow.attempts,
          BriefingRow.created_at, BriefingRow.updated_at)


class BriefingRepository:
    """Briefing jobs; each change of state is one conditional update, so only the holder of an attempt
    can move its job on."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, request: StoredRequest, status: Status = Status.QUEUED) -> BriefingRecord:
        """Store a new briefing request: queued, or running as its first attempt (briefed in the API)."""
        with self.db.sessions.begin() as session:
            row = BriefingRow(status=status, request=request.model_dump(mode="json"),
                              attempts=1 if status == Status.RUNNING else 0)
            session.add(row)
        return _record(row)

    def get(self, briefing_id: str) -> BriefingRecord | None:
        """Return one briefing job, or None."""
        with self.db.sessions() as session:
            row = session.get(BriefingRow, briefing_id)
            return _record(row) if row else None

    def page(self, *, offset: int = 0, limit: int = 20) -> tuple[list[BriefingState], int]:
        """Return a page of briefing jobs (newest first, without bodies) and the total."""
        with self.db.sessions() as session:
            total = session.scalar(select(func.count()).select_from(BriefingRow)) or 0
            rows = session.execute(
                select(*_STATE).order_by(BriefingRow.created_at.desc()).offset(offset).limit(limit)
            ).all()
        return [_state(*r) for r in rows], total

    def claim(self, briefing_id: str, lease_s: float) -> JobClaim[BriefingRecord]:
        """Take a queued job, or a running one whose heartbeat is older than `lease_s` (its claimant died)."""
        outcome, attempt, row = JOBS.claim(self.db, briefing_id, lease_s)
        return JobClaim(outcome, attempt, _record(row) if row else None)

    def beat(self, briefing_id: str, attempt: int) -> bool:
        """Renew a running job's heartbeat; False when that attempt no longer holds it."""
        return self._update(briefing_id, attempt, updated_at=datetime.now(UTC))

    def finish(
        self, briefing_id: str, *, attempt: int, briefing: Briefing | None = None,
        error: str | None = None, kind: ErrorKind | None = None,
    ) -> bool:
        """Record the attempt's result, done with its briefing or failed with the reason, while that
        attempt still holds the job (a result is stored once); return whether it was."""
        now = datetime.now(UTC)
        return self._update(
            briefing_id, attempt, status=Status.DONE if error is None else Status.FAILED,
            briefing=None if briefing is None else briefing.model_dump(mode="json"),
            error=error, error_kind=kind, finished_at=now, updated_at=now,
        )

    def release(self, briefing_id: str, attempt: int, reason: str, due_in_s: float = 0.0) -> bool:
        """Put a running job back in the queue, keeping why; its task is retried in `due_in_s`, and
        until then the job does not count as waiting (updated_at is when it is due)."""
        return self._update(briefing_id, attempt, status=Status.QUEUED, error=reason,
                            updated_at=datetime.now(UTC) + timedelta(seconds=due_in_s))

    def retry(self, briefing_id: str) -> bool:
        """Queue a failed job again; return False if it is not failed."""
        with self.db.sessions.begin() as session:
            result = session.execute(
                update(BriefingRow).where(BriefingRow.id == briefing_id, BriefingRow.status == Status.FAILED)
                .values(status=Status.QUEUED, error=None, error_kind=None, updated_at=datetime.now(UTC))
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def stale(self, queued_s: float, lease_s: float) -> StaleJobs:
        """Jobs whose task may be lost: queued longer than `queued_s`, or silent past the lease."""
        return JOBS.stale(self.db, queued_s, lease_s)

    def count(self, status: Status) -> int:
        """How many briefing jobs are in this state."""
        return JOBS.count(self.db, status)

    def count_by_status(self) -> dict[Status, int]:
        """Return how many briefings are in each job state."""
        with self.db.sessions() as session:
            rows = session.execute(select(BriefingRow.status, func.count()).group_by(BriefingRow.status)).all()
        jobs = (Status.QUEUED, Status.RUNNING, Status.DONE, Status.FAILED)
        return dict.fromkeys(jobs, 0) | {Status(s): int(n) for s, n in rows}

    def stats(self) -> TaskStats:
        """What /metrics reports of briefing jobs."""
        return JOBS.stats(self.db)

    def _update(self, briefing_id: str, attempt: int, **values: Any) -> bool:
        with self.db.sessions.begin() as session:
            done = session.execute(
                update(BriefingRow)
                .where(BriefingRow.id == briefing_id, BriefingRow.status == Status.RUNNING,
                       BriefingRow.attempts == attempt)
                .values(**values)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]


def _state(id: str, status: str, error: str | None, error_kind: str | None, attempts: int,  # noqa: A002
           created_at: datetime, updated_at: datetime) -> BriefingState:
    return BriefingState(id, Status(status), error, ErrorKind(error_kind) if error_kind else None, attempts,
                         created_at, updated_at)


def _record(row: BriefingRow) -> BriefingRecord:
    state = _state(row.id, row.status, row.error, row.error_kind, row.attempts, row.created_at, row.updated_at)
    return BriefingRecord(
        **vars(state), request=StoredRequest.model_validate(row.request),
        briefing=Briefing.model_validate(row.briefing) if row.briefing else None,
    )
