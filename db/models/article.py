import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Computed, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import (
    Base,
    Slugged,
    Timestamps,
    UUIDPrimaryKey,
    Versioned,
    enum_column,
    nonblank,
    search_index,
    slug_format,
    slug_not_reserved,
)
from db.enums import TimePrecision
from db.models.source import Source

# Where undated articles sort: after every dated one, newest first.
UNDATED_SQL = "'-infinity'::timestamptz"

# Headline outranks summary, which outranks body (DESIGN.md).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, body), 'C')"
)


class Article(UUIDPrimaryKey, Slugged, Versioned, Timestamps, Base):
    __tablename__ = "article"
    __table_args__ = (
        slug_format(),
        slug_not_reserved(),
        nonblank("body"),
        CheckConstraint("language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'", name="language_bcp47"),
        CheckConstraint(
            "(published_at IS NULL) = (published_precision IS NULL)", name="published_has_precision"
        ),
        CheckConstraint("content_hash ~ '^[0-9a-f]{64}$'", name="content_hash_sha256"),
        search_index("article"),
        Index("ix_article_published_at_id", "published_at", "id"),
        # The default order, newest first with undated articles last (api/articles/service.py
        # sorts by this very expression): a page is read off the index, and with a filter
        # such as an entity the scan stops as soon as the page is full.
        Index("ix_article_newest", text(f"coalesce(published_at, {UNDATED_SQL})"), "id"),
        Index("ix_article_source_id", "source_id"),
        # What histograms and facets read of each article of a filtered list, index-only
        # (api/articles/aggregates.py).
        Index(
            "ix_article_aggregates",
            "id",
            postgresql_include=["published_at", "published_precision", "source_id", "language"],
        ),
    )

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("source.id", ondelete="RESTRICT"), nullable=False
    )
    headline: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text, unique=True)
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_precision: Mapped[TimePrecision | None] = mapped_column(
        enum_column(TimePrecision, "published_precision")
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    # sha256 of the normalized body: the same story sent twice is found even without a URL.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # Only SQL reads it (search, ranking): loading it with every article would ship a vector
    # as long as the body to Python for nothing.
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), nullable=False, deferred=True
    )

    source: Mapped[Source] = relationship(lazy="raise")
