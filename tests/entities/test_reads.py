import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AliasKind, EntityKind, RelationKind, TimePrecision
from db.models import EntityAlias, EntityRelation
from tests.support.factories import make_entity


@pytest.fixture
async def islands(session: AsyncSession) -> None:
    japan = await make_entity(session, "japan", "Japan")
    japan.external_ids = {"wikidata": "Q17"}
    russia = await make_entity(session, "russia", "Russia")
    group = await make_entity(
        session, "kuril-islands", "Southern Kuril Islands", EntityKind.TERRITORY
    )
    await make_entity(session, "habomai-islands", "Habomai Islands", EntityKind.TERRITORY)
    await make_entity(session, "fumio-kishida", "Fumio Kishida", EntityKind.PERSON)
    await make_entity(session, "etorofu", "Étorofu", EntityKind.TERRITORY)
    session.add_all(
        [
            EntityAlias(
                entity_id=group.id,
                name="Northern Territories",
                language="en",
                kind=AliasKind.COMMON,
                used_by_id=japan.id,
            ),
            EntityAlias(
                entity_id=group.id,
                name="Southern Kurils",
                language="en",
                kind=AliasKind.COMMON,
                used_by_id=russia.id,
            ),
            EntityRelation(
                subject_id=group.id,
                kind=RelationKind.ADMINISTERED_BY,
                object_id=russia.id,
                time_edtf="1945/..",
                time_earliest=__import__("datetime").date(1945, 1, 1),
                time_precision=TimePrecision.YEAR,
            ),
        ]
    )
    await session.flush()


async def _search(client: AsyncClient, q: str) -> list[str]:
    response = await client.get("/v1/entities", params={"q": q})
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


@pytest.mark.usefixtures("islands")
@pytest.mark.parametrize(
    ("q", "best"),
    [
        ("kurils", "kuril-islands"),
        ("Northern Terr", "kuril-islands"),
        ("habomai", "habomai-islands"),
        ("Kishida Fumio", "fumio-kishida"),
        ("Kishda", "fumio-kishida"),
        ("etorofu", "etorofu"),
        ("ÉTOROFU", "etorofu"),
    ],
)
async def test_search_finds_names_aliases_accents_and_typos(
    client: AsyncClient, q: str, best: str
) -> None:
    assert (await _search(client, q))[0] == best


@pytest.mark.usefixtures("islands")
async def test_search_text_with_like_and_tsquery_characters_is_literal(client: AsyncClient) -> None:
    for q in ["%", "_", "'", "\\", "a & b | !c", "%_%"]:
        response = await client.get("/v1/entities", params={"q": q})
        assert response.status_code == 200, (q, response.text)
        assert response.json()["items"] == [], q


@pytest.mark.usefixtures("islands")
async def test_filters_by_kind_and_wikidata(client: AsyncClient) -> None:
    territories = await client.get("/v1/entities", params={"kind": "territory"})
    by_qid = await client.get("/v1/entities", params={"wikidata": "Q17"})
    bad_qid = await client.get("/v1/entities", params={"wikidata": "17"})
    bad_kind = await client.get("/v1/entities", params={"kind": "planet"})

    assert [e["slug"] for e in territories.json()["items"]] == [
        "etorofu",
        "habomai-islands",
        "kuril-islands",
    ]
    assert [e["slug"] for e in by_qid.json()["items"]] == ["japan"]
    assert bad_qid.status_code == 400
    assert bad_kind.status_code == 400
    assert bad_kind.json()["errors"][0]["field"] == "kind"


@pytest.mark.usefixtures("islands")
async def test_entity_detail_has_aliases_with_used_by_relations_and_counts(
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/entities/kuril-islands")

    assert response.status_code == 200
    body = response.json()
    assert [(a["name"], a["used_by"]["slug"]) for a in body["aliases"]] == [
        ("Northern Territories", "japan"),
        ("Southern Kurils", "russia"),
    ]
    assert body["relations"] == [
        {
            "kind": "administered_by",
            "direction": "outgoing",
            "role": None,
            "other": {
                "id": body["relations"][0]["other"]["id"],
                "slug": "russia",
                "kind": "country",
                "name": "Russia",
            },
            "time": {
                "edtf": "1945/..",
                "earliest": "1945-01-01",
                "latest": None,
                "precision": "year",
            },
            "evidence": [],
        }
    ]
    assert body["counts"] == {"articles": 0, "events": 0}
    russia = (await client.get("/v1/entities/russia")).json()
    assert russia["relations"][0]["direction"] == "incoming"
    assert russia["relations"][0]["other"]["slug"] == "kuril-islands"


async def test_missing_entity_is_a_404(client: AsyncClient) -> None:
    response = await client.get("/v1/entities/atlantis")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_search_pages_walk_the_matches_best_first_without_gaps(
    session: AsyncSession, client: AsyncClient
) -> None:
    """Each page is cut from the matches before their entities are read: paged by two, the
    matches come in the order of one long page, none twice, none left out."""
    names = [
        "Fort",
        "Fort William",
        "Old Fort Road",
        "Fortaleza",
        "Fort Worth Bay",
        "Fortuna Heights",
        "New Fortress",
        "Fortitude Valley",
    ]
    for number, name in enumerate(names):
        await make_entity(session, f"fort-{number}", name, EntityKind.PLACE)
    await make_entity(session, "elsewhere", "Elsewhere")

    whole = await client.get("/v1/entities", params={"q": "fort", "limit": 100})
    expected = [item["slug"] for item in whole.json()["items"]]
    paged: list[str] = []
    params: dict[str, str | int] = {"q": "fort", "limit": 2}
    for _ in range(len(expected)):  # bounded: a wrong cursor must not loop forever
        page = (await client.get("/v1/entities", params=params)).json()
        paged += [item["slug"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert len(expected) >= 7
    assert "elsewhere" not in expected
    assert set(expected[:2]) <= {"fort-0", "fort-1", "fort-2", "fort-4"}  # whole words first
    assert paged == expected
