from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.batch import models_by_keys
from api.shared.errors import ProblemError
from api.shared.lookup import by_keys
from api.shared.pagination import Keyset, SortKey, count_rows, fetch_page
from api.shared.problems import ProblemCode
from api.shared.writes import flush_or_conflict, refuse_if_referenced
from api.sources.schemas import SourceCreate, SourceUpdate
from db.enums import SourceKind
from db.models import Article, Source

REQUIRED_FIELDS = {"slug", "name", "kind"}

NAME_ORDER = (SortKey(Source.name, "str"), SortKey(Source.id, "uuid"))


async def list_sources(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    kind: SourceKind | None = None,
    count: bool = False,
) -> tuple[list[Source], list[Any] | None, int | None]:
    """One page of sources, the sort key of its last row when more follow, and with `count`
    how many sources the list holds."""
    query = select(Source)
    if kind is not None:
        query = query.where(Source.kind == kind)
    page, next_key = await fetch_page(session, query, keyset=keyset, after=after, limit=limit)
    total = await count_rows(session, query) if count else None
    return page, next_key, total


_BY_KEYS = select(Source).where(by_keys(Source.__table__))


async def sources_by_keys(
    session: AsyncSession, keys: Sequence[str]
) -> tuple[list[Source], list[str]]:
    """The sources `keys` name, in the order asked, and the keys naming none."""
    return await models_by_keys(session, _BY_KEYS, keys)


async def create_source(session: AsyncSession, *, data: SourceCreate) -> Source:
    source = Source(**data.model_dump())
    session.add(source)
    await flush_or_conflict(session, resource="source")
    return source


async def update_source(session: AsyncSession, *, source: Source, data: SourceUpdate) -> Source:
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is None and field in REQUIRED_FIELDS:
            raise ProblemError(
                ProblemCode.VALIDATION_ERROR, f"`{field}` cannot be null.", status=422
            )
        setattr(source, field, value)
    await flush_or_conflict(session, resource="source")
    return source


async def delete_source(session: AsyncSession, *, source: Source, cascade: bool) -> None:
    articles = await session.scalar(
        select(func.count()).select_from(Article).where(Article.source_id == source.id)
    )
    if not cascade:
        refuse_if_referenced("source", {"articles": articles or 0})
    await session.execute(sa_delete(Article).where(Article.source_id == source.id))
    await session.delete(source)
    await session.flush()
