"""Keyset pagination: opaque cursors, `Page[...]` bodies and the RFC 8288 `Link` header.

A cursor carries the sort key of the last row served and a digest of the query that produced
it, signed so that a tampered or foreign cursor is a 400, never a 500 or a silently different
page. Rows inserted while a client pages never shift it: the next page starts strictly after
the last key seen (no OFFSET).

A page says how many items the whole list holds only when asked (`count=exact`: `total`): the
count is a statement of its own, over every matching row, which a page otherwise never reads.
"""

import base64
import hashlib
import hmac
import json
import typing
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Generic, Literal, TypeVar

import orjson
from fastapi import Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, Select, Subquery, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared import plain_json, rows
from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

# The sort-key columns a `page_statement` adds to its rows, labelled `_sort.0`, `_sort.1`, ...
# so that `rows.fetch` gathers them into one dict.
_SORT = "_sort"
# Names of the cursor's key parameters in a `page_statement`.
_AFTER = "after_"

KeyKind = Literal["uuid", "datetime", "date", "float", "str", "int"]


ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT", bound="Page[Any]")
LookupPageT = TypeVar("LookupPageT", bound="LookupPage[Any]")


class Page(BaseModel, Generic[ItemT]):
    """A page of a list. Each resource subclasses it (`class ArticlePage(Page[ArticleSummary])`)
    so the OpenAPI document names it plainly for generated SDKs."""

    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    total: int | None = Field(
        default=None,
        description="With `count=exact`: how many items the list holds under its filters, "
        "over all its pages. Absent otherwise.",
    )


class LookupPage(Page[ItemT], Generic[ItemT]):
    """A page of a list that also answers `id` (a batch lookup, api/shared/batch.py)."""

    missing: list[str] | None = Field(
        default=None,
        description="With `id`: the ids and slugs asked for that name nothing, in the order "
        "asked. Absent otherwise.",
    )


@dataclass(frozen=True, slots=True)
class PlainItems:
    """A page's items as plain JSON values in their schema's shape (`values`, written with
    api.shared.plain_json, the same bytes as the models), and the models themselves for what
    needs them (`models`, called only for CSV). The lists whose pages carry many items give
    these to `page_response` and `lookup_response` instead of models."""

    values: list[dict[str, Any]]
    models: Callable[[], Sequence[BaseModel]]

    @classmethod
    def of(
        cls,
        rows: Sequence[Any],
        value: Callable[[Any], dict[str, Any]],
        models: Callable[[Sequence[Any]], Sequence[BaseModel]],
    ) -> "PlainItems":
        """The items of `rows`: each row's `value`, and `models(rows)` when asked for."""
        return cls([value(row) for row in rows], partial(models, rows))


def plain_page(
    items: PlainItems,
    next_cursor: str | None,
    *,
    total: int | None,
    missing: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The page's JSON as `Page.model_dump_json` writes it, leaving out what was not asked;
    `extra`, the fields a page type adds after `Page`'s own (`TimelinePage`'s `pov`)."""
    page: dict[str, Any] = {"items": items.values, "next_cursor": next_cursor}
    if total is not None:
        page["total"] = total
    if missing is not None:
        page["missing"] = list(missing)
    if extra:
        page |= extra
    return plain_json.dumps(page)


# What a page's JSON leaves out unless it was asked for: `total` (`count`), `missing` (`id`).
# Sets, as pydantic takes them; never changed.
_NOT_ASKED = {"total", "missing"}
_NOT_LOOKED_UP = {"missing"}
_NOT_COUNTED = {"total"}


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of a keyset ordering. `expression` must never be NULL (coalesce it)."""

    expression: Any  # a column or SQL expression that is never NULL (coalesce it)
    kind: KeyKind
    descending: bool = False

    def order_by(self) -> ColumnElement[Any]:
        ordered: ColumnElement[Any] = (
            self.expression.desc() if self.descending else self.expression.asc()
        )
        return ordered


def _encode_value(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, datetime, date)):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    return value


_INT8 = 2**63


def _decode_value(value: Any, kind: KeyKind) -> Any:
    # Only a holder of the cursor secret can make a cursor say anything, but its values still
    # go to the database as parameters: anything the driver or PostgreSQL would refuse (NUL in
    # text, a number beyond bigint, a time beyond the year 9999 in UTC) is a malformed cursor.
    match kind:
        case "uuid":
            return uuid.UUID(value)
        case "datetime":
            moment = datetime.fromisoformat(value)
            if moment.utcoffset() is not None:
                moment.astimezone(UTC)  # OverflowError when out of range
            return moment
        case "date":
            return date.fromisoformat(value)
        case "float":
            return float(value)
        case "int":
            number = int(value)
            if not -_INT8 <= number < _INT8:
                raise ValueError("beyond bigint")
            return number
        case "str":
            if not isinstance(value, str) or "\x00" in value:
                raise TypeError("expected a string without NUL")
            return value


def _invalid_cursor(detail: str) -> ProblemError:
    return ProblemError(ProblemCode.INVALID_CURSOR, detail)


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` (values or bound parameters) in the order of `keys`."""
    clauses = []
    for position, key in enumerate(keys):
        equal_prefix = [k.expression == v for k, v in zip(keys, values[:position], strict=False)]
        value = values[position]
        beyond = key.expression < value if key.descending else key.expression > value
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


class Keyset:
    """The ordering of one list endpoint and the cursors that walk it."""

    def __init__(self, keys: Sequence[SortKey], *, secret: bytes, query_digest: str) -> None:
        self.keys = tuple(keys)
        self._secret = secret
        self._query_digest = query_digest

    def order_by(self) -> list[ColumnElement[Any]]:
        return [key.order_by() for key in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after `values` in this ordering (directions may be mixed)."""
        return _after(self.keys, values)

    def _signature(self, payload: bytes) -> str:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, values: Sequence[Any]) -> str:
        # Compact JSON, by orjson (a fifteenth of json.dumps' cost); `decode` reads either.
        payload = orjson.dumps({"k": [_encode_value(v) for v in values], "q": self._query_digest})
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._signature(payload)}"

    def start(self, cursor: str | None) -> list[Any] | None:
        """Where a page starts: after the cursor's key, or at the beginning without one."""
        return self.decode(cursor) if cursor is not None else None

    def decode(self, cursor: str) -> list[Any]:
        try:
            body, signature = cursor.split(".")
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError as error:
            raise _invalid_cursor("The cursor is malformed.") from error
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            raise _invalid_cursor("The cursor is not one this API issued, or it was altered.")
        try:
            data = json.loads(payload)
        # Cannot happen for a cursor this API signed; kept for safety.
        except (ValueError, RecursionError) as error:
            raise _invalid_cursor("The cursor is malformed.") from error
        if not isinstance(data, dict) or data.get("q") != self._query_digest:
            raise _invalid_cursor(
                "The cursor belongs to a different query; "
                "repeat the same filters, or start again without a cursor."
            )
        raw = data.get("k")
        if not isinstance(raw, list) or len(raw) != len(self.keys):
            raise _invalid_cursor("The cursor is malformed.")
        try:
            return [_decode_value(v, k.kind) for v, k in zip(raw, self.keys, strict=True)]
        except (TypeError, ValueError, OverflowError) as error:
            raise _invalid_cursor("The cursor is malformed.") from error


# What a cursor is not bound to: the page's size, its format (JSON or CSV), and whether the list
# is counted (a client may ask for `total` on the first page only).
_NOT_DIGESTED = frozenset({"cursor", "limit", "count", "format"})


def query_digest(request: Request) -> str:
    """What a cursor is bound to: the path and every query parameter that selects rows."""
    params = sorted((k, v) for k, v in request.query_params.multi_items() if k not in _NOT_DIGESTED)
    return hashlib.sha256(json.dumps([request.url.path, params]).encode()).hexdigest()[:16]


def keyset_for(request: Request, keys: Sequence[SortKey]) -> Keyset:
    secret: bytes = request.app.state.settings.cursor_secret.encode()
    return Keyset(keys, secret=secret, query_digest=query_digest(request))


def next_link(request: Request, next_cursor: str | None) -> dict[str, str]:
    """The `Link` header to the page after this one, when there is one."""
    if next_cursor is None:
        return {}
    url = request.url.include_query_params(cursor=next_cursor)
    return {"Link": f'<{url}>; rel="next"'}


async def fetch_page(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    whole_rows: bool = False,
) -> tuple[list[Any], list[Any] | None]:
    """Run `query` for one page: its rows, and the sort key of the last row when more follow.
    One extra row is fetched to know whether they do.

    The query selects one ORM entity, whose objects are returned, or with `whole_rows` any
    columns, whose rows are returned. Hot lists build a `page_statement` once instead and
    run it with `fetch_prepared_page`."""
    if after is not None:
        query = query.where(keyset.after(after))
    query = query.order_by(*keyset.order_by()).limit(limit + 1)
    # One entry per selected entity or expression: an ORM entity is one item of a row however
    # many columns it maps.
    width = len(query.column_descriptions)
    query = query.add_columns(*(key.expression for key in keyset.keys))
    result = (await session.execute(query)).all()
    page = result[:limit]
    next_key = list(page[-1][width:]) if len(result) > limit else None
    if whole_rows:
        return [row[:width] for row in page], next_key
    return [row[0] for row in page], next_key


def count_statement(query: Select[Any]) -> Select[Any]:
    """How many rows `query` (a list's filtered statement, before paging) yields, as `total`;
    its parameters are the list's. A list of prepared statements builds it once per shape of
    request, beside its page statement."""
    return select(func.count().label("total")).select_from(query.subquery("counted"))


async def fetch_count(
    session: AsyncSession, statement: Select[Any], parameters: dict[str, Any]
) -> int:
    """The `total` of a `count_statement` (extra parameters, such as `limit`, are ignored)."""
    found = await rows.fetch(session, statement, parameters)
    return int(found[0]["total"])


async def count_rows(session: AsyncSession, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows an ORM list query (one that `fetch_page` pages) yields."""
    return int((await session.execute(count_statement(query))).scalar_one())


def page_statement(query: Select[Any], keys: Sequence[SortKey], *, cursor: bool) -> Select[Any]:
    """`query` as a page statement in the order of `keys`: the rows after the cursor's key
    (parameters `after_0`, `after_1`, ...) when `cursor`, at most `limit` rows, the sort key
    in columns of their own. Its values are all parameters, so a caller can build it once
    per shape of request and cache it (see `fetch_prepared_page`)."""
    if cursor:
        after: list[Any] = [bindparam(f"{_AFTER}{position}") for position in range(len(keys))]
        query = query.where(_after(keys, after))
    ordered = query.order_by(*(key.order_by() for key in keys)).limit(
        bindparam("limit", type_=Integer)
    )
    return ordered.add_columns(
        *(key.expression.label(f"{_SORT}.{position}") for position, key in enumerate(keys))
    )


def sort_columns(page: Subquery, keys: int) -> list[ColumnElement[Any]]:
    """The `keys` sort-key columns of a `page_statement` used as a subquery, in order: an
    outer statement that selects them (and orders by them) is a page statement too."""
    return [page.c[f"{_SORT}.{position}"] for position in range(keys)]


async def fetch_prepared_page(
    session: AsyncSession,
    statement: Select[Any],
    parameters: dict[str, Any],
    *,
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One page of a `page_statement`: its rows as dicts (`rows.fetch`), and the sort key
    of the last row when more follow (one extra row is fetched to know)."""
    values = {**parameters, "limit": limit + 1}
    if after is not None:
        values.update((f"{_AFTER}{position}", value) for position, value in enumerate(after))
    found = await rows.fetch(session, statement, values)
    page = found[:limit]
    sort_keys = [row.pop(_SORT) for row in page]
    next_key = list(sort_keys[-1].values()) if len(found) > limit else None
    return page, next_key


def unasked(total: int | None) -> set[str]:
    """The fields a page's JSON leaves out: `missing` (`id` was not given), and `total` unless
    it was counted."""
    return _NOT_ASKED if total is None else _NOT_LOOKED_UP


def page_response(
    request: Request,
    page_type: type[PageT],
    items: Sequence[Any] | PlainItems,
    keyset: Keyset,
    next_key: Sequence[Any] | None,
    *,
    total: int | None = None,
    csv: bool = False,
) -> Response:
    """The list response: body with `next_cursor` (and `total` when counted), ETag, and the
    `Link` header. With `csv` (a list that offers CSV), in CSV when the request asks for it
    (api/shared/csv_format.py)."""
    from api.shared.http_cache import body_with_etag, json_with_etag

    next_cursor = keyset.encode(next_key) if next_key is not None else None
    if csv and _csv_asked(request):
        response = _csv_response(request, page_type, _models(items))
        response.headers.update(next_link(request, next_cursor))
    elif isinstance(items, PlainItems):
        body = plain_page(items, next_cursor, total=total)
        response = body_with_etag(request, body, next_link(request, next_cursor))
    else:
        page = page_type(items=list(items), next_cursor=next_cursor, total=total)
        headers = next_link(request, next_cursor)
        response = json_with_etag(request, page, headers, exclude=unasked(total))
    if csv:
        # Either answer depends on Accept: a shared cache must keep them apart.
        response.headers.add_vary_header("Accept")
    return response


def lookup_response(
    request: Request,
    page_type: type[LookupPageT],
    items: Sequence[Any] | PlainItems,
    missing: Sequence[str],
    *,
    count: bool,
    csv: bool = False,
) -> Response:
    """The answer to a batch lookup (`id`): every item found on one page, no cursor, the keys
    that named nothing in `missing`, and `total` (the items found) when counted. With `csv`,
    in CSV when asked (the items only)."""
    from api.shared.http_cache import body_with_etag, json_with_etag

    if csv and _csv_asked(request):
        response = _csv_response(request, page_type, _models(items))
    elif isinstance(items, PlainItems):
        total = len(items.values) if count else None
        body = plain_page(items, None, total=total, missing=missing)
        response = body_with_etag(request, body)
    else:
        total = len(items) if count else None
        page = page_type(items=list(items), next_cursor=None, total=total, missing=list(missing))
        response = json_with_etag(request, page, exclude=None if count else _NOT_COUNTED)
    if csv:
        response.headers.add_vary_header("Accept")
    return response


def _models(items: Sequence[Any] | PlainItems) -> Sequence[Any]:
    return items.models() if isinstance(items, PlainItems) else items


def _csv_asked(request: Request) -> bool:
    from api.shared.csv_format import wants_csv

    return wants_csv(request)


def _csv_response(request: Request, page_type: type[Page[Any]], items: Sequence[Any]) -> Response:
    """The page's items as CSV, with the ETag and Cache-Control its JSON would have."""
    from api.shared.csv_format import CSV_MEDIA_TYPE, render
    from api.shared.http_cache import body_with_etag

    item_type = typing.get_args(page_type.model_fields["items"].annotation)[0]
    return body_with_etag(
        request,
        render(item_type, items),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8; header=present",
    )
