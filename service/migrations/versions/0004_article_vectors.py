"""Sentence vectors stored with each article, per embedding model.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    """Create article_vectors."""
    op.create_table(
        "article_vectors",
        sa.Column("article_id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(32), primary_key=True),
        sa.Column("sentences_key", sa.String(32), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("vectors", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop article_vectors."""
    op.drop_table("article_vectors")
