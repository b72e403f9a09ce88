"""event and dispute search vectors

/v1/search matched events and disputes by computing `to_tsvector(title || ' ' || summary)` for
every row of both tables on every request: a sequential scan whose cost grows with the data
(120 ms at 5,000 events). Stored, GIN-indexed vectors make it an index lookup.

Revision ID: 3f6c2a9d8b71
Revises: 57ecd6f5f9fe
Create Date: 2026-11-28 04:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3f6c2a9d8b71"
down_revision: str | None = "57ecd6f5f9fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VECTOR_SQL = "to_tsvector('english'::regconfig, (title::text || ' ') || coalesce(summary, ''))"
TABLES = ("event", "dispute")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "search_vector",
                postgresql.TSVECTOR(),
                sa.Computed(VECTOR_SQL, persisted=True),
                nullable=False,
            ),
        )
        op.create_index(
            op.f(f"ix_{table}_search_vector"),
            table,
            ["search_vector"],
            unique=False,
            postgresql_using="gin",
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_search_vector"), table_name=table, postgresql_using="gin")
        op.drop_column(table, "search_vector")
