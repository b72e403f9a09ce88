"""article aggregates index: an article's id with what histograms and facets read of it

The article histogram and the source and language facets of a filtered list (an entity's
articles: a semi-join from the mention index) read, per article, its publication time and
precision, source and language. From the table that is a scan of every article's heap pages
(17,000 pages at 100,000 articles: 180 ms cold for a popular entity's histogram); with these
columns included in an index on the id, an index-only scan of 600 pages (36 ms).

Revision ID: 7d2c9e4a1f85
Revises: c4e81a5d2f97
Create Date: 2026-12-06 18:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "7d2c9e4a1f85"
down_revision: str | None = "c4e81a5d2f97"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_article_aggregates",
        "article",
        ["id"],
        unique=False,
        postgresql_include=["published_at", "published_precision", "source_id", "language"],
    )


def downgrade() -> None:
    op.drop_index("ix_article_aggregates", table_name="article")
