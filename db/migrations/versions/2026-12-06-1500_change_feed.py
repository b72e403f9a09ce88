"""the change feed: a row per resource each transaction creates, updates or deletes

Statement-level triggers with transition tables write the rows, in the writing transaction,
whatever writes (the API, the seed loader, the bulk import's COPY): one statement, one insert,
however many rows it touched. A part of a resource (alias, relation, participant, party,
territory, timeline link, mention, evidence) changes the resource it belongs to. db/models/
change.py says how readers use `xid` to never skip or repeat a change. Each writing
transaction also notifies the channel `newsgraph_changes` (the change stream listens).

Revision ID: 9b1f4d2e6c30
Revises: 5c9e3a1f7b42
Create Date: 2026-12-06 15:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9b1f4d2e6c30"
down_revision: str | None = "5c9e3a1f7b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOURCES = ("article", "entity", "event", "statement", "dispute", "source")
# Each part table: (the resource it belongs to, the SQL giving that resource's id from a
# transition-table row `r`; NULL when the row belongs to none of that kind).
PARTS: dict[str, list[tuple[str, str]]] = {
    "mention": [("article", "r.article_id")],
    "entity_alias": [("entity", "r.entity_id")],
    "entity_relation": [("entity", "r.subject_id")],
    "event_participant": [("event", "r.event_id")],
    "dispute_party": [("dispute", "r.dispute_id")],
    "dispute_territory": [("dispute", "r.dispute_id")],
    "dispute_event": [("dispute", "r.dispute_id")],
    "evidence": [
        ("entity", "r.entity_id"),
        ("entity", "(SELECT a.entity_id FROM entity_alias a WHERE a.id = r.entity_alias_id)"),
        (
            "entity",
            "(SELECT l.subject_id FROM entity_relation l WHERE l.id = r.entity_relation_id)",
        ),
        ("event", "r.event_id"),
        (
            "event",
            "(SELECT p.event_id FROM event_participant p WHERE p.id = r.event_participant_id)",
        ),
        ("statement", "r.statement_id"),
        ("dispute", "r.dispute_id"),
        ("dispute", "(SELECT p.dispute_id FROM dispute_party p WHERE p.id = r.dispute_party_id)"),
        (
            "dispute",
            "(SELECT t.dispute_id FROM dispute_territory t WHERE t.id = r.dispute_territory_id)",
        ),
        ("dispute", "(SELECT l.dispute_id FROM dispute_event l WHERE l.id = r.dispute_event_id)"),
        ("article", "r.subject_article_id"),
    ],
}

# One row per (transaction, resource): its net operation, and its slug and version as last
# written. Created then updated is still a creation; deleted then created again, an update.
# A row that would not change (a part written after its resource, in the same transaction)
# is left as it is rather than written again.
_NET = """CASE
            WHEN change.operation = 'create' AND EXCLUDED.operation = 'update' THEN 'create'
            WHEN change.operation = 'delete' AND EXCLUDED.operation = 'create' THEN 'update'
            ELSE EXCLUDED.operation
        END"""
_MERGE = f"""
    ON CONFLICT (xid, resource_type, resource_id) DO UPDATE SET
        slug = EXCLUDED.slug,
        resource_version = EXCLUDED.resource_version,
        operation = {_NET}
    WHERE (change.slug, change.resource_version, change.operation)
        IS DISTINCT FROM (EXCLUDED.slug, EXCLUDED.resource_version, {_NET})
"""
_COLUMNS = "(xid, resource_type, resource_id, slug, resource_version, operation)"
_XID = "pg_current_xact_id()::text::bigint"
# Listeners (the change stream) hear of a transaction's changes when it commits; PostgreSQL
# folds the notices of one transaction into one.
CHANNEL = "newsgraph_changes"


def _branch(position: int, kind: str) -> str:
    keyword = "IF" if position == 0 else "ELSIF"
    return f"""    {keyword} kind = '{kind}' THEN
        INSERT INTO change {_COLUMNS}
        SELECT {_XID}, '{kind}', r.id, r.slug, r.version, operation
        FROM {kind} r WHERE r.id = ANY(ids)
        {_MERGE};"""  # noqa: S608 (the migration's own constants)


# Static SQL for each kind, not EXECUTE format(): PL/pgSQL plans it once per session.
_BRANCHES = "\n".join(_branch(position, kind) for position, kind in enumerate(RESOURCES))
_RECORD = f"""
CREATE FUNCTION change_feed_record(kind text, operation text, ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $function$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
{_BRANCHES}
    END IF;
    PERFORM pg_notify('{CHANNEL}', '');
END
$function$
"""


def _resource_function(table: str) -> str:
    return f"""
CREATE FUNCTION change_feed_{table}() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO change {_COLUMNS}
        SELECT {_XID}, '{table}', r.id, r.slug, r.version, 'delete' FROM old_rows r
        {_MERGE};
        PERFORM pg_notify('{CHANNEL}', '');
    ELSE
        PERFORM change_feed_record(
            '{table}',
            CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE 'update' END,
            ARRAY(SELECT r.id FROM new_rows r)
        );
    END IF;
    RETURN NULL;
END
$function$
"""  # noqa: S608 (the migration's own constants)


def _part_function(table: str) -> str:
    def records(rows: str) -> str:
        statements = [
            f"        PERFORM change_feed_record('{kind}', 'update', "  # noqa: S608 (constants)
            f"ARRAY(SELECT DISTINCT {parent} FROM {rows} r WHERE {parent} IS NOT NULL));"
            for kind, parent in PARTS[table]
        ]
        return "\n".join(statements)

    return f"""
CREATE FUNCTION change_feed_{table}() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    -- Statement triggers fire for statements that touched no row too (a part replaced by an
    -- empty set): nothing to record, and nothing to look up.
    IF TG_OP = 'DELETE' THEN
        PERFORM FROM old_rows LIMIT 1;
    ELSE
        PERFORM FROM new_rows LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
{records("new_rows")}
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
{records("old_rows")}
    END IF;
    RETURN NULL;
END
$function$
"""


_TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column(
            "resource_type",
            sa.Enum(
                *RESOURCES,
                name="resource_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("resource_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column(
            "operation",
            sa.Enum(
                "create",
                "update",
                "delete",
                name="operation",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("xid", "id", name=op.f("pk_change")),
        sa.UniqueConstraint("id", name=op.f("uq_change_id")),
        sa.UniqueConstraint(
            "xid",
            "resource_type",
            "resource_id",
            name=op.f("uq_change_xid_resource_type_resource_id"),
        ),
    )
    op.create_table(
        "change_horizon",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_change_horizon_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_horizon")),
    )
    op.execute(_RECORD)
    for table in RESOURCES:
        op.execute(_resource_function(table))
    for table in PARTS:
        op.execute(_part_function(table))
    for table in (*RESOURCES, *PARTS):
        for event, transitions in _TRANSITIONS.items():
            op.execute(
                f"CREATE TRIGGER change_feed_{event.lower()} AFTER {event} ON {table}"
                f" REFERENCING {transitions} FOR EACH STATEMENT"
                f" EXECUTE FUNCTION change_feed_{table}()"
            )


def downgrade() -> None:
    for table in (*RESOURCES, *PARTS):
        for event in _TRANSITIONS:
            op.execute(f"DROP TRIGGER change_feed_{event.lower()} ON {table}")
        op.execute(f"DROP FUNCTION change_feed_{table}()")
    op.execute("DROP FUNCTION change_feed_record(text, text, uuid[])")
    op.drop_table("change_horizon")
    op.drop_table("change")
