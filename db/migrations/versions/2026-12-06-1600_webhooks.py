"""webhooks: receivers of changes, and the outbox of deliveries to them

A statement-level trigger on `change` writes one `webhook_delivery` per new change row and
matching webhook, in the writing transaction (whatever wrote: the API, the seed loader, the
bulk import), and notifies `newsgraph_webhooks`, on which workers listen. Only inserted change
rows count: a later write of the same transaction merges into its row (ON CONFLICT DO UPDATE,
the change feed migration), which already has its deliveries. db/models/webhook.py says how
workers claim and record them.

Revision ID: c4e81a5d2f97
Revises: 9b1f4d2e6c30
Create Date: 2026-12-06 16:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4e81a5d2f97"
down_revision: str | None = "9b1f4d2e6c30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Workers listen here (api/webhooks/worker.py); PostgreSQL folds one transaction's notices.
CHANNEL = "newsgraph_webhooks"

_OUTBOX = f"""
CREATE FUNCTION webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    INSERT INTO webhook_delivery (webhook_id, change_id)
    SELECT w.id, c.id
    FROM new_rows c JOIN webhook w
        ON cardinality(w.types) = 0 OR c.resource_type = ANY (w.types);
    IF FOUND THEN
        PERFORM pg_notify('{CHANNEL}', '');
    END IF;
    RETURN NULL;
END
$function$
"""  # noqa: S608 (the migration's own constant)


def upgrade() -> None:
    op.create_table(
        "webhook",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("types", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.CheckConstraint(
            "secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$'", name=op.f("ck_webhook_secret_format")
        ),
        sa.CheckConstraint(
            "types <@ ARRAY['article', 'entity', 'event', 'statement', 'dispute', 'source']::varchar[]",
            name=op.f("ck_webhook_known_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("webhook_id", sa.UUID(), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'pending') = (finished_at IS NULL)",
            name=op.f("ck_webhook_delivery_finished_unless_pending"),
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (next_attempt_at IS NOT NULL)",
            name=op.f("ck_webhook_delivery_pending_is_due"),
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change.id"],
            name=op.f("fk_webhook_delivery_change_id_change"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhook.id"],
            name=op.f("fk_webhook_delivery_webhook_id_webhook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "webhook_id", "change_id", name=op.f("uq_webhook_delivery_webhook_id_change_id")
        ),
    )
    op.create_index(
        "ix_webhook_delivery_change_id", "webhook_delivery", ["change_id"], unique=False
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.CheckConstraint("latency_ms >= 0", name=op.f("ck_webhook_attempt_latency_not_negative")),
        sa.CheckConstraint(
            "status_code BETWEEN 100 AND 599", name=op.f("ck_webhook_attempt_status_code_http")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(
        "ix_webhook_attempt_delivery_id_id", "webhook_attempt", ["delivery_id", "id"], unique=False
    )
    op.execute(_OUTBOX)
    op.execute(
        "CREATE TRIGGER webhook_outbox AFTER INSERT ON change"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION webhook_outbox()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER webhook_outbox ON change")
    op.execute("DROP FUNCTION webhook_outbox()")
    op.drop_index("ix_webhook_attempt_delivery_id_id", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index(
        "ix_webhook_delivery_due",
        table_name="webhook_delivery",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_webhook_delivery_change_id", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook")
