"""initial schema

Revision ID: 913239d792d4
Revises:
Create Date: 2026-11-28 00:07:04.112471

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "913239d792d4"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# unaccent() is only STABLE (its dictionary could change), so index expressions need an
# IMMUTABLE wrapper that pins the dictionary.
IMMUTABLE_UNACCENT = """
CREATE FUNCTION immutable_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute(IMMUTABLE_UNACCENT)
    op.create_table(
        "api_key",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.CheckConstraint("btrim(name) <> ''", name=op.f("ck_api_key_name_not_blank")),
        sa.CheckConstraint("key_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_api_key_key_hash_sha256")),
        sa.CheckConstraint(
            "scopes <@ ARRAY['read', 'write', 'admin']::varchar[]",
            name=op.f("ck_api_key_known_scopes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    op.create_table(
        "dispute",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "territorial",
                "maritime",
                "diplomatic",
                "humanitarian",
                "security",
                "economic",
                "legal",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "dormant",
                "resolved",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("time_edtf", sa.String(length=100), nullable=True),
        sa.Column("time_earliest", sa.Date(), nullable=True),
        sa.Column("time_latest", sa.Date(), nullable=True),
        sa.Column(
            "time_precision",
            sa.Enum(
                "day",
                "month",
                "season",
                "year",
                "decade",
                "century",
                "range",
                name="time_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
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
        sa.CheckConstraint("btrim(title) <> ''", name=op.f("ck_dispute_title_not_blank")),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_dispute_slug_format")
        ),
        sa.CheckConstraint(
            "time_earliest IS NULL OR time_latest IS NULL OR time_earliest <= time_latest",
            name=op.f("ck_dispute_time_bounds_ordered"),
        ),
        sa.CheckConstraint(
            "time_edtf IS NOT NULL OR (time_earliest IS NULL AND time_latest IS NULL AND time_precision IS NULL)",
            name=op.f("ck_dispute_time_bounds_need_edtf"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute")),
        sa.UniqueConstraint("slug", name=op.f("uq_dispute_slug")),
    )
    op.create_index("ix_dispute_kind_status", "dispute", ["kind", "status"], unique=False)
    op.create_table(
        "entity",
        sa.Column(
            "kind",
            sa.Enum(
                "person",
                "organization",
                "country",
                "place",
                "territory",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "external_ids",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
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
        sa.CheckConstraint("btrim(name) <> ''", name=op.f("ck_entity_name_not_blank")),
        sa.CheckConstraint(
            "jsonb_typeof(external_ids) = 'object'", name=op.f("ck_entity_external_ids_object")
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_entity_slug_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity")),
        sa.UniqueConstraint("slug", name=op.f("uq_entity_slug")),
    )
    op.create_index(
        "ix_entity_external_ids", "entity", ["external_ids"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_entity_kind_name", "entity", ["kind", "name"], unique=False)
    op.create_index(
        "ix_entity_name_trgm",
        "entity",
        [sa.literal_column("immutable_unaccent(lower(name))").label("searchable_name")],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"searchable_name": "gin_trgm_ops"},
    )
    op.create_table(
        "source",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "news_agency",
                "newspaper",
                "broadcaster",
                "magazine",
                "online",
                "government",
                "organization",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("homepage_url", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
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
        sa.CheckConstraint("btrim(name) <> ''", name=op.f("ck_source_name_not_blank")),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_source_slug_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("slug", name=op.f("uq_source_slug")),
    )
    op.create_table(
        "article",
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("byline", sa.String(length=300), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "published_precision",
            sa.Enum(
                "day",
                "month",
                "season",
                "year",
                "decade",
                "century",
                "range",
                name="published_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B') || setweight(to_tsvector('english'::regconfig, body), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
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
        sa.CheckConstraint("btrim(body) <> ''", name=op.f("ck_article_body_not_blank")),
        sa.CheckConstraint(
            "content_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_article_content_hash_sha256")
        ),
        sa.CheckConstraint(
            "language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'",
            name=op.f("ck_article_language_bcp47"),
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_article_slug_format")
        ),
        sa.CheckConstraint(
            "(published_at IS NULL) = (published_precision IS NULL)",
            name=op.f("ck_article_published_has_precision"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_article_source_id_source"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_article_content_hash")),
        sa.UniqueConstraint("slug", name=op.f("uq_article_slug")),
        sa.UniqueConstraint("url", name=op.f("uq_article_url")),
    )
    op.create_index("ix_article_published_at_id", "article", ["published_at", "id"], unique=False)
    op.create_index(
        "ix_article_search_vector",
        "article",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_article_source_id", "article", ["source_id"], unique=False)
    op.create_table(
        "dispute_party",
        sa.Column("dispute_id", sa.UUID(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "claimant",
                "administering_party",
                "mediator",
                "affected_party",
                "responsible_party",
                "observer",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_party_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_dispute_party_entity_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_party")),
        sa.UniqueConstraint(
            "dispute_id", "entity_id", name=op.f("uq_dispute_party_dispute_id_entity_id")
        ),
    )
    op.create_index("ix_dispute_party_entity_id", "dispute_party", ["entity_id"], unique=False)
    op.create_table(
        "dispute_territory",
        sa.Column("dispute_id", sa.UUID(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("administered_by_id", sa.UUID(), nullable=True),
        sa.Column("claimed_by_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
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
            "administered_by_id IS NULL OR claimed_by_id IS NULL OR administered_by_id <> claimed_by_id",
            name=op.f("ck_dispute_territory_claimant_not_administrator"),
        ),
        sa.ForeignKeyConstraint(
            ["administered_by_id"],
            ["entity.id"],
            name=op.f("fk_dispute_territory_administered_by_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["entity.id"],
            name=op.f("fk_dispute_territory_claimed_by_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_territory_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_dispute_territory_entity_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_territory")),
        sa.UniqueConstraint(
            "dispute_id", "entity_id", name=op.f("uq_dispute_territory_dispute_id_entity_id")
        ),
    )
    op.create_index(
        "ix_dispute_territory_administered_by_id",
        "dispute_territory",
        ["administered_by_id"],
        unique=False,
    )
    op.create_index(
        "ix_dispute_territory_claimed_by_id", "dispute_territory", ["claimed_by_id"], unique=False
    )
    op.create_index(
        "ix_dispute_territory_entity_id", "dispute_territory", ["entity_id"], unique=False
    )
    op.create_table(
        "entity_alias",
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "official",
                "common",
                "former",
                "abbreviation",
                "short",
                "metonym",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("used_by_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
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
        sa.CheckConstraint("btrim(name) <> ''", name=op.f("ck_entity_alias_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_entity_alias_entity_id_entity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"],
            ["entity.id"],
            name=op.f("fk_entity_alias_used_by_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_alias")),
        sa.UniqueConstraint(
            "entity_id",
            "name",
            "language",
            name=op.f("uq_entity_alias_entity_id_name_language"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "ix_entity_alias_name_trgm",
        "entity_alias",
        [sa.literal_column("immutable_unaccent(lower(name))").label("searchable_name")],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"searchable_name": "gin_trgm_ops"},
    )
    op.create_index("ix_entity_alias_used_by_id", "entity_alias", ["used_by_id"], unique=False)
    op.create_table(
        "entity_relation",
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "holds_office",
                "held_office",
                "part_of",
                "administered_by",
                "claimed_by",
                "member_of",
                "located_in",
                "succeeded_by",
                "agency_of",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("object_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("time_edtf", sa.String(length=100), nullable=True),
        sa.Column("time_earliest", sa.Date(), nullable=True),
        sa.Column("time_latest", sa.Date(), nullable=True),
        sa.Column(
            "time_precision",
            sa.Enum(
                "day",
                "month",
                "season",
                "year",
                "decade",
                "century",
                "range",
                name="time_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
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
            "subject_id <> object_id", name=op.f("ck_entity_relation_not_reflexive")
        ),
        sa.CheckConstraint(
            "time_earliest IS NULL OR time_latest IS NULL OR time_earliest <= time_latest",
            name=op.f("ck_entity_relation_time_bounds_ordered"),
        ),
        sa.CheckConstraint(
            "time_edtf IS NOT NULL OR (time_earliest IS NULL AND time_latest IS NULL AND time_precision IS NULL)",
            name=op.f("ck_entity_relation_time_bounds_need_edtf"),
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["entity.id"],
            name=op.f("fk_entity_relation_object_id_entity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["entity.id"],
            name=op.f("fk_entity_relation_subject_id_entity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_relation")),
        sa.UniqueConstraint(
            "subject_id",
            "kind",
            "object_id",
            "role",
            "time_edtf",
            name=op.f("uq_entity_relation_subject_id_kind_object_id_role_time_edtf"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index("ix_entity_relation_object_id", "entity_relation", ["object_id"], unique=False)
    op.create_index(
        "ix_entity_relation_time_range",
        "entity_relation",
        [sa.literal_column("daterange(time_earliest, time_latest, '[]')")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "event",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "event_type",
            sa.Enum(
                "AGREE",
                "CONSULT",
                "SUPPORT",
                "CONCEDE",
                "COOPERATE",
                "AID",
                "RETREAT",
                "REQUEST",
                "ACCUSE",
                "REJECT",
                "THREATEN",
                "PROTEST",
                "SANCTION",
                "MOBILIZE",
                "COERCE",
                "ASSAULT",
                name="event_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("mode", sa.String(length=50), nullable=True),
        sa.Column(
            "contexts",
            postgresql.ARRAY(sa.String(length=50)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "modality",
            sa.Enum(
                "asserted",
                "intended",
                "hypothetical",
                "negated",
                name="modality",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="asserted",
            nullable=False,
        ),
        sa.Column("duration", sa.Interval(), nullable=True),
        sa.Column("location_id", sa.UUID(), nullable=True),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("time_edtf", sa.String(length=100), nullable=True),
        sa.Column("time_earliest", sa.Date(), nullable=True),
        sa.Column("time_latest", sa.Date(), nullable=True),
        sa.Column(
            "time_precision",
            sa.Enum(
                "day",
                "month",
                "season",
                "year",
                "decade",
                "century",
                "range",
                name="time_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
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
        sa.CheckConstraint("btrim(title) <> ''", name=op.f("ck_event_title_not_blank")),
        sa.CheckConstraint(
            "duration IS NULL OR duration > interval '0'", name=op.f("ck_event_duration_positive")
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_event_slug_format")),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_event_not_own_parent")
        ),
        sa.CheckConstraint(
            "time_earliest IS NULL OR time_latest IS NULL OR time_earliest <= time_latest",
            name=op.f("ck_event_time_bounds_ordered"),
        ),
        sa.CheckConstraint(
            "time_edtf IS NOT NULL OR (time_earliest IS NULL AND time_latest IS NULL AND time_precision IS NULL)",
            name=op.f("ck_event_time_bounds_need_edtf"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["entity.id"],
            name=op.f("fk_event_location_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["event.id"], name=op.f("fk_event_parent_id_event"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("slug", name=op.f("uq_event_slug")),
    )
    op.create_index(
        "ix_event_contexts", "event", ["contexts"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_event_event_type", "event", ["event_type"], unique=False)
    op.create_index("ix_event_location_id", "event", ["location_id"], unique=False)
    op.create_index("ix_event_parent_id", "event", ["parent_id"], unique=False)
    op.create_index(
        "ix_event_time_range",
        "event",
        [sa.literal_column("daterange(time_earliest, time_latest, '[]')")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_event_time_sort", "event", ["time_earliest", "time_latest", "id"], unique=False
    )
    op.create_table(
        "idempotency_record",
        sa.Column("api_key_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "request_hash ~ '^[0-9a-f]{64}$'",
            name=op.f("ck_idempotency_record_request_hash_sha256"),
        ),
        sa.CheckConstraint(
            "status_code BETWEEN 100 AND 599", name=op.f("ck_idempotency_record_status_code_http")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_idempotency_record_api_key_id_api_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "key", name=op.f("pk_idempotency_record")),
    )
    op.create_index(
        "ix_idempotency_record_expires_at", "idempotency_record", ["expires_at"], unique=False
    )
    op.create_table(
        "dispute_event",
        sa.Column("dispute_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "origin",
                "agreement",
                "negotiation",
                "escalation",
                "de_escalation",
                "statement",
                "resolution",
                "background",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("significance", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_event_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_dispute_event_event_id_event"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_event")),
        sa.UniqueConstraint(
            "dispute_id", "event_id", name=op.f("uq_dispute_event_dispute_id_event_id")
        ),
    )
    op.create_index("ix_dispute_event_event_id", "dispute_event", ["event_id"], unique=False)
    op.create_table(
        "event_participant",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "actor",
                "recipient",
                "mediator",
                "target",
                "beneficiary",
                "subject",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_event_participant_entity_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_participant_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_participant")),
        sa.UniqueConstraint(
            "event_id",
            "entity_id",
            "role",
            name=op.f("uq_event_participant_event_id_entity_id_role"),
        ),
    )
    op.create_index(
        "ix_event_participant_entity_id", "event_participant", ["entity_id"], unique=False
    )
    op.create_table(
        "mention",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("surface", sa.Text(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "curated",
                "gazetteer",
                name="method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "confidence",
            sa.Numeric(precision=4, scale=3),
            server_default=sa.text("1"),
            nullable=False,
        ),
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
            "char_length(surface) = end_offset - start_offset",
            name=op.f("ck_mention_surface_length"),
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_mention_confidence_range")
        ),
        sa.CheckConstraint(
            "start_offset >= 0 AND start_offset < end_offset", name=op.f("ck_mention_span")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_mention_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_mention_entity_id_entity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "id", name=op.f("pk_mention")),
        sa.UniqueConstraint(
            "article_id",
            "entity_id",
            "start_offset",
            "end_offset",
            name=op.f("uq_mention_article_id_entity_id_start_offset_end_offset"),
        ),
    )
    op.create_index(
        "ix_mention_entity_id_article_id", "mention", ["entity_id", "article_id"], unique=False
    )
    op.create_table(
        "statement",
        sa.Column("speaker_id", sa.UUID(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "direct_quote",
                "paraphrase",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("conveyed_by_id", sa.UUID(), nullable=True),
        sa.Column("conveyed_by_description", sa.String(length=300), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
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
        sa.CheckConstraint("btrim(text) <> ''", name=op.f("ck_statement_text_not_blank")),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_statement_slug_format")
        ),
        sa.ForeignKeyConstraint(
            ["conveyed_by_id"],
            ["entity.id"],
            name=op.f("fk_statement_conveyed_by_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_statement_event_id_event"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["entity.id"],
            name=op.f("fk_statement_speaker_id_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement")),
        sa.UniqueConstraint("slug", name=op.f("uq_statement_slug")),
    )
    op.create_index("ix_statement_conveyed_by_id", "statement", ["conveyed_by_id"], unique=False)
    op.create_index("ix_statement_event_id", "statement", ["event_id"], unique=False)
    op.create_index("ix_statement_speaker_id", "statement", ["speaker_id"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=True),
        sa.Column("end_offset", sa.Integer(), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("editorial", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("field", sa.String(length=50), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("entity_alias_id", sa.UUID(), nullable=True),
        sa.Column("entity_relation_id", sa.UUID(), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("event_participant_id", sa.UUID(), nullable=True),
        sa.Column("statement_id", sa.UUID(), nullable=True),
        sa.Column("dispute_id", sa.UUID(), nullable=True),
        sa.Column("dispute_party_id", sa.UUID(), nullable=True),
        sa.Column("dispute_territory_id", sa.UUID(), nullable=True),
        sa.Column("dispute_event_id", sa.UUID(), nullable=True),
        sa.Column("subject_article_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
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
            "NOT editorial OR (note IS NOT NULL AND btrim(note) <> '')",
            name=op.f("ck_evidence_editorial_note"),
        ),
        sa.CheckConstraint(
            "(start_offset IS NULL AND end_offset IS NULL AND quote IS NULL) OR (start_offset >= 0 AND start_offset < end_offset AND char_length(quote) = end_offset - start_offset)",
            name=op.f("ck_evidence_span"),
        ),
        sa.CheckConstraint(
            "editorial OR start_offset IS NOT NULL", name=op.f("ck_evidence_cited_or_editorial")
        ),
        sa.CheckConstraint(
            "num_nonnulls(entity_id, entity_alias_id, entity_relation_id, event_id, event_participant_id, statement_id, dispute_id, dispute_party_id, dispute_territory_id, dispute_event_id, subject_article_id) = 1",
            name=op.f("ck_evidence_exactly_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_evidence_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dispute_event_id"],
            ["dispute_event.id"],
            name=op.f("fk_evidence_dispute_event_id_dispute_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_evidence_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dispute_party_id"],
            ["dispute_party.id"],
            name=op.f("fk_evidence_dispute_party_id_dispute_party"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dispute_territory_id"],
            ["dispute_territory.id"],
            name=op.f("fk_evidence_dispute_territory_id_dispute_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_alias_id"],
            ["entity_alias.id"],
            name=op.f("fk_evidence_entity_alias_id_entity_alias"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_evidence_entity_id_entity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_relation_id"],
            ["entity_relation.id"],
            name=op.f("fk_evidence_entity_relation_id_entity_relation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_evidence_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_participant_id"],
            ["event_participant.id"],
            name=op.f("fk_evidence_event_participant_id_event_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statement.id"],
            name=op.f("fk_evidence_statement_id_statement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_article_id"],
            ["article.id"],
            name=op.f("fk_evidence_subject_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index("ix_evidence_article_id", "evidence", ["article_id"], unique=False)
    op.create_index(
        "ix_evidence_dispute_event_id",
        "evidence",
        ["dispute_event_id"],
        unique=False,
        postgresql_where=sa.text("dispute_event_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_dispute_id",
        "evidence",
        ["dispute_id"],
        unique=False,
        postgresql_where=sa.text("dispute_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_dispute_party_id",
        "evidence",
        ["dispute_party_id"],
        unique=False,
        postgresql_where=sa.text("dispute_party_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_dispute_territory_id",
        "evidence",
        ["dispute_territory_id"],
        unique=False,
        postgresql_where=sa.text("dispute_territory_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_entity_alias_id",
        "evidence",
        ["entity_alias_id"],
        unique=False,
        postgresql_where=sa.text("entity_alias_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_entity_id",
        "evidence",
        ["entity_id"],
        unique=False,
        postgresql_where=sa.text("entity_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_entity_relation_id",
        "evidence",
        ["entity_relation_id"],
        unique=False,
        postgresql_where=sa.text("entity_relation_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_event_id",
        "evidence",
        ["event_id"],
        unique=False,
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_event_participant_id",
        "evidence",
        ["event_participant_id"],
        unique=False,
        postgresql_where=sa.text("event_participant_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_statement_id",
        "evidence",
        ["statement_id"],
        unique=False,
        postgresql_where=sa.text("statement_id IS NOT NULL"),
    )
    op.create_index(
        "ix_evidence_subject_article_id",
        "evidence",
        ["subject_article_id"],
        unique=False,
        postgresql_where=sa.text("subject_article_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_evidence_subject_article_id",
        table_name="evidence",
        postgresql_where=sa.text("subject_article_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_statement_id",
        table_name="evidence",
        postgresql_where=sa.text("statement_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_event_participant_id",
        table_name="evidence",
        postgresql_where=sa.text("event_participant_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_event_id",
        table_name="evidence",
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_entity_relation_id",
        table_name="evidence",
        postgresql_where=sa.text("entity_relation_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_entity_id",
        table_name="evidence",
        postgresql_where=sa.text("entity_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_entity_alias_id",
        table_name="evidence",
        postgresql_where=sa.text("entity_alias_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_dispute_territory_id",
        table_name="evidence",
        postgresql_where=sa.text("dispute_territory_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_dispute_party_id",
        table_name="evidence",
        postgresql_where=sa.text("dispute_party_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_dispute_id",
        table_name="evidence",
        postgresql_where=sa.text("dispute_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_evidence_dispute_event_id",
        table_name="evidence",
        postgresql_where=sa.text("dispute_event_id IS NOT NULL"),
    )
    op.drop_index("ix_evidence_article_id", table_name="evidence")
    op.drop_table("evidence")
    op.drop_index("ix_statement_speaker_id", table_name="statement")
    op.drop_index("ix_statement_event_id", table_name="statement")
    op.drop_index("ix_statement_conveyed_by_id", table_name="statement")
    op.drop_table("statement")
    op.drop_index("ix_mention_entity_id_article_id", table_name="mention")
    op.drop_table("mention")
    op.drop_index("ix_event_participant_entity_id", table_name="event_participant")
    op.drop_table("event_participant")
    op.drop_index("ix_dispute_event_event_id", table_name="dispute_event")
    op.drop_table("dispute_event")
    op.drop_index("ix_idempotency_record_expires_at", table_name="idempotency_record")
    op.drop_table("idempotency_record")
    op.drop_index("ix_event_time_sort", table_name="event")
    op.drop_index("ix_event_time_range", table_name="event", postgresql_using="gist")
    op.drop_index("ix_event_parent_id", table_name="event")
    op.drop_index("ix_event_location_id", table_name="event")
    op.drop_index("ix_event_event_type", table_name="event")
    op.drop_index("ix_event_contexts", table_name="event", postgresql_using="gin")
    op.drop_table("event")
    op.drop_index(
        "ix_entity_relation_time_range", table_name="entity_relation", postgresql_using="gist"
    )
    op.drop_index("ix_entity_relation_object_id", table_name="entity_relation")
    op.drop_table("entity_relation")
    op.drop_index("ix_entity_alias_used_by_id", table_name="entity_alias")
    op.drop_index("ix_entity_alias_name_trgm", table_name="entity_alias", postgresql_using="gin")
    op.drop_table("entity_alias")
    op.drop_index("ix_dispute_territory_entity_id", table_name="dispute_territory")
    op.drop_index("ix_dispute_territory_claimed_by_id", table_name="dispute_territory")
    op.drop_index("ix_dispute_territory_administered_by_id", table_name="dispute_territory")
    op.drop_table("dispute_territory")
    op.drop_index("ix_dispute_party_entity_id", table_name="dispute_party")
    op.drop_table("dispute_party")
    op.drop_index("ix_article_source_id", table_name="article")
    op.drop_index("ix_article_search_vector", table_name="article", postgresql_using="gin")
    op.drop_index("ix_article_published_at_id", table_name="article")
    op.drop_table("article")
    op.drop_table("source")
    op.drop_index("ix_entity_name_trgm", table_name="entity", postgresql_using="gin")
    op.drop_index("ix_entity_kind_name", table_name="entity")
    op.drop_index("ix_entity_external_ids", table_name="entity", postgresql_using="gin")
    op.drop_table("entity")
    op.drop_index("ix_dispute_kind_status", table_name="dispute")
    op.drop_table("dispute")
    op.drop_table("api_key")
    op.execute("DROP FUNCTION immutable_unaccent(text)")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
