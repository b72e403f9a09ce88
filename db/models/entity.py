import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import (
    SEARCH_GIN_OPTIONS,
    Base,
    Slugged,
    TimeBounds,
    Timestamps,
    UUIDPrimaryKey,
    Versioned,
    enum_column,
    nonblank,
    slug_format,
    time_bounds_constraints,
)
from db.enums import AliasKind, EntityKind, RelationKind
from db.fields import NAME_MAX_LENGTH

# The name as name search matches it: lower-cased, accents removed. `immutable_unaccent` is
# created by the initial migration: unaccent() itself is only STABLE, so it cannot appear in a
# generated column.
FOLDED_NAME_SQL = "immutable_unaccent(lower((name)::text))"


def _search_name() -> Mapped[str]:
    return mapped_column(
        Text, Computed(FOLDED_NAME_SQL, persisted=True), nullable=False, deferred=True
    )


def _trigram_index(name: str) -> Index:
    return Index(
        name,
        "search_name",
        postgresql_using="gin",
        postgresql_ops={"search_name": "gin_trgm_ops"},
        postgresql_with=SEARCH_GIN_OPTIONS,
    )


class Entity(UUIDPrimaryKey, Slugged, Versioned, Timestamps, Base):
    __tablename__ = "entity"
    __table_args__ = (
        slug_format(),
        nonblank("name"),
        CheckConstraint("jsonb_typeof(external_ids) = 'object'", name="external_ids_object"),
        Index("ix_entity_kind_name", "kind", "name"),
        Index("ix_entity_external_ids", "external_ids", postgresql_using="gin"),
        _trigram_index("ix_entity_search_name_trgm"),
    )

    kind: Mapped[EntityKind] = mapped_column(enum_column(EntityKind, "kind"), nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), nullable=False)
    search_name: Mapped[str] = _search_name()
    description: Mapped[str | None] = mapped_column(Text)
    # e.g. {"wikidata": "Q57229"}
    external_ids: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )

    aliases: Mapped[list["EntityAlias"]] = relationship(
        back_populates="entity", foreign_keys="EntityAlias.entity_id", lazy="raise"
    )


class EntityAlias(UUIDPrimaryKey, Timestamps, Base):
    """Any other name of an entity, and whose name it is (`used_by`)."""

    __tablename__ = "entity_alias"
    __table_args__ = (
        nonblank("name"),
        UniqueConstraint("entity_id", "name", "language", postgresql_nulls_not_distinct=True),
        Index("ix_entity_alias_used_by_id", "used_by_id"),
        _trigram_index("ix_entity_alias_search_name_trgm"),
    )

    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), nullable=False)
    search_name: Mapped[str] = _search_name()
    language: Mapped[str | None] = mapped_column(String(35))
    kind: Mapped[AliasKind] = mapped_column(enum_column(AliasKind, "kind"), nullable=False)
    used_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entity.id", ondelete="RESTRICT")
    )

    entity: Mapped[Entity] = relationship(
        back_populates="aliases", foreign_keys=[entity_id], lazy="raise"
    )


class EntityRelation(UUIDPrimaryKey, TimeBounds, Versioned, Timestamps, Base):
    """A time-bounded fact between two entities: `subject` `kind` `object` during `time_*`."""

    __tablename__ = "entity_relation"
    __table_args__ = (
        *time_bounds_constraints(),
        CheckConstraint("subject_id <> object_id", name="not_reflexive"),
        UniqueConstraint(
            "subject_id",
            "kind",
            "object_id",
            "role",
            "time_edtf",
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_entity_relation_object_id", "object_id"),
        Index(
            "ix_entity_relation_time_range",
            text("daterange(time_earliest, time_latest, '[]')"),
            postgresql_using="gist",
        ),
    )

    subject_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[RelationKind] = mapped_column(enum_column(RelationKind, "kind"), nullable=False)
    object_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entity.id", ondelete="CASCADE"), nullable=False
    )
    # The office or capacity, e.g. "prime minister" for holds_office.
    role: Mapped[str | None] = mapped_column(String(200))
