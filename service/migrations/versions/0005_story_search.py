"""Full-text search over the digests' stories: SQLite FTS5, PostgreSQL tsvector with a GIN index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    """Create story_search, in each database's own full-text search."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "story_search",
            sa.Column("date", sa.String(10), primary_key=True),
            sa.Column("story_id", sa.String(64), primary_key=True),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("summary", sa.Text, nullable=False),
        )
        op.execute("ALTER TABLE story_search ADD COLUMN document tsvector GENERATED ALWAYS AS "
                   "(setweight(to_tsvector('english', title), 'A') || to_tsvector('english', summary)) STORED")
        op.execute("CREATE INDEX story_search_document ON story_search USING GIN (document)")
    else:
        op.execute("CREATE VIRTUAL TABLE story_search USING fts5(date UNINDEXED, story_id UNINDEXED, title, summary, "
                   "tokenize = 'porter unicode61')")


def downgrade() -> None:
    """Drop story_search."""
    op.execute("DROP TABLE story_search")
