"""When digests are due: the daily run time, the date it digests, missed days and failed ones to retry."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.models import Status
from service.settings import DigestSettings
from service.storage.digests import DigestRepository


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


def missed_days(digests: DigestRepository, now: datetime, settings: DigestSettings) -> list[date]:
    """Return the due dates after the newest digest (at most catch_up_days of them); with none, the last due."""
    latest = digest_day(last_run(now, settings), settings)
    if settings.catch_up_days == 0:
        return []
    rows, _ = digests.page(limit=1)
    if not rows:
        return [latest]
    after_newest = date.fromisoformat(rows[0].date) + timedelta(days=1)
    first = max(latest - timedelta(days=settings.catch_up_days - 1), after_newest)
    return [first + timedelta(days=n) for n in range((latest - first).days + 1)]


def due_days(digests: DigestRepository, now: datetime, settings: DigestSettings) -> list[date]:
    """The dates whose digest should be requested now: missed days, and failed digests of the catch-up
    window whose failure is older than retry_failed_after_s (e.g. the backend was down at run time)."""
    latest = digest_day(last_run(now, settings), settings)
    first = latest - timedelta(days=settings.catch_up_days - 1)
    rows, _ = digests.page(status=Status.FAILED, limit=max(settings.catch_up_days, 1))
    cutoff = now - timedelta(seconds=settings.retry_failed_after_s)
    failed = [date.fromisoformat(r.date) for r in rows
              if first <= date.fromisoformat(r.date) <= latest and r.updated_at <= cutoff]
    return sorted(set(missed_days(digests, now, settings) + failed))
