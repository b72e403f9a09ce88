"""Batch lookup: `?id=a&id=b` on a list answers with exactly the items named.

A client holding a page of references (the participants of events, the sources of articles)
resolves them in one request instead of one per reference. The rules, the same on every list:

- each `id` is a UUID or a slug, up to `MAX_IDS` of them (api/shared/params.py: `Ids`);
- the items come in the order asked, each once, at the first position that names it (a UUID
  and the slug of one item, or a key given twice, name it once);
- the keys that name nothing are listed in the page's `missing`, in the order asked, never
  dropped in silence; a key shaped like neither a UUID nor a slug simply names nothing;
- `id` names the whole answer, so it takes no `cursor`, `limit` or filter: one of those with
  it is a 400 naming it (a filter that removed a named item would make it look missing); only
  `count` combines with it (`total`: the items found).

The rows are read with one statement, `by_keys` (api/shared/lookup.py): ids and slugs as two
array parameters, whatever their number.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import FieldError, ProblemError
from api.shared.lookup import key_parameters
from api.shared.problems import ProblemCode
from api.shared.rows import as_uuid, fetch

# What a request with `id` may carry besides it.
COMBINES_WITH_ID = frozenset({"id", "count", "format"})

Row = TypeVar("Row")


def refuse_other_parameters(request: Request) -> None:
    """400 when a request with `id` also carries a cursor, a limit or a filter."""
    others = sorted({name for name, _ in request.query_params.multi_items()} - COMBINES_WITH_ID)
    if others:
        listed = ", ".join(f"`{name}`" for name in others)
        raise ProblemError(
            ProblemCode.VALIDATION_ERROR,
            f"`id` names every item of the answer, so it takes no {listed}: look up by `id` "
            "alone (and `count`), or list with filters and paging.",
            status=400,
            errors=[
                FieldError(
                    location="query",
                    field=name,
                    message="does not combine with `id`",
                    type="conflicting_parameter",
                )
                for name in others
            ],
        )


class _Keyed(Protocol):
    id: uuid.UUID
    slug: str


Model = TypeVar("Model", bound=_Keyed)


def in_asked_order(
    keys: Sequence[str],
    found: Iterable[Row],
    identify: Callable[[Row], tuple[uuid.UUID, str]],
) -> tuple[list[Row], list[str]]:
    """The rows `keys` name, in the order asked and each once, and the keys naming nothing
    (each once). `identify` gives a row's id and slug."""
    by_id: dict[uuid.UUID, Row] = {}
    by_slug: dict[str, Row] = {}
    for each in found:
        each_id, slug = identify(each)
        by_id[each_id] = each
        by_slug[slug] = each
    items: list[Row] = []
    given: set[uuid.UUID] = set()
    missing: dict[str, None] = {}  # ordered, each once
    for key in keys:
        as_id = as_uuid(key)
        row: Row | None = by_id.get(as_id) if as_id is not None else by_slug.get(key)
        if row is None:
            missing[key] = None
            continue
        row_id = identify(row)[0]
        if row_id not in given:
            given.add(row_id)
            items.append(row)
    return items, list(missing)


async def rows_by_keys(
    session: AsyncSession, statement: Select[Any], keys: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """What a `by_keys` statement of list columns finds for `keys`, as rows in the order
    asked, and the keys naming none."""
    found = await fetch(session, statement, key_parameters(keys))
    return in_asked_order(keys, found, lambda row: (row["id"], row["slug"]))


async def models_by_keys(
    session: AsyncSession, statement: Select[Model], keys: Sequence[str]
) -> tuple[list[Model], list[str]]:
    """What a `by_keys` statement of ORM rows finds for `keys`, in the order asked, and the
    keys naming none."""
    found = await session.scalars(statement, key_parameters(keys))
    return in_asked_order(keys, found, lambda row: (row.id, row.slug))
