"""Hot reads without ORM objects.

A read endpoint that builds a response straight from columns needs none of what the ORM adds
per row (instances, identity map, attribute instrumentation), and profiling under load showed
that bookkeeping as most of a request's CPU. Hot reads therefore select plain table columns
with Core statements built once at import (so SQLAlchemy's compiled-statement cache is hit
without re-deriving a cache key), run them on the request's own connection, and validate the
response models from plain dicts.

Statements still go through SQLAlchemy's `Connection.execute`: the same pool, the same error
handling (503 on timeouts and lost connections) and the same execution events (the query-count
tests and the benchmark's statement capture see every statement).
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Executable, FromClause, Label, Select, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

_SEPARATOR = "."


async def fetch(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every row of a Core statement on the session's connection, as a dict; columns labelled
    `prefix.name` (`nested`) gathered into one dict under `prefix`, or None when all of them
    are NULL (an outer join that found nothing)."""
    connection = await session.connection()
    result = await connection.execute(statement, dict(parameters or {}))
    return _as_dicts(list(result.keys()), result.all())


def _as_dicts(keys: Sequence[str], found: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    # Where each key goes is worked out once per result, not once per row.
    flat: list[tuple[int, str]] = []
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, key in enumerate(keys):
        prefix, separator, name = key.partition(_SEPARATOR)
        if separator:
            groups.setdefault(prefix, []).append((index, name))
        else:
            flat.append((index, key))
    dicts = []
    for row in found:
        values = {key: row[index] for index, key in flat}
        for prefix, members in groups.items():
            group = {name: row[index] for index, name in members}
            values[prefix] = group if any(v is not None for v in group.values()) else None
        dicts.append(values)
    return dicts


def columns(table: FromClause, *, omit: Sequence[str] = ()) -> list[ColumnElement[Any]]:
    """A table's columns but the omitted ones (stored search vectors, bodies on lists)."""
    return [column for column in table.c if column.key not in omit]


def nested(prefix: str, table: FromClause, model: type[BaseModel]) -> list[Label[Any]]:
    """The columns of `table` that `model` (a reference such as EntityRef) has fields for,
    labelled `prefix.name`, which `fetch` gathers into one dict under `prefix`."""
    return [table.c[name].label(f"{prefix}{_SEPARATOR}{name}") for name in model.model_fields]


def as_uuid(key: str) -> uuid.UUID | None:
    """A path or query key as a UUID, or None when it is a slug."""
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def by_key(statement: Select[Any], table: FromClause) -> tuple[Select[Any], Select[Any]]:
    """`statement` for one row by id and by slug: two statements, so each keeps the plan of
    its unique index."""
    return (
        statement.where(table.c.id == bindparam("key")),
        statement.where(table.c.slug == bindparam("key")),
    )


def key_statement(
    statements: tuple[Select[Any], Select[Any]], key: str
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of `by_key` that fits `key`, with its parameters."""
    as_id = as_uuid(key)
    if as_id is not None:
        return statements[0], {"key": as_id}
    return statements[1], {"key": key}
