"""Persistence (SQLAlchemy 2, Alembic): one repository per kind of record, on one database. The
database is the system of record of every job; the task queue only carries ids. Rows never leave
this package: repositories hand out models and records (records.py)."""

from __future__ import annotations

from service.models import Status
from service.storage.articles import ArticleRepository
from service.storage.briefings import BriefingRepository
from service.storage.database import Database
from service.storage.digests import DigestRepository, StoryRepository
from service.storage.records import TaskStats
from service.storage.search import SearchRepository
from service.storage.vectors import VectorRepository


class Store:
    """The repositories on one database."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.articles = ArticleRepository(self.db)
        self.briefings = BriefingRepository(self.db)
        self.search = SearchRepository(self.db)
        self.digests = DigestRepository(self.db, self.search)
        self.stories = StoryRepository(self.db)
        self.vectors = VectorRepository(self.db)

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        self.db.migrate()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        self.db.ping()

    def queued_count(self) -> int:
        """Jobs (briefings and digest runs) waiting for a worker."""
        return self.briefings.count(Status.QUEUED) + self.digests.count(Status.QUEUED)

    def task_stats(self) -> list[TaskStats]:
        """What /metrics reports, per kind of job."""
        return [self.briefings.stats(), self.digests.stats()]
