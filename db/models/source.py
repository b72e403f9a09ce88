from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import (
    Base,
    Slugged,
    Timestamps,
    UUIDPrimaryKey,
    Versioned,
    enum_column,
    nonblank,
    slug_format,
)
from db.enums import SourceKind
from db.fields import SOURCE_NAME_MAX_LENGTH


class Source(UUIDPrimaryKey, Slugged, Versioned, Timestamps, Base):
    """Who published an article."""

    __tablename__ = "source"
    __table_args__ = (slug_format(), nonblank("name"))

    name: Mapped[str] = mapped_column(String(SOURCE_NAME_MAX_LENGTH), nullable=False)
    kind: Mapped[SourceKind] = mapped_column(enum_column(SourceKind, "kind"), nullable=False)
    homepage_url: Mapped[str | None] = mapped_column(Text)
