from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.enums import AliasKind, EntityKind
from tests.support.database import counting_statements
from tests.support.dispute_factories import Kurils, add_kuril_timeline, make_kurils
from tests.support.factories import add_alias, add_part_of, add_territory, make_entity


@pytest.fixture
async def kurils(session: AsyncSession) -> Kurils:
    return await make_kurils(session)


def _ref(entity: Any, name: str | None = None) -> dict[str, str]:
    return {
        "id": str(entity.id),
        "slug": entity.slug,
        "kind": entity.kind,
        "name": name or entity.name,
    }


async def _dispute(client: AsyncClient, pov: str) -> dict[str, Any]:
    response = await client.get("/v1/disputes/kuril-islands-dispute", params={"pov": pov})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_dispute_from_japans_point_of_view(client: AsyncClient, kurils: Kurils) -> None:
    k = kurils
    body = await _dispute(client, "japan")

    assert body["pov"] == _ref(k.japan)
    assert [t["entity"] for t in body["territories"]] == [
        # Japan has no name of its own for the Habomai Islands: the canonical one.
        _ref(k.habomai),
        # Nor an English one for Shikotan: the canonical name, not Japanese script.
        _ref(k.shikotan),
        _ref(k.islands, "Northern Territories"),
    ]
    assert [p["entity"] for p in body["parties"]] == [_ref(k.japan), _ref(k.russia)]
    assert {t["administered_by"]["name"] for t in body["territories"]} == {"Russia"}
    assert [(n["entity"]["name"], n["name"], n["used_by"]["slug"]) for n in body["names"]] == [
        ("Shikotan", "色丹島", "japan"),
        ("Northern Territories", "Northern Territories", "japan"),
        ("Northern Territories", "北方領土", "japan"),
    ]


async def test_dispute_from_russias_point_of_view(client: AsyncClient, kurils: Kurils) -> None:
    k = kurils
    by_slug = await _dispute(client, "russia")
    by_id = await _dispute(client, str(k.russia.id))

    assert by_id == by_slug
    assert by_slug["pov"] == _ref(k.russia)
    assert [t["entity"]["name"] for t in by_slug["territories"]] == [
        "Habomai Islands",
        "Shikotan",
        "Southern Kurils",
    ]
    assert [(n["name"], n["language"]) for n in by_slug["names"]] == [
        ("Southern Kurils", "en"),
        ("Южные Курилы", "ru"),
    ]


async def test_timeline_from_each_point_of_view(
    session: AsyncSession, client: AsyncClient, kurils: Kurils
) -> None:
    await add_kuril_timeline(session, kurils)
    path = "/v1/disputes/kuril-islands-dispute/timeline"

    canonical = (await client.get(path)).json()
    japan = (await client.get(path, params={"pov": "japan"})).json()
    russia = (await client.get(path, params={"pov": "russia"})).json()

    def seizure_names(body: dict[str, Any]) -> list[str]:
        seizure = body["items"][1]
        assert seizure["slug"] == "soviet-seizure-of-the-islands"
        return [seizure["location"]["name"]] + [
            p["entity"]["name"] for p in seizure["participants"]
        ]

    assert seizure_names(canonical) == [
        "Southern Kuril Islands",
        "Soviet Union",
        "Japan",
        "Southern Kuril Islands",
    ]
    assert seizure_names(japan) == [
        "Northern Territories",
        "Soviet Union",
        "Japan",
        "Northern Territories",
    ]
    assert seizure_names(russia) == [
        "Southern Kurils",
        "Soviet Union",
        "Japan",
        "Southern Kurils",
    ]
    assert (canonical["pov"], japan["pov"], russia["pov"]) == (
        None,
        _ref(kurils.japan),
        _ref(kurils.russia),
    )
    assert [e["slug"] for e in japan["items"]] == [e["slug"] for e in canonical["items"]]


async def test_entity_read_from_each_point_of_view(client: AsyncClient, kurils: Kurils) -> None:
    canonical = (await client.get("/v1/entities/southern-kuril-islands")).json()
    japan = await client.get("/v1/entities/southern-kuril-islands", params={"pov": "japan"})
    russia = await client.get("/v1/entities/southern-kuril-islands", params={"pov": "russia"})
    island = await client.get("/v1/entities/shikotan", params={"pov": "russia"})

    assert (canonical["name"], canonical["pov"]) == ("Southern Kuril Islands", None)
    assert japan.status_code == 200
    assert (japan.json()["name"], japan.json()["pov"]) == (
        "Northern Territories",
        _ref(kurils.japan),
    )
    assert (russia.json()["name"], russia.json()["pov"]) == (
        "Southern Kurils",
        _ref(kurils.russia),
    )
    # The aliases are the entity's other names, whatever the point of view.
    assert japan.json()["aliases"] == canonical["aliases"]
    assert japan.headers["etag"] != russia.headers["etag"]
    # Russia has no name for Shikotan: canonical; the group it is part of: Russia's name.
    assert island.json()["name"] == "Shikotan"
    assert [(r["kind"], r["other"]["name"]) for r in island.json()["relations"]] == [
        ("part_of", "Southern Kurils")
    ]


async def test_a_partys_name_is_english_official_before_common(
    session: AsyncSession, client: AsyncClient
) -> None:
    japan = await make_entity(session, "japan", "Japan")
    kunashir = await make_entity(session, "kunashir", "Kunashir", EntityKind.TERRITORY)
    iturup = await make_entity(session, "iturup", "Iturup", EntityKind.TERRITORY)
    habomai = await make_entity(session, "habomai", "Habomai Islands", EntityKind.TERRITORY)
    tokyo = await make_entity(session, "tokyo", "Tokyo", EntityKind.PLACE)
    await add_alias(
        session, kunashir, "国後島", used_by=japan, language="ja", kind=AliasKind.OFFICIAL
    )
    await add_alias(session, kunashir, "Kunashiri Island", used_by=japan)
    await add_alias(session, kunashir, "Kunashiri", used_by=japan, kind=AliasKind.OFFICIAL)
    await add_alias(
        session, iturup, "択捉島", used_by=japan, language="ja", kind=AliasKind.OFFICIAL
    )
    await add_alias(session, iturup, "Etorofu", used_by=japan, language="en-GB")
    await add_alias(session, iturup, "Iturup", used_by=None, kind=AliasKind.OFFICIAL)
    # Neither a former name nor a metonym is what the party calls the place today.
    await add_alias(session, habomai, "Habomai-gunto", used_by=japan, kind=AliasKind.FORMER)
    await add_alias(session, tokyo, "Edo", used_by=japan, kind=AliasKind.FORMER)
    await add_alias(session, habomai, "Nemuro", used_by=japan, kind=AliasKind.METONYM)

    async def name(slug: str) -> str:
        response = await client.get(f"/v1/entities/{slug}", params={"pov": "japan"})
        assert response.status_code == 200
        value: str = response.json()["name"]
        return value

    assert await name("kunashir") == "Kunashiri"
    assert await name("iturup") == "Etorofu"
    assert await name("habomai") == "Habomai Islands"
    assert await name("tokyo") == "Tokyo"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/disputes/kuril-islands-dispute",
        "/v1/disputes/kuril-islands-dispute/timeline",
        "/v1/entities/southern-kuril-islands",
    ],
)
@pytest.mark.usefixtures("kurils")
async def test_an_unknown_point_of_view_is_a_400(client: AsyncClient, path: str) -> None:
    response = await client.get(path, params={"pov": "atlantis"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "unknown_reference"
    assert problem["detail"] == "pov: nothing has the id or slug 'atlantis'."
    assert [e["field"] for e in problem["errors"]] == ["pov"]


async def test_point_of_view_names_take_the_same_queries_for_any_number_of_territories(
    session: AsyncSession, engine: AsyncEngine, client: AsyncClient, kurils: Kurils
) -> None:
    path = "/v1/disputes/kuril-islands-dispute"
    with counting_statements(engine) as three_territories:
        assert (await client.get(path, params={"pov": "japan"})).status_code == 200
    for slug, name in [("iturup", "Iturup"), ("kunashir", "Kunashir")]:
        island = await make_entity(session, slug, name, EntityKind.TERRITORY)
        await add_part_of(session, island, kurils.islands)
        await add_alias(session, island, f"{name} (Japan)", used_by=kurils.japan)
        await add_territory(
            session,
            kurils.dispute,
            island,
            administered_by=kurils.russia,
            claimed_by=kurils.japan,
        )

    with counting_statements(engine) as five_territories:
        body = (await client.get(path, params={"pov": "japan"})).json()

    assert [t["entity"]["name"] for t in body["territories"]] == [
        "Habomai Islands",
        "Iturup (Japan)",
        "Kunashir (Japan)",
        "Shikotan",
        "Northern Territories",
    ]
    assert len(five_territories) == len(three_territories)
