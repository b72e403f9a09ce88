"""The change feed: one row per resource that a transaction created, updated or deleted.

Rows are written by triggers (the migration `change feed`), in the writing transaction, for
every write path alike: the API, the seed loader and the bulk import. A change to a part of a
resource (an alias, a participant, a party, a piece of evidence, a mention) is a change of the
resource it belongs to. One transaction leaves at most one row per resource: its net
operation (created then updated is `create`) and the resource's version and slug at commit.

`xid` is the writing transaction's id. Readers see only rows whose transaction is older than
every transaction still running (`pg_snapshot_xmin`), in (xid, id) order: a row that appears
later always sorts after every row already read, so a poller never skips or repeats one,
however transactions interleave their commits.
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, enum_column
from db.enums import ChangeOperation, ResourceType


class Change(Base):
    __tablename__ = "change"
    __table_args__ = (
        # The feed's order is the primary key; the triggers' one-row-per-resource merge needs
        # the first unique index, webhook deliveries (which refer to a change by id) the
        # second. Nothing else is indexed: every write pays for each.
        UniqueConstraint("xid", "resource_type", "resource_id"),
        UniqueConstraint("id"),
    )

    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    resource_type: Mapped[ResourceType] = mapped_column(
        enum_column(ResourceType, "resource_type"), nullable=False
    )
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False)
    # Not `version`: Base makes a column of that name the row's optimistic-lock counter.
    resource_version: Mapped[int] = mapped_column(nullable=False)
    operation: Mapped[ChangeOperation] = mapped_column(
        enum_column(ChangeOperation, "operation"), nullable=False
    )
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )


class ChangeHorizon(Base):
    """How far pruning has gone: cursors before (xid, change_id) point at changes no longer
    kept. One row, or none before the first prune."""

    __tablename__ = "change_horizon"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    change_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
