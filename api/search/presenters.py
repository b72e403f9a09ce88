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
            type=HitType(hit_type),
            id=hit_id,
            slug=slug,
            title=title,
            score=round(score, 6),
            snippet=search_service.mark(snippet),
        )
        for hit_type, hit_id, slug, title, score, snippet in rows
    ]
