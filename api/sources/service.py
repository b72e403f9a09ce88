from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.pagination import Keyset, SortKey, fetch_page
from db.enums import SourceKind
from db.models import Source

NAME_ORDER = (SortKey(Source.name, "str"), SortKey(Source.id, "uuid"))


async def list_sources(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    kind: SourceKind | None = None,
) -> tuple[list[Source], list[Any] | None]:
    query = select(Source)
    if kind is not None:
        query = query.where(Source.kind == kind)
    return await fetch_page(session, query, keyset=keyset, after=after, limit=limit)
