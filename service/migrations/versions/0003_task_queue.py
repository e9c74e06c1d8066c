"""Jobs run as tasks on a queue: when each attempt started and finished, and why one failed.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """Add started_at, finished_at and error_kind to briefings and digests."""
    for table in ("briefings", "digests"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("error_kind", sa.String(32)))
            batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True)))
            batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Drop the three columns."""
    for table in ("briefings", "digests"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("finished_at")
            batch.drop_column("started_at")
            batch.drop_column("error_kind")
