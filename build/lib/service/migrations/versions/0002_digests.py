"""Daily digests, the story briefings a digest run has finished (for resuming), and where an article came from.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Create the digests and digest_stories tables; articles remember their origin."""
    with op.batch_alter_table("articles") as articles:
        articles.add_column(sa.Column("origin", sa.Text))
    op.create_table(
        "digests",
        sa.Column("date", sa.String(10), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("digest", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("fresh", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_digests_status", "digests", ["status"])
    op.create_table(
        "digest_stories",
        sa.Column("date", sa.String(10), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("briefing", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop both tables and the origin column."""
    op.drop_table("digest_stories")
    op.drop_table("digests")
    with op.batch_alter_table("articles") as articles:
        articles.drop_column("origin")
