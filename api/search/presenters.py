"""Search hits as the API shows them: each row of `search` as a SearchHit, its snippet safe to
put in a page as HTML."""

from collections.abc import Sequence
from typing import Any

from api.search import service as search_service
from api.search.schemas import HitType, SearchHit


def search_hits(rows: Sequence[Any]) -> list[SearchHit]:
    """List items for the rows of `search`."""
    return [
        SearchHit(
            type=HitType(row["type"]),
            id=row["id"],
            slug=row["slug"],
            title=row["title"],
            score=round(row["score"], 6),
            snippet=search_service.mark(row["snippet"]),
        )
        for row in rows
    ]
