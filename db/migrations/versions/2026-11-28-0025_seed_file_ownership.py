"""seed file ownership

The seed loader records, per YAML file, the hash it last loaded and the ids of the rows the
file owns: unchanged files are skipped, and a fact removed from a file is deleted.

Revision ID: 57ecd6f5f9fe
Revises: 913239d792d4
Create Date: 2026-11-28 00:25:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "57ecd6f5f9fe"
down_revision: str | None = "913239d792d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seed_file",
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "owned",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "loaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "content_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_seed_file_content_hash_sha256")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(owned) = 'object'", name=op.f("ck_seed_file_owned_object")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seed_file")),
    )


def downgrade() -> None:
    op.drop_table("seed_file")
