"""Reading and pruning the change feed (db/models/change.py says how rows get there, and why
reading only transactions older than every running one never skips or repeats a change)."""

from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import ProblemError
from api.shared.pagination import SortKey, fetch_prepared_page, page_statement
from api.shared.problems import ProblemCode
from db.enums import ResourceType
from db.models import Change, ChangeHorizon

FEED_ORDER = (SortKey(Change.xid, "int"), SortKey(Change.id, "int"))

# Every transaction below this id has ended: its rows are final, and no row still to come can
# sort before them (a transaction that has not written yet will get a larger id).
_SETTLED = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)

_COLUMNS: tuple[Any, ...] = (
    Change.resource_type.label("type"),
    Change.resource_id.label("id"),
    Change.slug,
    Change.resource_version.label("version"),
    Change.operation,
    Change.changed_at,
    Change.xid,
    Change.id.label("change_id"),
)


@cache
def _page_statement(types: bool, cursor: bool) -> Select[Any]:
    query = select(*_COLUMNS).where(Change.xid < _SETTLED)
    if types:
        query = query.where(
            Change.resource_type == any_(bindparam("types", type_=ARRAY(Change.resource_type.type)))
        )
    return page_statement(query, FEED_ORDER, cursor=cursor)


async def _horizon(session: AsyncSession) -> tuple[int, int] | None:
    row = (await session.execute(select(ChangeHorizon.xid, ChangeHorizon.change_id))).first()
    return (row.xid, row.change_id) if row is not None else None


async def read_changes(
    session: AsyncSession,
    *,
    types: Sequence[ResourceType],
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], list[Any] | None, bool]:
    """A page of settled changes after `after`: the rows (with their `position_of`), the
    position after the last one (or `after` itself when there is none), and whether more are
    ready now. 410
    `changes_expired` when `after` points before what is kept."""
    if after is not None:
        horizon = await _horizon(session)
        if horizon is not None and tuple(after) < horizon:
            raise ProblemError(
                ProblemCode.CHANGES_EXPIRED,
                "The cursor points at changes older than the feed keeps; read everything "
                "again from GET /v1/export, then follow the feed from its start.",
            )
    parameters = {"types": list(types)} if types else {}
    rows, more = await fetch_prepared_page(
        session,
        _page_statement(bool(types), after is not None),
        parameters,
        after=after,
        limit=limit,
    )
    position = position_of(rows[-1]) if rows else after
    return rows, (list(position) if position is not None else None), more is not None


def position_of(row: dict[str, Any]) -> list[int]:
    """A row's place in the feed: what a cursor after it holds."""
    return [row["xid"], row["change_id"]]


async def prune(session: AsyncSession, *, keep: timedelta) -> int:
    """Delete the changes before the first one whose transaction began within `keep`: a
    prefix of the feed's order, so what is kept is always everything after one position, the
    horizon, which moves there. Read along the primary key, the statement reads only the prefix
    it deletes (no index on the time: every write would pay for one). Returns how many went."""
    first_kept = (
        select(Change.xid, Change.id)
        .where(Change.changed_at >= func.now() - keep)
        .order_by(Change.xid, Change.id)
        .limit(1)
        .subquery()
    )
    before_kept = tuple_(Change.xid, Change.id) < select(first_kept).scalar_subquery()
    expired = select(Change.xid, Change.id).where(before_kept | ~select(first_kept).exists())
    last = (
        await session.execute(expired.order_by(Change.xid.desc(), Change.id.desc()).limit(1))
    ).first()
    if last is None:
        return 0
    position = (last.xid, last.id)
    deleted = await session.scalars(
        delete(Change)
        .where(tuple_(Change.xid, Change.id) <= tuple_(*position))
        .returning(Change.id)
    )
    count = len(deleted.all())
    await session.execute(
        insert(ChangeHorizon)
        .values(id=1, xid=position[0], change_id=position[1])
        .on_conflict_do_update(
            index_elements=[ChangeHorizon.id],
            set_={"xid": position[0], "change_id": position[1]},
        )
    )
    return count
