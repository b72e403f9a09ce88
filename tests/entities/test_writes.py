"""Writing entities: the request body is a seed entity, checked by the seed loader's code."""

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.auth import create_key
from db.enums import ApiKeyScope, EntityKind, ParticipantRole, StatementKind
from db.models import Article, Entity, EntityAlias, EntityRelation, Event, Evidence, Statement
from seeds.loader import SeedError, load_seeds
from tests.support.factories import (
    add_alias,
    add_participant,
    make_entity,
    make_event,
    make_statement,
)
from tests.support.writing import ARTICLE, BODY, count, problems, span


def islands(**changes: Any) -> dict[str, Any]:
    return {
        "slug": "southern-kuril-islands",
        "kind": "territory",
        "name": "Southern Kuril Islands",
        "description": "Four islands north of Hokkaido.",
        "external_ids": {"wikidata": "Q1849505"},
        "aliases": [
            {
                "name": "Northern Territories",
                "kind": "official",
                "used_by": "japan",
                "evidence": [{"quote": "Northern Territories", "article": ARTICLE}],
            },
            {"name": "Southern Kurils", "kind": "common", "used_by": "russia"},
        ],
        "relations": [
            {
                "kind": "administered_by",
                "object": "russia",
                "time": "1945/..",
                "evidence": [{"editorial": True, "note": "Common knowledge.", "article": ARTICLE}],
            }
        ],
        "evidence": [span("the islands")],
    } | changes


def cited(article: Article, quote: str) -> dict[str, Any]:
    """A span of the test article as the detail reads return it."""
    start = BODY.index(quote)
    return {
        "article_id": str(article.id),
        "start": start,
        "end": start + len(quote),
        "quote": quote,
        "editorial": False,
        "note": None,
        "field": None,
    }


def ref(body: dict[str, Any], slug: str, name: str) -> dict[str, Any]:
    return {"id": body["id"], "slug": slug, "kind": "country", "name": name}


async def test_create_needs_a_write_key(
    client: AsyncClient, reader: dict[str, str], call: Article
) -> None:
    anonymous = await client.post("/v1/entities", json=islands())
    read_only = await client.post("/v1/entities", json=islands(), headers=reader)

    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthorized"
    assert read_only.status_code == 403
    assert read_only.json()["code"] == "insufficient_scope"


async def test_create_returns_the_entity_with_location_and_etag(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    japan = (await client.get("/v1/entities/japan")).json()
    russia = (await client.get("/v1/entities/russia")).json()

    response = await client.post("/v1/entities", json=islands(), headers=writer)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/entities/{body['id']}"
    assert response.headers["etag"].startswith('"v1-')
    assert body == {
        "id": body["id"],
        "slug": "southern-kuril-islands",
        "kind": "territory",
        "name": "Southern Kuril Islands",
        "description": "Four islands north of Hokkaido.",
        "external_ids": {"wikidata": "Q1849505"},
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        # Each fact with the evidence it was written with, as the detail read returns it.
        "evidence": [cited(call, "the islands")],
        "aliases": [
            {
                "name": "Northern Territories",
                "language": "en",
                "kind": "official",
                "used_by": ref(japan, "japan", "Japan"),
                "evidence": [cited(call, "Northern Territories")],
            },
            {
                "name": "Southern Kurils",
                "language": "en",
                "kind": "common",
                "used_by": ref(russia, "russia", "Russia"),
                "evidence": [],
            },
        ],
        "relations": [
            {
                "kind": "administered_by",
                "direction": "outgoing",
                "role": None,
                "other": ref(russia, "russia", "Russia"),
                "time": {
                    "edtf": "1945/..",
                    "earliest": "1945-01-01",
                    "latest": None,
                    "precision": "year",
                },
                "evidence": [
                    {
                        "article_id": str(call.id),
                        "start": None,
                        "end": None,
                        "quote": None,
                        "editorial": True,
                        "note": "Common knowledge.",
                        "field": None,
                    }
                ],
            }
        ],
        "counts": {"articles": 0, "events": 0},
        "pov": None,
    }
    assert (await client.get(response.headers["location"])).json() == body
    # The evidence was located in the article, as the seed loader locates it.
    stored = await session.scalars(select(Evidence).order_by(Evidence.start_offset))
    assert [(e.start_offset, e.end_offset, e.quote, e.editorial) for e in stored] == [
        (BODY.index("Northern"), BODY.index(" belong"), "Northern Territories", False),
        (BODY.index("the islands"), BODY.index(" the Southern"), "the islands", False),
        (None, None, None, True),
    ]


def _alias(**changes: Any) -> dict[str, Any]:
    return islands(aliases=[{"name": "Northern Territories", "kind": "official"} | changes])


def _relation(**changes: Any) -> dict[str, Any]:
    return islands(relations=[{"kind": "administered_by", "object": "russia"} | changes])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            _alias(used_by="atlantis"),
            [("aliases.0.used_by", "unknown entity slug 'atlantis'")],
        ),
        (
            _relation(object="atlantis"),
            [("relations.0.object", "unknown entity slug 'atlantis'")],
        ),
        (
            _relation(time="2021-13-45"),
            [("relations.0.time", "not a valid EDTF date or interval: '2021-13-45'")],
        ),
        (
            islands(evidence=[{"quote": "Kishida visited Moscow", "article": ARTICLE}]),
            [
                (
                    "evidence.0.quote",
                    "in article 'kyodo-call': 'Kishida visited Moscow' does not occur in the "
                    "article body",
                )
            ],
        ),
        (
            islands(evidence=[{"quote": "Fumio Kishida", "start": 0, "end": 13}]),
            [
                (
                    "evidence.0",
                    "evidence names no article: add `article:` here or `cites:` at the top of "
                    "the file",
                )
            ],
        ),
        (
            islands(evidence=[{"quote": "Fumio Kishida", "start": 0, "end": 13, "article": "x"}]),
            [("evidence.0.article", "unknown article slug 'x'")],
        ),
        (
            islands(evidence=[span("Prime Minister") | {"quote": "Prime Ministry"}]),
            [
                (
                    "evidence.0.quote",
                    "in article 'kyodo-call': span [0, 14) covers 'Prime Minister', not "
                    "'Prime Ministry'",
                )
            ],
        ),
        (
            islands(kind="planet"),
            [
                (
                    "kind",
                    "Input should be 'person', 'organization', 'country', 'place', "
                    "'territory' or 'other'",
                )
            ],
        ),
        (islands(name="Kuril\x00Islands"), [("name", "must not contain NUL characters")]),
        (
            islands(name="K" * 301),
            [("name", "String should have at most 300 characters")],
        ),
        (
            islands(external_ids={"wikidata": "Q\x001"}),
            [("external_ids.wikidata", "must not contain NUL characters")],
        ),
        (
            _relation(object="southern-kuril-islands"),
            [("relations.0.object", "an entity cannot relate to itself")],
        ),
        # An editorial fact always says how it was derived, wherever the evidence sits.
        (
            islands(evidence=[{"editorial": True, "article": ARTICLE}]),
            [
                (
                    "evidence.0",
                    "editorial evidence needs a `note` saying how it was derived",
                )
            ],
        ),
        (
            _relation(evidence=[{"editorial": True, "note": "  ", "article": ARTICLE}]),
            [("relations.0.evidence.0.note", "must not be blank")],
        ),
    ],
)
async def test_the_seed_checks_refuse_bad_input_naming_the_field(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    call: Article,
    body: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = await client.post("/v1/entities", json=body, headers=writer)

    assert problems(response) == expected
    assert await count(session, Entity) == 2


async def test_the_loader_and_the_api_reject_the_same_input_with_the_same_messages(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    call: Article,
    tmp_path: Path,
) -> None:
    path = tmp_path / "islands.yaml"
    path.write_text(
        "entities:\n"
        "  - slug: southern-kuril-islands\n"
        "    kind: territory\n"
        "    name: Southern Kuril Islands\n"
        "    aliases: [{name: Northern Territories, kind: official, used_by: atlantis}]\n"
        "    relations: [{kind: administered_by, object: russia, time: '2021-13-45'}]\n",
        encoding="utf-8",
    )
    body = islands(
        aliases=[{"name": "Northern Territories", "kind": "official", "used_by": "atlantis"}],
        relations=[{"kind": "administered_by", "object": "russia", "time": "2021-13-45"}],
        evidence=[],
    )
    with pytest.raises(SeedError) as schema_error:
        await load_seeds(session, [path])
    edtf_response = await client.post("/v1/entities", json=body, headers=writer)
    path.write_text(path.read_text().replace("2021-13-45", "1945/.."), encoding="utf-8")
    with pytest.raises(SeedError) as plan_error:
        await load_seeds(session, [path])
    slug_response = await client.post("/v1/entities", json=_relation_fixed(body), headers=writer)

    assert [(p.path, p.message) for p in schema_error.value.problems] == [
        ("entities[0].relations[0].time", "not a valid EDTF date or interval: '2021-13-45'")
    ]
    assert problems(edtf_response) == [
        ("relations.0.time", "not a valid EDTF date or interval: '2021-13-45'")
    ]
    assert [(p.path, p.message) for p in plan_error.value.problems] == [
        ("entities[0].aliases[0].used_by", "unknown entity slug 'atlantis'")
    ]
    assert problems(slug_response) == [("aliases.0.used_by", "unknown entity slug 'atlantis'")]


def _relation_fixed(body: dict[str, Any]) -> dict[str, Any]:
    return body | {
        "relations": [{"kind": "administered_by", "object": "russia", "time": "1945/.."}]
    }


async def test_a_duplicate_slug_is_409(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    japan = await session.scalar(select(Entity).where(Entity.slug == "japan"))
    assert japan is not None

    response = await client.post(
        "/v1/entities", json={"slug": "japan", "kind": "country", "name": "Nippon"}, headers=writer
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["existing"] == f"/v1/entities/{japan.id}"
    await session.refresh(japan)
    assert (japan.name, japan.version) == ("Japan", 1)


async def test_patch_needs_if_match_refuses_a_stale_one_and_replaces_aliases(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    created = await client.post("/v1/entities", json=islands(), headers=writer)
    etag = created.headers["etag"]
    url = created.headers["location"]
    change = {
        "name": "Kuril Islands (south)",
        "aliases": [{"name": "Southern Kurils", "kind": "official", "used_by": "russia"}],
    }

    missing = await client.patch(url, json=change, headers=writer)
    updated = await client.patch(url, json=change, headers=writer | {"If-Match": etag})
    stale = await client.patch(url, json={"name": "X"}, headers=writer | {"If-Match": etag})

    assert missing.status_code == 428
    assert missing.json()["code"] == "precondition_required"
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["version"]) == ("Kuril Islands (south)", 2)
    assert updated.headers["etag"].startswith('"v2-')
    assert [(a["name"], a["kind"], a["used_by"]["slug"]) for a in body["aliases"]] == [
        ("Southern Kurils", "official", "russia")
    ]
    assert [r["kind"] for r in body["relations"]] == ["administered_by"]  # not sent: kept
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    # The dropped alias and its evidence are gone; the entity's own evidence is kept.
    assert await count(session, EntityAlias) == 1
    assert (
        await session.scalar(
            select(func.count()).select_from(Evidence).where(Evidence.entity_alias_id.is_not(None))
        )
        == 0
    )
    assert (
        await session.scalar(
            select(func.count()).select_from(Evidence).where(Evidence.entity_id.is_not(None))
        )
        == 1
    )


async def test_patch_checks_what_it_changes_like_create(
    client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    created = await client.post("/v1/entities", json=islands(), headers=writer)
    headers = writer | {"If-Match": created.headers["etag"]}

    unknown = await client.patch(
        "/v1/entities/southern-kuril-islands",
        json={"relations": [{"kind": "claimed_by", "object": "atlantis"}]},
        headers=headers,
    )
    nulled = await client.patch(
        "/v1/entities/southern-kuril-islands", json={"name": None}, headers=headers
    )
    taken = await client.patch(
        "/v1/entities/southern-kuril-islands", json={"slug": "japan"}, headers=headers
    )
    renamed = await client.patch(
        "/v1/entities/southern-kuril-islands", json={"slug": "kurils"}, headers=headers
    )

    assert problems(unknown) == [("relations.0.object", "unknown entity slug 'atlantis'")]
    assert problems(nulled) == [("name", "Input should be a valid string")]
    assert taken.status_code == 409
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["id"], renamed.json()["slug"]) == (created.json()["id"], "kurils")
    assert len(renamed.json()["aliases"]) == 2


async def test_delete_is_refused_while_referenced_then_cascades(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    admin: dict[str, str],
    call: Article,
) -> None:
    kishida = await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    japan = await session.scalar(select(Entity).where(Entity.slug == "japan"))
    assert japan is not None
    talks = await make_event(session, "phone-talks", "2021-10-07", location=japan)
    await add_participant(session, talks, kishida, ParticipantRole.ACTOR)
    await make_statement(
        session, "kishida-says", kishida, "The islands are Japan's.", kind=StatementKind.PARAPHRASE
    )
    await add_alias(session, kishida, "Kishida", used_by=japan)
    read = await client.get("/v1/entities/fumio-kishida")
    headers = writer | {"If-Match": read.headers["etag"]}
    japan_read = await client.get("/v1/entities/japan")

    refused = await client.delete("/v1/entities/fumio-kishida", headers=headers)
    refused_japan = await client.delete(
        "/v1/entities/japan", headers=writer | {"If-Match": japan_read.headers["etag"]}
    )
    deleted = await client.delete(
        "/v1/entities/fumio-kishida?cascade=true",
        headers=admin | {"If-Match": read.headers["etag"]},
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "still_referenced"
    assert refused.json()["detail"].startswith(
        "The entity is still referred to by 1 event participants, 1 statements it made;"
    )
    assert refused_japan.status_code == 409
    assert "1 event locations, 1 aliases of other entities" in refused_japan.json()["detail"]
    assert deleted.status_code == 204
    assert (await client.get("/v1/entities/fumio-kishida")).status_code == 404
    assert await count(session, Statement) == 0
    assert await count(session, EntityAlias) == 0
    assert await count(session, Event) == 1  # the event stays, without Kishida
    assert (await client.get("/v1/events/phone-talks")).json()["participants"] == []


async def test_delete_with_cascade_clears_optional_references(
    session: AsyncSession,
    client: AsyncClient,
    writer: dict[str, str],
    admin: dict[str, str],
    call: Article,
) -> None:
    await client.post("/v1/entities", json=islands(), headers=writer)
    russia = await client.get("/v1/entities/russia")

    deleted = await client.delete(
        "/v1/entities/russia?cascade=true", headers=admin | {"If-Match": russia.headers["etag"]}
    )

    assert deleted.status_code == 204
    body = (await client.get("/v1/entities/southern-kuril-islands")).json()
    assert [(a["name"], a["used_by"]) for a in body["aliases"]] == [
        ("Northern Territories", ref(body["aliases"][0]["used_by"], "japan", "Japan")),
        ("Southern Kurils", None),
    ]
    assert body["relations"] == []
    assert await count(session, EntityRelation) == 0


async def test_a_retried_create_is_replayed_and_creates_nothing(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    headers = writer | {"Idempotency-Key": "islands-1"}

    first = await client.post("/v1/entities", json=islands(), headers=headers)
    retry = await client.post("/v1/entities", json=islands(), headers=headers)
    other = await client.post("/v1/entities", json=islands(name="Other"), headers=headers)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert await count(session, Entity) == 3


async def test_patch_replaces_the_evidence_when_sent(
    session: AsyncSession, client: AsyncClient, writer: dict[str, str], call: Article
) -> None:
    created = await client.post("/v1/entities", json=islands(), headers=writer)

    updated = await client.patch(
        created.headers["location"],
        json={"evidence": [span("Southern Kurils")]},
        headers=writer | {"If-Match": created.headers["etag"]},
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    quotes = await session.scalars(
        select(Evidence.quote).where(Evidence.entity_id.is_not(None)).order_by(Evidence.quote)
    )
    assert list(quotes) == ["Southern Kurils"]


async def test_arrays_and_long_texts_are_bounded(
    client: AsyncClient, session: AsyncSession
) -> None:
    _, key = await create_key(session, name="bounds", scopes=[ApiKeyScope.WRITE])
    headers = {"Authorization": f"Bearer {key}"}
    many_aliases = [{"name": f"Alias {n}", "kind": "common"} for n in range(201)]
    base = {"slug": "bounded", "kind": "country", "name": "Bounded"}

    too_many = await client.post(
        "/v1/entities", json=base | {"aliases": many_aliases}, headers=headers
    )
    too_long = await client.post(
        "/v1/entities", json=base | {"description": "x" * 20_001}, headers=headers
    )

    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "aliases"
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "description"
