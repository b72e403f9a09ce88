"""An entity's articles counted ahead: what each article counts for (`ArticleFacetKey`) and,
per entity, how many of its articles count for each key (`EntityArticleRollup`).

Both are written by triggers only (the migration `entity article rollup` says which rows
decide an article's keys and how), in the transaction of every write: the API, the seed
loader and the bulk import alike. The histogram and the facets of one entity's articles read
them (api/articles/aggregates.py) instead of counting the entity's articles at each request.

    field       key
    published   `earliest/latest`: the UTC days the publication time may fall on, `latest`
                empty when open; '' for an undated article
    source      the source's id            language   the language, lowercased
    entity      an entity the article names
    event       an event it reports        dispute    a dispute it is about

A count that falls to zero stays, as a row with zero: readers skip them. The triggers refresh
at commit: `ARTICLE_ROLLUP_PENDING` holds, until then, the articles each statement reached.
"""

import uuid

from sqlalchemy import Column, Index, Integer, Table, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class ArticleFacetKey(Base):
    __tablename__ = "article_facet_key"

    article_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)


class EntityArticleRollup(Base):
    __tablename__ = "entity_article_rollup"
    __table_args__ = (
        # A facet's values in its order: largest counts first, then by key.
        Index(
            "ix_entity_article_rollup_top",
            "entity_id",
            "field",
            text("articles DESC"),
            "key",
            postgresql_where=text("articles > 0"),
        ),
    )

    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    articles: Mapped[int] = mapped_column(Integer, nullable=False)


# The articles a writing transaction's statements reached, refreshed and deleted at its commit.
ARTICLE_ROLLUP_PENDING = Table(
    "article_rollup_pending",
    Base.metadata,
    Column("articles", ARRAY(UUID(as_uuid=True)), nullable=False),
)
