"""Run digests in the server: the daily run, catch-up of missed days, and runs requested over HTTP."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from langchain_core.language_models import BaseChatModel

from service.digest.build import run_digest
from service.jobs import poll
from service.models import Status
from service.settings import DigestSettings, Settings
from service.store import Store

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def next_run(now: datetime, settings: DigestSettings) -> datetime:
    """Return the next daily run time after `now`, in the digest's time zone (DST-safe)."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    at_today = _run_on(today, settings)
    return at_today if at_today > now else _run_on(today + timedelta(days=1), settings)


def last_run(now: datetime, settings: DigestSettings) -> datetime:
    """Return the latest daily run time at or before `now`."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    at_today = _run_on(today, settings)
    return at_today if at_today <= now else _run_on(today - timedelta(days=1), settings)


def _run_on(day: date, settings: DigestSettings) -> datetime:
    return datetime.combine(day, time.fromisoformat(settings.time), ZoneInfo(settings.timezone))


def digest_day(run_at: datetime, settings: DigestSettings) -> date:
    """Return the date a run at this time digests: the day before, in the digest's time zone."""
    return run_at.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1)


def missed_days(store: Store, now: datetime, settings: DigestSettings) -> list[date]:
    """Return the due dates after the newest digest (at most catch_up_days of them); with none, the last due."""
    latest = digest_day(last_run(now, settings), settings)
    if settings.catch_up_days == 0:
        return []
    rows, _ = store.list_digests(limit=1)
    if not rows:
        return [latest]
    after_newest = date.fromisoformat(rows[0].date) + timedelta(days=1)
    first = max(latest - timedelta(days=settings.catch_up_days - 1), after_newest)
    return [first + timedelta(days=n) for n in range((latest - first).days + 1)]


class DigestWorker:
    """A thread that runs requested digests one at a time and, when enabled, requests the daily one."""

    def __init__(self, store: Store, settings: Settings, model: BaseChatModel, clock: Clock | None = None) -> None:
        self.store, self.settings, self.model = store, settings, model
        self.clock = clock or (lambda: datetime.now(ZoneInfo(settings.digest.timezone)))
        self._due = next_run(self.clock(), settings.digest)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Resume interrupted runs, catch up missed days, then serve requests until stopped."""
        resumed = self.store.requeue_running_digests()
        if resumed:
            log.info("resuming %d interrupted digest runs", resumed)
        if self.settings.digest.schedule_enabled:
            for day in missed_days(self.store, self.clock(), self.settings.digest) + self._failed_recently():
                log.info("catching up the digest of %s", day)
                self.store.request_digest(day.isoformat())
        self._thread = threading.Thread(target=self._loop, name="briefing-digests", daemon=True)
        self._thread.start()

    def _failed_recently(self) -> list[date]:
        """Return the failed digests within the catch-up window (e.g. the backend was down at run time)."""
        latest = digest_day(last_run(self.clock(), self.settings.digest), self.settings.digest)
        first = latest - timedelta(days=self.settings.digest.catch_up_days - 1)
        rows, _ = self.store.list_digests(status=Status.FAILED, limit=self.settings.digest.catch_up_days)
        return [d for d in (date.fromisoformat(r.date) for r in rows) if first <= d <= latest]

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the story in progress; an unfinished run resumes at the next start."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def run_one(self) -> bool:
        """Run the oldest requested digest; return False when none is waiting."""
        row = self.store.claim_digest()
        if row is None:
            return False
        try:
            run_digest(date.fromisoformat(row.date), store=self.store, settings=self.settings, model=self.model,
                       fresh=row.fresh, claimed=True)
        except Exception:  # noqa: BLE001 - recorded on the digest row; the worker goes on
            log.exception("digest %s failed", row.date)
        return True

    def tick(self) -> bool:
        """Request the daily digest when its time has come, then run one requested digest."""
        if self.settings.digest.schedule_enabled and self.clock() >= self._due:
            self.store.request_digest(digest_day(self._due, self.settings.digest).isoformat())
            self._due = next_run(self.clock(), self.settings.digest)
        return self.run_one()

    def _loop(self) -> None:
        poll(self.tick, self._stop, self.settings.digest.poll_s)
