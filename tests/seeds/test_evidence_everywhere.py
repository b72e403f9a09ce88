"""Every fact the API states about the shipped seed data comes with its evidence: the exact
words of the article, or an editorial note saying how it was derived. The walk reads what a
client reads (every list, paged to its end, and every detail and timeline) and checks each
fact it finds, so a fact added to a read without its evidence fails here."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from seeds.files import default_seed_paths
from seeds.loader import load_seeds

# The article's own metadata that the seed states: each needs evidence naming the field.
ARTICLE_FIELDS = ("headline", "summary", "byline", "published_at")


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)


@dataclass(frozen=True)
class Fact:
    where: str  # e.g. "GET /v1/entities/japan: aliases[0]"
    evidence: list[dict[str, Any]]


async def _every(client: AsyncClient, path: str) -> list[dict[str, Any]]:
    """Every item of a list, following `next_cursor` to the end."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = await client.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        params["cursor"] = page["next_cursor"]


async def _detail(client: AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _parts(where: str, parts: list[dict[str, Any]], key: str = "evidence") -> Iterator[Fact]:
    for index, part in enumerate(parts):
        yield Fact(f"{where}[{index}]", part[key])


async def _facts(client: AsyncClient) -> tuple[list[Fact], dict[str, dict[str, Any]]]:
    """Each fact of every read, and every article by id (the evidence cites them)."""
    facts: list[Fact] = []
    articles: dict[str, dict[str, Any]] = {}
    for item in await _every(client, "/v1/articles"):
        path = f"/v1/articles/{item['slug']}"
        article = await _detail(client, f"{path}?include=mentions")
        articles[article["id"]] = article
        for field in ARTICLE_FIELDS:
            if article[field] is not None:
                cited = [e for e in article["evidence"] if e["field"] == field]
                facts.append(Fact(f"GET {path}: {field}", cited))
        # A mention is its own evidence: a span of the body, checked below.
        facts += [
            Fact(f"GET {path}: mentions[{i}]", [{**m, "article_id": article["id"]}])
            for i, m in enumerate(article["mentions"])
        ]
    for item in await _every(client, "/v1/entities"):
        path = f"/v1/entities/{item['slug']}"
        entity = await _detail(client, path)
        if entity["description"] is not None:
            facts.append(Fact(f"GET {path}: description", entity["evidence"]))
        facts += _parts(f"GET {path}: aliases", entity["aliases"])
        # A relation is stated once, by its subject: the incoming side shows the same row.
        outgoing = [r for r in entity["relations"] if r["direction"] == "outgoing"]
        facts += _parts(f"GET {path}: relations", outgoing)
    for item in await _every(client, "/v1/events"):
        path = f"/v1/events/{item['slug']}"
        event = await _detail(client, path)
        facts.append(Fact(f"GET {path}", event["evidence"]))
        facts += _parts(f"GET {path}: participants", event["participants"])
        facts += _parts(f"GET {path}: disputes", event["disputes"])
    for item in await _every(client, "/v1/statements"):
        path = f"/v1/statements/{item['slug']}"
        facts.append(Fact(f"GET {path}", (await _detail(client, path))["evidence"]))
    for item in await _every(client, "/v1/disputes"):
        path = f"/v1/disputes/{item['slug']}"
        dispute = await _detail(client, path)
        facts.append(Fact(f"GET {path}", dispute["evidence"]))
        for part in ("parties", "territories", "names"):
            facts += _parts(f"GET {path}: {part}", dispute[part])
        timeline = await _every(client, f"{path}/timeline")
        facts += _parts(f"GET {path}/timeline: items", timeline, "link_evidence")
    return facts, articles


def _problem(item: dict[str, Any], articles: dict[str, dict[str, Any]]) -> str | None:
    """What is wrong with one piece of evidence, or None."""
    if item.get("editorial"):
        if item["start"] is not None or not (item["note"] or "").strip():
            return "editorial evidence must have a note and no span"
        return None
    body = articles[item["article_id"]]["body"]
    quote = item.get("quote", item.get("surface"))
    if quote is None or body[item["start"] : item["end"]] != quote:
        return f"{quote!r} is not the body's text at [{item['start']}, {item['end']})"
    return None


@pytest.mark.usefixtures("seeded")
async def test_every_fact_in_every_read_has_evidence_or_an_editorial_note(
    client: AsyncClient,
) -> None:
    facts, articles = await _facts(client)

    unsupported = [fact.where for fact in facts if not fact.evidence]
    wrong = [
        f"{fact.where}: {problem}"
        for fact in facts
        for item in fact.evidence
        if (problem := _problem(item, articles)) is not None
    ]
    assert unsupported == [], "\n".join(unsupported)
    assert wrong == []
    # The walk saw the seed: every kind of fact, not an empty database.
    kinds = {fact.where.split(":")[-1].split("[")[0].strip() for fact in facts}
    assert {"headline", "description", "aliases", "relations", "participants", "disputes"} <= kinds
    assert {"parties", "territories", "names", "items", "mentions"} <= kinds
    assert len(facts) > 200
