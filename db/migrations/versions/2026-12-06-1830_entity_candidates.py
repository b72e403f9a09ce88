"""entity candidates: the proper names in an article that no stored entity matches

Mention detection stores them for an editor to accept (as a new entity or another name of an
existing one) or reject; db/models/candidate.py says what each column holds.

Revision ID: 7d2a9c4e1b60
Revises: 7d2c9e4a1f85
Create Date: 2026-12-06 18:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7d2a9c4e1b60"
down_revision: str | None = "7d2c9e4a1f85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_candidate",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("spans", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "person",
                "organization",
                "country",
                "place",
                "territory",
                "event",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cue", sa.Text(), nullable=True),
        sa.Column("suggested_slug", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "entity_id IS NULL OR status = 'accepted'",
            name=op.f("ck_entity_candidate_entity_when_accepted"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(spans) = 'array'", name=op.f("ck_entity_candidate_spans_array")
        ),
        sa.CheckConstraint(
            "start_offset >= 0 AND start_offset < end_offset", name=op.f("ck_entity_candidate_span")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_entity_candidate_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_entity_candidate_entity_id_entity"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_candidate")),
        sa.UniqueConstraint("article_id", "name", name=op.f("uq_entity_candidate_article_id_name")),
    )
    op.create_index(
        "ix_entity_candidate_entity_id", "entity_candidate", ["entity_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_entity_candidate_entity_id", table_name="entity_candidate")
    op.drop_table("entity_candidate")
