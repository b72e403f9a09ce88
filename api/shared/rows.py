"""Hot reads without ORM objects.

A read endpoint that builds a response straight from columns needs none of what the ORM adds
per row (instances, identity map, attribute instrumentation), and profiling under load showed
that bookkeeping as most of a request's CPU. Hot reads therefore select plain table columns
with Core statements built once at import (so SQLAlchemy's compiled-statement cache is hit
without re-deriving a cache key), run them on the request's own connection, and validate the
response models from plain dicts.

A read (GET, HEAD: a `ReadSession`, in autocommit) that has not used the ORM yet goes further:
the statement is compiled once to the driver's SQL and sent straight to asyncpg. SQLAlchemy's
per-request session, its transaction bookkeeping and its execution path cost 0.25 ms of a
by-id read's 0.75 ms CPU. The request's first statement checks a connection out of the same
pool and the session holds it for the request's other statements, until the route closes the
session (shielded from hang-ups). A checkout and its return (two greenlet switches and the
pool's bookkeeping) cost about 0.1 ms: a fifth of the dispute timeline's CPU when each of its
five statements had its own (bench/README.md, third round). What the ORM path gives
stays: the same pool and its checkout checks, the same errors (asyncpg's translated into
SQLAlchemy's, so a timeout or a lost connection is the same 503) and the same
`before_cursor_execute` event (the query-count tests and the benchmark's statement capture see
every statement). A request never holds two connections: the ORM, once used, runs on the
connection the direct statements held, and every later statement goes through it.
"""

import functools
import operator
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Executable,
    FromClause,
    Label,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util.concurrency import greenlet_spawn

_SEPARATOR = "."


class ReadSession(AsyncSession):
    """The session of a read request (autocommit): `fetch` may bypass it (see above), and the
    ORM session behind it is only built when something uses it (0.05 ms a request saved when
    nothing does). Close it (the route does, and `async with`): it may hold a connection even
    when the ORM was never built."""

    def __init__(self, bind: AsyncEngine, **options: Any) -> None:
        self.engine = bind
        self._async_bind = bind
        self._async_binds = {}
        self._deferred_options = options
        # The pooled connection the direct statements run on, from the first one to `close`.
        self._held: PoolProxiedConnection | None = None
        # The same connection as the ORM's bind, once the ORM was built while it was held.
        self._held_bind: AsyncConnection | None = None

    def __getattr__(self, name: str) -> Any:
        # Only for attributes not set yet: the ORM session and what __init__ sets with it.
        options = self.__dict__.pop("_deferred_options", None)
        if options is None:
            raise AttributeError(name)
        bind: AsyncEngine | AsyncConnection = self.engine
        if self._held is not None:
            # On the connection already held: wrapping it runs the engine's `engine_connect`
            # (autocommit) and does no I/O.
            bind = self._held_bind = AsyncConnection(
                self.engine, Connection(self.engine.sync_engine, connection=self._held)
            )
        AsyncSession.__init__(self, bind, **options)
        return getattr(self, name)

    @property
    def built(self) -> bool:
        return "_deferred_options" not in self.__dict__

    @property
    def closes_without_waiting(self) -> bool:
        """Whether `close` only hands the pool back a connection no transaction was begun on
        (direct statements alone, or none): no statement, no await that suspends, so nothing a
        cancellation could interrupt."""
        return not self.built

    @property
    def holds_connection(self) -> bool:
        return self._held is not None or (self.built and super().in_transaction())

    def in_transaction(self) -> bool:
        return self.built and super().in_transaction()

    async def close(self) -> None:
        held, bind = self._held, self._held_bind
        self._held = self._held_bind = None
        try:
            if self.built:
                await super().close()
        finally:
            if bind is not None:
                await bind.close()
            elif held is not None:
                await greenlet_spawn(held.close)

    async def _direct_connection(self) -> PoolProxiedConnection:
        if self._held is None:
            self._held = await greenlet_spawn(self.engine.sync_engine.raw_connection)
        return self._held

    def _drop_direct_connection(self) -> None:
        """Forget a held connection the pool has invalidated (it is no longer checked out)."""
        if self._held is not None and self._held.dbapi_connection is None:
            self._held = None


async def fetch(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every row of a Core statement, as a dict; columns labelled `prefix.name` (`nested`)
    gathered into one dict under `prefix`, or None when all of them are NULL (an outer join
    that found nothing)."""
    if isinstance(session, ReadSession) and not session.built:
        keys, found = await _fetch_direct(session, statement, parameters or {})
        if keys is not None:
            return _as_dicts(keys, found)
    connection = await session.connection()
    result = await connection.execute(statement, dict(parameters or {}))
    return _as_dicts(list(result.keys()), result.all())


async def fetch_rows(
    session: AsyncSession,
    statement: Executable,
    parameters: Mapping[str, Any],
    *,
    built_once: bool,
) -> list[dict[str, Any]]:
    """`fetch` for a statement `built_once` (at import, or per shape of request), plain rows
    through the session otherwise: `fetch` keeps what it compiles for the statement's life."""
    if built_once:
        return await fetch(session, statement, parameters)
    result = await session.execute(statement, dict(parameters))
    return [dict(row) for row in result.mappings()]


_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Slot:
    """One `$n` of a compiled statement: where its value comes from and how it is sent."""

    key: str  # the bind parameter's key, as callers pass it
    name: str  # its name in the compiled statement, which callers may pass instead
    default: Any  # its value when neither is passed; _REQUIRED when one must be
    process: Callable[[Any], Any] | None  # the type's bind processor, if it has one

    def argument(self, parameters: Mapping[str, Any]) -> Any:
        if self.key in parameters:
            value = parameters[self.key]
        elif self.name in parameters:
            value = parameters[self.name]
        elif self.default is _REQUIRED:
            raise InvalidRequestError(f"A value is required for bind parameter {self.key!r}")
        else:
            value = self.default
        return value if self.process is None else self.process(value)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    slots: tuple[_Slot, ...]  # in `$n` order

    def arguments(self, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
        """The statement's arguments, as SQLAlchemy's `construct_params` and bind processors
        would give them, from only the slots (`construct_params`, walking every bind
        parameter by name, was 3.8% of the events list's CPU: bench/README.md, ninth round)."""
        return tuple(slot.argument(parameters) for slot in self.slots)


# Statements are built once (at import, or once per shape of request: the contract of this
# module), so this stays small. Each entry keeps its statement alive, so that no other
# statement can be created at the same id while the entry is there.
_COMPILED: dict[tuple[int, int], tuple[Executable, _Compiled | None]] = {}
_COMPILED_MAX = 4096


def _compile(statement: Executable, dialect: Dialect) -> _Compiled | None:
    """The driver's SQL for `statement`, or None when it cannot be sent as is (parameters
    expanded at execution, such as `IN` over a list, or computed at execution): those take
    the ORM path."""
    key = (id(statement), id(dialect))
    if key in _COMPILED:
        return _COMPILED[key][1]
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    direct: _Compiled | None = None
    if not compiled.post_compile_params and compiled.positiontup is not None:
        direct = _direct(compiled)
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[key] = (statement, direct)
    return direct


def _direct(compiled: SQLCompiler) -> _Compiled | None:
    assert compiled.positiontup is not None
    processors = compiled._bind_processors
    escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
    by_name = {escaped.get(name, name): bind for bind, name in compiled.bind_names.items()}
    slots = []
    for name in compiled.positiontup:
        bind = by_name[name]
        processor = processors.get(name)
        if bind.callable is not None or (processor is not None and not callable(processor)):
            return None
        slots.append(
            _Slot(
                key=bind.key,
                name=name,
                default=_REQUIRED if bind.required else bind.value,
                process=processor,
            )
        )
    return _Compiled(sql=compiled.string, slots=tuple(slots))


async def _fetch_direct(
    session: ReadSession, statement: Executable, parameters: Mapping[str, Any]
) -> tuple[list[str] | None, list[Any]]:
    sync_engine = session.engine.sync_engine
    direct = _compile(statement, sync_engine.dialect)
    if direct is None:
        return None, []
    arguments = direct.arguments(parameters)
    if sync_engine.dispatch.before_cursor_execute:
        for listener in sync_engine.dispatch.before_cursor_execute:
            listener(None, None, direct.sql, arguments, None, False)
    pooled = await session._direct_connection()
    driver = pooled.driver_connection
    assert driver is not None
    try:
        records = await driver.fetch(direct.sql, *arguments)
    except Exception as error:
        translated = _translated(pooled, sync_engine.dialect, direct.sql, arguments, error)
        session._drop_direct_connection()
        raise translated from error
    return (list(records[0].keys()) if records else []), records


def _translated(
    pooled: Any, dialect: Dialect, sql: str, arguments: tuple[Any, ...], error: Exception
) -> Exception:
    """asyncpg's `error` as SQLAlchemy would have raised it (the same exception handlers
    answer it); a connection it left unusable is dropped from the pool, not returned."""
    try:
        pooled.dbapi_connection._handle_exception(error)
    except Exception as adapted:  # the DBAPI (PEP 249) form of asyncpg's error
        if not isinstance(adapted, dialect.loaded_dbapi.Error):
            return adapted
        invalidated = dialect.is_disconnect(adapted, pooled.dbapi_connection, None)
        if invalidated:
            pooled.invalidate(adapted)
        return DBAPIError.instance(
            sql,
            arguments,
            adapted,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        )
    return error


def _getter(indices: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The values of a row at `indices`, as a tuple (operator.itemgetter, in C: a fifth of a
    list's CPU went on reading rows one column at a time)."""
    if len(indices) == 1:
        index = indices[0]
        return lambda row: (row[index],)
    if not indices:
        return lambda row: ()
    return operator.itemgetter(*indices)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each column of a result goes: top-level keys, and `prefix.name` groups."""

    keys: tuple[str, ...]
    values: Callable[[Sequence[Any]], tuple[Any, ...]]
    groups: tuple[tuple[str, tuple[str, ...], Callable[[Sequence[Any]], tuple[Any, ...]]], ...]


@functools.lru_cache(maxsize=512)
def _layout(keys: tuple[str, ...]) -> _Layout:
    flat: list[tuple[int, str]] = []
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, key in enumerate(keys):
        prefix, separator, name = key.partition(_SEPARATOR)
        if separator:
            groups.setdefault(prefix, []).append((index, name))
        else:
            flat.append((index, key))
    return _Layout(
        keys=tuple(key for _, key in flat),
        values=_getter([index for index, _ in flat]),
        groups=tuple(
            (prefix, tuple(name for _, name in members), _getter([i for i, _ in members]))
            for prefix, members in groups.items()
        ),
    )


def _as_dicts(keys: Sequence[str], found: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    # Where each key goes is worked out once per shape of result, not once per row.
    layout = _layout(tuple(keys))
    dicts = []
    for row in found:
        values = dict(zip(layout.keys, layout.values(row), strict=False))
        for prefix, names, group_values in layout.groups:
            group = group_values(row)
            # None when every column is NULL: an outer join that found nothing.
            values[prefix] = (
                dict(zip(names, group, strict=False)) if group.count(None) < len(group) else None
            )
        dicts.append(values)
    return dicts


def columns(table: FromClause, *, omit: Sequence[str] = ()) -> list[ColumnElement[Any]]:
    """A table's columns but the omitted ones (stored search vectors, bodies on lists)."""
    return [column for column in table.c if column.key not in omit]


def nested(prefix: str, table: FromClause, model: type[BaseModel]) -> list[Label[Any]]:
    """The columns of `table` that `model` (a reference such as EntityRef) has fields for,
    labelled `prefix.name`, which `fetch` gathers into one dict under `prefix`."""
    return [table.c[name].label(f"{prefix}{_SEPARATOR}{name}") for name in model.model_fields]


def json_object(fields: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    """A JSON object PostgreSQL builds, one key per field."""
    return func.json_build_object(
        *(part for name, column in fields.items() for part in (literal_column(f"'{name}'"), column))
    )


def json_array(
    item: ColumnElement[Any],
    *,
    order_by: Sequence[ColumnElement[Any]],
    from_: FromClause | None = None,
    where: ColumnElement[bool] | None = None,
) -> ColumnElement[str]:
    """`item` for every row of `from_` where `where` holds, in `order_by`, as one JSON array
    (`[]` when there are none) that PostgreSQL builds inside the statement it is a column of:
    a row and its parts in one round trip. As text: the same str whichever way the statement
    is sent (SQLAlchemy decodes json), which a TypeAdapter's `validate_json` parses and
    validates in one pass."""
    array = select(
        func.coalesce(
            func.json_agg(aggregate_order_by(item, *order_by)), literal_column("'[]'::json")
        )
    )
    if from_ is not None:
        array = array.select_from(from_)
    if where is not None:
        array = array.where(where)
    return cast(array.scalar_subquery(), Text)


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
