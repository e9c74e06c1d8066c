"""The job mechanics briefings and digest runs share: claim by compare-and-set on the row, find jobs
whose task may be lost, count and time them. A second copy of a task (a resend, or a redelivery while
the first still runs) finds the job taken and does nothing, so only the claimant's result is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from service.models import ErrorKind, Status
from service.storage.database import Database
from service.storage.records import ClaimOutcome, StaleJobs, TaskStats
from service.storage.tables import BriefingRow, DigestRow


@dataclass(frozen=True)
class JobTable:
    """A table of jobs: its key column and the column that counts attempts (runs)."""

    kind: Literal["briefing", "digest"]
    table: type[BriefingRow] | type[DigestRow]
    key: InstrumentedAttribute[str]
    counter: InstrumentedAttribute[int]

    def claim(self, db: Database, value: str, lease_s: float) -> tuple[ClaimOutcome, int, Any]:
        """Take a queued job, or a running one whose heartbeat is older than `lease_s` (its claimant
        died); return the outcome, the attempt and (when claimed) the row, to be read in the caller."""
        t, now = self.table, datetime.now(UTC)
        with db.sessions.begin() as session:
            status = session.scalar(select(t.status).where(self.key == value))
            if status is None:
                return "missing", 0, None
            if status not in (Status.QUEUED, Status.RUNNING):
                return "finished", 0, None
            takeable = (t.status == Status.QUEUED) | (
                (t.status == Status.RUNNING) & (t.updated_at < now - timedelta(seconds=lease_s))
            )
            claimed = session.execute(
                update(t).where(self.key == value, takeable)
                .values({t.status: Status.RUNNING, self.counter: self.counter + 1, t.started_at: now,
                         t.updated_at: now})
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return "busy", 0, None
            row = session.get(t, value)
            return "claimed", int(getattr(row, self.counter.key)), row

    def stale(self, db: Database, queued_s: float, lease_s: float, limit: int = 500) -> StaleJobs:
        """Jobs queued longer than `queued_s`, or running with no heartbeat for `lease_s`."""
        t, now = self.table, datetime.now(UTC)
        query = select(self.key, t.status).where(
            ((t.status == Status.QUEUED) & (t.updated_at < now - timedelta(seconds=queued_s)))
            | ((t.status == Status.RUNNING) & (t.updated_at < now - timedelta(seconds=lease_s)))
        )
        with db.sessions() as session:
            rows = session.execute(query.order_by(t.created_at).limit(limit)).all()
        return StaleJobs(waiting=[k for k, status in rows if status == Status.QUEUED],
                         abandoned=[k for k, status in rows if status == Status.RUNNING])

    def count(self, db: Database, status: Status) -> int:
        """How many jobs are in this state."""
        with db.sessions() as session:
            return int(session.scalar(select(func.count()).where(self.table.status == status)) or 0)

    def stats(self, db: Database) -> TaskStats:
        """How many wait and run, how long finished attempts ran (count and sum of seconds), failures by
        kind; read from the rows, so every API process reports all workers."""
        t = self.table
        seconds = db.epoch_seconds(t.finished_at) - db.epoch_seconds(t.started_at)
        finished = t.finished_at.is_not(None) & t.started_at.is_not(None)
        with db.sessions() as session:
            count, total = session.execute(select(func.count(), func.sum(seconds)).where(finished)).one()
            failures = session.execute(
                select(t.error_kind, func.count()).where(t.status == Status.FAILED).group_by(t.error_kind)
            ).all()
        return TaskStats(kind=self.kind, queued=self.count(db, Status.QUEUED), running=self.count(db, Status.RUNNING),
                         finished=int(count or 0), seconds=float(total or 0.0),
                         failures={str(k or ErrorKind.INTERNAL): int(n) for k, n in failures})
