"""Declarative base, the constraint naming convention and the mixins every table shares."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    Index,
    MetaData,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from db.enums import TimePrecision
from db.fields import RESERVED_SLUGS, SLUG_MAX_LENGTH, SLUG_PATTERN

# Stable constraint names, so migrations can refer to them and autogenerate stays quiet.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (called with the class)
        # eager_defaults: values the database computes (updated_at, version) come back with
        # the INSERT/UPDATE (RETURNING), since an async session cannot lazy-load them later.
        args: dict[str, Any] = {"eager_defaults": True}
        table = cls.__table__
        if "version" in table.c:
            # Versioned rows: SQLAlchemy bumps `version` on every UPDATE and checks it.
            args["version_id_col"] = table.c.version
        return args


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint: new values need no ALTER TYPE, only a new constraint."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        primary_key=True,
        default=uuid.uuid4,
        server_default=text("gen_random_uuid()"),
    )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class Versioned:
    """An integer bumped by SQLAlchemy on every UPDATE (see Base.__mapper_args__): the
    resource's ETag and If-Match token."""

    version: Mapped[int] = mapped_column(nullable=False, server_default=text("1"))


class Slugged:
    """A unique, human-readable identifier usable wherever the UUID is."""

    slug: Mapped[str] = mapped_column(String(SLUG_MAX_LENGTH), unique=True, nullable=False)


def slug_format() -> CheckConstraint:
    return CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format")


def slug_not_reserved() -> CheckConstraint:
    """For a collection with aggregate paths: no slug that is one of their names
    (`db.fields.ItemSlug`)."""
    names = ", ".join(f"'{name}'" for name in RESERVED_SLUGS)
    return CheckConstraint(f"slug NOT IN ({names})", name="slug_not_reserved")


class TimeBounds:
    """A news time: the EDTF text as stated plus its computed bounds and precision.

    `time_earliest`/`time_latest` are inclusive dates; NULL means open ("..") or unknown, so a
    range query treats it as unbounded on that side.
    """

    time_edtf: Mapped[str | None] = mapped_column(String(100))
    time_earliest: Mapped[date | None] = mapped_column(Date)
    time_latest: Mapped[date | None] = mapped_column(Date)
    time_precision: Mapped[TimePrecision | None] = mapped_column(
        enum_column(TimePrecision, "time_precision")
    )


def time_bounds_constraints() -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint(
            "time_earliest IS NULL OR time_latest IS NULL OR time_earliest <= time_latest",
            name="time_bounds_ordered",
        ),
        CheckConstraint(
            "time_edtf IS NOT NULL OR (time_earliest IS NULL AND time_latest IS NULL"
            " AND time_precision IS NULL)",
            name="time_bounds_need_edtf",
        ),
    )


def nonblank(column: str) -> CheckConstraint:
    return CheckConstraint(f"btrim({column}) <> ''", name=f"{column}_not_blank")


# What /v1/search matches events and disputes by: their title and summary as one document.
TITLE_SUMMARY_VECTOR_SQL = (
    "to_tsvector('english'::regconfig, (title::text || ' ') || coalesce(summary, ''))"
)


class TitleSummarySearch:
    """A stored full-text vector of title and summary, GIN-indexed (`search_index`), so search
    reads the index instead of computing every row's vector."""

    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(TITLE_SUMMARY_VECTOR_SQL, persisted=True),
        nullable=False,
        # Only SQL reads it: loading it with every row would ship the vector to Python for
        # nothing.
        deferred=True,
    )


# Storage parameters of the GIN indexes that searches read. Rows written since the last
# VACUUM wait in the index's pending list, unsorted, and every search scans all of it; at the
# default limit of 4 MB that is up to 512 pages per scan. 64 kB (the least PostgreSQL allows)
# is flushed into the index every few dozen rows. Measured at 10,000 articles after 2,000
# entity and 500 article writes: name search 3.7 -> 1.4 ms, full-text search 6.4 -> 3.6 ms;
# the import of that corpus 10.3 -> 10.9 s (medians of four; bench/README.md).
SEARCH_GIN_OPTIONS = {"gin_pending_list_limit": 64}


def search_index(table: str) -> Index:
    return Index(
        f"ix_{table}_search_vector",
        "search_vector",
        postgresql_using="gin",
        postgresql_with=SEARCH_GIN_OPTIONS,
    )
