"""Writes through the seed loader's code: a request body is a seed document, planned and
checked by seeds/plan.py and written by seeds/write.py, so the API and `newsgraph seed`
accept and refuse exactly the same data, with the same messages."""

import re
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.errors import FieldError, ProblemError
from api.shared.problems import ProblemCode
from api.shared.writes import flush_or_conflict, unique_conflict
from db.models import Evidence
from seeds import apply as seed_apply
from seeds.problems import SeedError
from seeds.schema import SeedDocument
from seeds.write import WriteResult

SeedModelT = TypeVar("SeedModelT", bound=BaseModel)

_SECTION = re.compile(r"^(entities|events|statements|disputes)\[\d+\]\.?")


def _field(path: str) -> str:
    """A planner path (`entities[0].aliases[1].used_by`) as the API names body fields
    (`aliases.1.used_by`, as for any other validation error)."""
    return re.sub(r"\[(\d+)\]", r".\1", _SECTION.sub("", path)) or "body"


def seed_problem(error: SeedError) -> ProblemError:
    """The planner's problems as a 422, one field error each, with the loader's message."""
    errors = [
        FieldError(location="body", field=_field(p.path), message=p.message, type="value_error")
        for p in error.problems
    ]
    names = ", ".join(dict.fromkeys(e.field for e in errors))
    return ProblemError(
        ProblemCode.VALIDATION_ERROR, f"Invalid request: {names}.", status=422, errors=errors
    )


def validate_seed(model: type[SeedModelT], values: Mapping[str, Any]) -> SeedModelT:
    try:
        return seed_apply.validate_document(model, values)
    except SeedError as error:
        raise seed_problem(error) from error


async def refuse_taken_slug(
    session: AsyncSession, model: Any, slug: str, *, resource: str, collection: str
) -> None:
    """409 when the slug is taken: the planner would otherwise update that row in place."""
    existing = await session.scalar(select(model.id).where(model.slug == slug))
    if existing is not None:
        raise ProblemError(
            ProblemCode.CONFLICT,
            f"Another {resource} already has this slug.",
            existing=f"/v1/{collection}/{existing}",
        )


async def apply_seed(
    session: AsyncSession,
    document: SeedDocument,
    *,
    resource: str,
    replacing: Mapping[str, set[uuid.UUID]] | None = None,
) -> WriteResult:
    """Plan and write one request's document; 422 for what the planner finds, 409 for a
    unique violation a concurrent write won."""
    try:
        async with session.begin_nested():
            return await seed_apply.apply_documents(session, [document], replacing=replacing)
    except SeedError as error:
        raise seed_problem(error) from error
    except IntegrityError as error:
        conflict = unique_conflict(
            error, lambda constraint: f"The {resource} conflicts with another ({constraint})."
        )
        if conflict is None:
            raise
        raise conflict from error


async def update_from_seed(
    session: AsyncSession,
    row: Any,
    seed: Any,
    document: SeedDocument,
    *,
    resource: str,
    collection: str,
    replacing: Mapping[str, set[uuid.UUID]] | None = None,
) -> None:
    """Write `seed` (the row's new state, in `document`) over `row`: renamed first when its
    slug changes, since the planner matches rows by slug and must update this one in place;
    then planned and written; a new version even when only its parts changed."""
    if seed.slug != row.slug:
        await refuse_taken_slug(
            session, type(row), seed.slug, resource=resource, collection=collection
        )
        row.slug = seed.slug
        await flush_or_conflict(session, resource=resource)
    version = row.version
    result = await apply_seed(session, document, resource=resource, replacing=replacing)
    await session.refresh(row)
    if row.version == version and changed(result):
        await touch(session, row)


def changed(result: WriteResult) -> bool:
    return any(c.created or c.updated or c.deleted for c in result.counts.values())


async def touch(session: AsyncSession, row: Any) -> None:
    """A new version for a resource whose parts changed but whose own row did not."""
    row.updated_at = func.now()
    await session.flush()
    await session.refresh(row)


async def slug_of(session: AsyncSession, model: Any, row_id: uuid.UUID | None) -> str | None:
    if row_id is None:
        return None
    slug: str | None = await session.scalar(select(model.slug).where(model.id == row_id))
    return slug


async def ids_where(session: AsyncSession, column: Any, value: uuid.UUID) -> set[uuid.UUID]:
    """Ids of the rows of `column`'s table whose `column` is `value`."""
    model = column.class_
    return set((await session.scalars(select(model.id).where(column == value))).all())


async def evidence_of(session: AsyncSession, column: Any, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set((await session.scalars(select(Evidence.id).where(column.in_(ids)))).all())


async def replace_part(
    session: AsyncSession,
    replacing: dict[str, set[uuid.UUID]],
    parent: Any,
    parent_id: uuid.UUID,
    evidence: Any,
) -> None:
    """Mark a part a PATCH sends whole (`parent`'s table: its rows whose `parent` is
    `parent_id`) as replaced in `replacing`, with the evidence that cites those rows
    (`evidence`, the evidence column pointing at them)."""
    ids = await ids_where(session, parent, parent_id)
    replacing[parent.class_.__tablename__] = ids
    replacing.setdefault("evidence", set()).update(await evidence_of(session, evidence, ids))


async def count(session: AsyncSession, model: Any, where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(where)) or 0)
