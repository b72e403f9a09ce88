"""Writing seed documents that no seed file owns: what the write API does with a request body.

A request is planned and written by the loader's own code (seeds.plan, seeds.write), so it is
checked exactly as a seed file is: referenced slugs exist (here or in the database), evidence
spans match the article text, EDTF and durations parse, enumerations are known.

    validate_document   a dict -> a seed model, or SeedError with the loader's wording
    apply_documents     plan (SeedError listing every problem) and write, flush only
    evidence_seeds      a fact's evidence rows, back in the seed shape, to plan them again

Nothing here records ownership in seed_file: rows written this way belong to no seed file,
so a later seed run never deletes them.
"""

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Article, Evidence
from seeds.files import SeedFileInput, add_validation_problems
from seeds.loader import known_rows
from seeds.plan import build_plan
from seeds.problems import Problems, SeedError
from seeds.schema import EvidenceSeed, SeedDocument
from seeds.write import WriteResult, apply_plan

# How problems name where they were found: there is no file.
REQUEST = "request"

Model = TypeVar("Model", bound=BaseModel)


def validate_document(model: type[Model], values: Mapping[str, Any]) -> Model:
    """`model` from `values`, or SeedError with one problem per schema error."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = Problems()
        add_validation_problems(problems, REQUEST, error)
        raise SeedError(problems.items) from error


async def apply_documents(
    session: AsyncSession,
    documents: Sequence[SeedDocument],
    *,
    replacing: Mapping[str, set[uuid.UUID]] | None = None,
) -> WriteResult:
    """Plan `documents` against the database and write them (flush only).

    Rows the documents describe are created or updated in place (matched by slug or natural
    key). `replacing` names existing rows, per table, that the documents replace: those the
    documents no longer describe are deleted (e.g. an entity's old aliases).
    """
    problems = Problems()
    files = [SeedFileInput(Path(REQUEST), REQUEST, REQUEST, "", None, d) for d in documents]
    known = await known_rows(session, files, {})
    plan = build_plan(files, known, problems)
    problems.raise_if_any()
    owned = {table: set(ids) for table, ids in (replacing or {}).items()}
    return await apply_plan(session, plan, owned)


async def evidence_seeds(
    session: AsyncSession, subject_column: str, subject_id: uuid.UUID
) -> tuple[list[EvidenceSeed], set[uuid.UUID]]:
    """The evidence of one fact as seed items (spans by offset, editorial notes), and the ids
    of its rows, so that the fact can be planned again without losing or duplicating them."""
    rows = (
        await session.execute(
            select(Evidence, Article.slug)
            .join(Article, Article.id == Evidence.article_id)
            .where(getattr(Evidence, subject_column) == subject_id)
            .order_by(Article.slug, Evidence.start_offset.nulls_last(), Evidence.id)
        )
    ).all()
    items = [
        EvidenceSeed(editorial=True, note=row.note, field=row.field, article=slug)
        if row.editorial
        else EvidenceSeed(
            quote=row.quote,
            start=row.start_offset,
            end=row.end_offset,
            field=row.field,
            article=slug,
        )
        for row, slug in rows
    ]
    return items, {row.id for row, _ in rows}
