"""The connection to the database: engine, sessions, migrations, and the one SQL difference between
the two databases the service runs on (PostgreSQL, SQLite)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from service.resources import MIGRATIONS_DIR

Row = TypeVar("Row")


class Database:
    """One engine and its sessions; each repository runs its own transactions on it."""

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

    def page(self, query: Select[Row], order: Any, offset: int, limit: int) -> tuple[list[Row], int]:
        """One page of a query's rows, in this order, and how many rows the query has in all."""
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(order).offset(offset).limit(limit)).all()
        return list(rows), total

    def epoch_seconds(self, column: Any) -> Any:
        """A time column as seconds, in this database's SQL."""
        if self.engine.dialect.name == "postgresql":
            return func.extract("epoch", column)
        return func.julianday(column) * 86400.0
