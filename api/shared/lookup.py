"""Finding rows by the key a client used: a UUID or a slug.

A key in the path names the row a request is about (404 when it names nothing: get_by_key,
id_by_key); keys in a filter narrow a list (400, or 422 in a body, when one names nothing:
ids_for_filter, id_for_filter); keys in a batch lookup name the items a list answers with
(those naming nothing are reported: by_keys, key_parameters, api/shared/batch.py).

A handler that has nothing to check but the path takes its row from a dependency beside its
router (`row: EventInPath`). One with a body, or query values that can be invalid, calls
get_by_key itself: FastAPI runs dependencies before it validates the handler's own
parameters, so a lookup in a dependency would answer 404 (and an If-Match check 428 or 412)
to a malformed request that is answered 400 or 422.
"""

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Select, Text, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from api.shared.errors import FieldError, NotFound, ProblemError
from api.shared.problems import ProblemCode
from api.shared.rows import as_uuid, by_key, fetch, key_statement

Model = TypeVar("Model", bound=Any)


def _key_clause(model: Any, key: str) -> Any:
    as_id = as_uuid(key)
    return model.id == as_id if as_id is not None else model.slug == key


async def get_by_key(
    session: AsyncSession,
    model: type[Model],
    key: str,
    resource: str,
    *,
    options: Sequence[ORMOption] = (),
) -> Model:
    """The row `key` names; `options` (e.g. joinedload) shape the one query that loads it."""
    row: Model | None = await session.scalar(
        select(model).where(_key_clause(model, key)).options(*options)
    )
    if row is None:
        raise NotFound(resource, key)
    return row


@cache
def _id_by_key(table: FromClause) -> tuple[Select[Any], Select[Any]]:
    return by_key(select(table.c.id), table)


async def id_by_key(session: AsyncSession, table: FromClause, key: str, resource: str) -> uuid.UUID:
    """The id of the row `key` (id or slug) names, for reads that need nothing else of it."""
    statement, parameters = key_statement(_id_by_key(table), key)
    rows = await fetch(session, statement, parameters)
    if not rows:
        raise NotFound(resource, key)
    row_id: uuid.UUID = rows[0]["id"]
    return row_id


def by_keys(table: FromClause) -> ColumnElement[bool]:
    """Rows by ids and slugs, each list one array parameter (`key_parameters` gives their
    values): one statement text (one prepared statement) however many keys are named, and
    each list served by its unique index."""
    return or_(
        table.c.id == any_(bindparam("ids", type_=ARRAY(PG_UUID()))),
        table.c.slug == any_(bindparam("slugs", type_=ARRAY(Text()))),
    )


def id_of_key(table: FromClause, name: str) -> ColumnElement[Any]:
    """The id of the row of `table` that the key parameter `name` names, found inside the
    statement that filters by it (no round trip of its own): `key_values` gives its values.
    An id is taken as it is, and only a slug is looked up (`id = $n OR slug = $m` made every
    read by id probe two indexes: bench/README.md, sixth round). A key that names nothing
    matches nothing; a caller whose answer is empty looks the keys up (`ids_for_filter`,
    `id_by_key`) to tell that from a 400 or a 404."""
    by_slug = (
        select(table.c.id)
        .where(table.c.slug == bindparam(f"{name}_slug", type_=Text()))
        .scalar_subquery()
    )
    return func.coalesce(bindparam(f"{name}_id", type_=PG_UUID()), by_slug)


def key_values(name: str, key: str) -> dict[str, Any]:
    """The values of `id_of_key`'s parameters for `key`: an id, or a slug."""
    as_id = as_uuid(key)
    return {f"{name}_id": as_id, f"{name}_slug": key if as_id is None else None}


def key_parameters(keys: Sequence[str]) -> dict[str, list[Any]]:
    """The values of `by_keys`' parameters: the keys that are UUIDs, and the others."""
    ids: list[uuid.UUID] = []
    slugs: list[str] = []
    for key in keys:
        as_id = as_uuid(key)
        if as_id is None:
            slugs.append(key)
        else:
            ids.append(as_id)
    return {"ids": ids, "slugs": slugs}


@cache
def _ids_for_keys(table: FromClause) -> Select[Any]:
    return select(table.c.id, table.c.slug).where(by_keys(table))


async def ids_for_filter(
    session: AsyncSession,
    model: Any,
    keys: Sequence[str],
    parameter: str,
    *,
    location: str = "query",
) -> list[uuid.UUID]:
    """The ids of the rows a filter names, in order; a key that names nothing is a 400 (a 422
    when it came in a request body, `location="body"`); no keys, no statement."""
    if not keys:
        return []
    as_uuids = {key: as_uuid(key) for key in keys}
    rows = await fetch(session, _ids_for_keys(model.__table__), key_parameters(list(as_uuids)))
    found: dict[str, uuid.UUID] = {}
    for row in rows:
        found[str(row["id"])] = row["id"]
        found[row["slug"]] = row["id"]
    ids = [
        found[str(u) if u is not None else k]
        for k, u in as_uuids.items()
        if (str(u) if u is not None else k) in found
    ]
    unknown = [k for k, u in as_uuids.items() if (str(u) if u is not None else k) not in found]
    if unknown:
        raise ProblemError(
            ProblemCode.UNKNOWN_REFERENCE,
            f"{parameter}: nothing has the id or slug {', '.join(map(repr, unknown))}.",
            status=422 if location == "body" else 400,
            errors=[
                FieldError(
                    location=location, field=parameter, message=f"unknown: {key}", type="unknown"
                )
                for key in unknown
            ],
        )
    return ids


async def id_for_filter(
    session: AsyncSession, model: Any, key: str | None, parameter: str
) -> uuid.UUID | None:
    """The id of the row a single-valued filter names, as ids_for_filter checks it; None when
    the filter is absent or empty (`?source=` filters nothing)."""
    if not key:
        return None
    ids = await ids_for_filter(session, model, [key], parameter)
    return ids[0]
