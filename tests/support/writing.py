"""What the write tests share: the article request bodies cite, and how problems are read."""

from typing import Any

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

BODY = (
    "Prime Minister Fumio Kishida spoke with Russian President Vladimir Putin on Thursday. "
    "Kishida said the Northern Territories belong to Japan; Russia calls the islands the "
    "Southern Kurils."
)
ARTICLE = "kyodo-call"


def span(text: str) -> dict[str, Any]:
    start = BODY.index(text)
    return {"quote": text, "start": start, "end": start + len(text), "article": ARTICLE}


def problems(response: Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    return [(e["field"], e["message"]) for e in response.json()["errors"]]


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)
