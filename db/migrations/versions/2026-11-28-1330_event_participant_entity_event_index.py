"""event participant index covers the event

`GET /v1/events?participant=` and an entity's events look up the events an entity takes part
in. The index on `entity_id` alone sent every lookup to the table for the event ids (a popular
entity takes part in 4,500 events at 100k articles); with `(entity_id, event_id)` it is an
index-only scan: 17.1 ms -> 10.1 ms for that entity's events in a three-year range.

Revision ID: 5c8e2f1a9d34
Revises: 9b1e4d7c2a60
Create Date: 2026-11-28 13:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c8e2f1a9d34"
down_revision: str | None = "9b1e4d7c2a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_event_participant_entity_id_event_id",
        "event_participant",
        ["entity_id", "event_id"],
        unique=False,
    )
    op.drop_index("ix_event_participant_entity_id", table_name="event_participant")


def downgrade() -> None:
    op.create_index(
        "ix_event_participant_entity_id", "event_participant", ["entity_id"], unique=False
    )
    op.drop_index("ix_event_participant_entity_id_event_id", table_name="event_participant")
