"""ambiguous mentions: a name several entities share is one mention with no entity yet

`mention.entity_id` becomes nullable; such a mention lists the entities it may be in
`possible_entity_ids` (two or more) until an editor resolves it, and there is at most one per
span. Before, detection stored one mention per entity on the shared span; downgrading turns
each ambiguous mention back into those rows.

Revision ID: 5e0b7f3a9c28
Revises: 7d2a9c4e1b60
Create Date: 2026-12-06 18:31:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5e0b7f3a9c28"
down_revision: str | None = "7d2a9c4e1b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "mention", sa.Column("possible_entity_ids", postgresql.ARRAY(sa.UUID()), nullable=True)
    )
    op.alter_column("mention", "entity_id", existing_type=sa.UUID(), nullable=True)
    op.create_check_constraint(
        "entity_or_possible", "mention", "(entity_id IS NULL) = (possible_entity_ids IS NOT NULL)"
    )
    op.create_check_constraint(
        "possible_entities", "mention", "cardinality(possible_entity_ids) >= 2"
    )
    op.create_index(
        "uq_mention_ambiguous_span",
        "mention",
        ["article_id", "start_offset", "end_offset"],
        unique=True,
        postgresql_where=sa.text("entity_id IS NULL"),
    )


def downgrade() -> None:
    op.execute(
        """
        INSERT INTO mention (article_id, entity_id, start_offset, end_offset, surface, method,
                             confidence, created_at, updated_at)
        SELECT m.article_id, possible.entity_id, m.start_offset, m.end_offset, m.surface,
               m.method, m.confidence, m.created_at, m.updated_at
        FROM mention m
        CROSS JOIN LATERAL unnest(m.possible_entity_ids) AS possible(entity_id)
        JOIN entity e ON e.id = possible.entity_id
        WHERE m.entity_id IS NULL
        ON CONFLICT DO NOTHING
        """
    )
    op.execute("DELETE FROM mention WHERE entity_id IS NULL")
    op.drop_index(
        "uq_mention_ambiguous_span",
        table_name="mention",
        postgresql_where=sa.text("entity_id IS NULL"),
    )
    op.drop_constraint(op.f("ck_mention_possible_entities"), "mention", type_="check")
    op.drop_constraint(op.f("ck_mention_entity_or_possible"), "mention", type_="check")
    op.alter_column("mention", "entity_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("mention", "possible_entity_ids")
