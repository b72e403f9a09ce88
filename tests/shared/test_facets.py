"""Facets (`/v1/{events,articles,statements,disputes}/facets`): the values a list's items hold
most, each count under every filter but the facet's own, which is exactly what that value
selects in the list."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from seeds.files import default_seed_paths
from seeds.loader import load_seeds

KURILS = "kuril-islands-dispute"


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)


async def _get(client: AsyncClient, path: str, params: Any = None) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _total(client: AsyncClient, path: str, params: list[tuple[str, str]]) -> int:
    return int((await _get(client, path, [*params, ("count", "exact"), ("limit", "1")]))["total"])


# Per list: each facet, the filter it maps to, and whether that filter's repeated values must
# all hold (kept when counting) or the filter takes one value or alternatives (left out).
FACETS: dict[str, dict[str, tuple[str, bool]]] = {
    "/v1/events": {
        "type": ("type", False),
        "mode": ("mode", False),
        "context": ("context", True),
        "modality": ("modality", False),
        "participant": ("participant", True),
        "location": ("location", False),
        "dispute": ("dispute", False),
    },
    "/v1/articles": {
        "source": ("source", False),
        "language": ("language", False),
        "entity": ("entity", True),
        "event": ("event", False),
        "dispute": ("dispute", False),
    },
    "/v1/statements": {"speaker": ("speaker", False), "kind": ("kind", False)},
    "/v1/disputes": {
        "kind": ("kind", False),
        "status": ("status", False),
        "party": ("party", True),
        "territory": ("territory", False),
    },
}

CASES = {
    "/v1/events": [[], [("participant", "japan")], [("dispute", KURILS), ("type", "CONSULT")]],
    "/v1/articles": [[], [("entity", "japan")], [("dispute", KURILS)]],
    "/v1/statements": [[], [("speaker", "vladimir-putin")], [("from", "2021-10"), ("to", "2021")]],
    "/v1/disputes": [[], [("party", "japan")], [("kind", "territorial")]],
}


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", list(FACETS))
async def test_each_count_is_what_the_value_selects_in_the_list(
    client: AsyncClient, path: str
) -> None:
    for filters in CASES[path]:
        answer = await _get(client, f"{path}/facets", [*filters, ("limit", "100")])
        assert answer["total"] == await _total(client, path, filters)
        assert [facet["field"] for facet in answer["facets"]] == list(FACETS[path])
        for facet in answer["facets"]:
            parameter, all_must_hold = FACETS[path][facet["field"]]
            others = [(name, value) for name, value in filters if name != parameter]
            counted_under = filters if all_must_hold else others
            assert facet["more"] is False
            counts = [value["count"] for value in facet["values"]]
            assert counts == sorted(counts, reverse=True)
            for value in facet["values"]:
                selected = [*counted_under, (parameter, value["slug"])]
                assert value["count"] == await _total(client, path, selected), (
                    path,
                    filters,
                    facet["field"],
                    value,
                )


@pytest.mark.usefixtures("seeded")
async def test_one_valued_facets_cover_every_item_under_the_other_filters(
    client: AsyncClient,
) -> None:
    """Every event has one type: the type facet's counts add up to the events the other
    filters keep, whatever type is picked."""
    answer = await _get(
        client,
        "/v1/events/facets",
        [("field", "type"), ("type", "CONSULT"), ("dispute", KURILS), ("limit", "100")],
    )

    [facet] = answer["facets"]
    assert sum(v["count"] for v in facet["values"]) == await _total(
        client, "/v1/events", [("dispute", KURILS)]
    )
    assert answer["total"] == await _total(
        client, "/v1/events", [("dispute", KURILS), ("type", "CONSULT")]
    )


@pytest.mark.usefixtures("seeded")
async def test_values_have_id_slug_and_name(client: AsyncClient) -> None:
    answer = await _get(client, "/v1/events/facets", [("field", "type"), ("field", "participant")])

    types, participants = answer["facets"]
    consult = next(v for v in types["values"] if v["slug"] == "CONSULT")
    assert consult["id"] == "CONSULT"
    assert consult["name"] == "Consult"
    japan = next(v for v in participants["values"] if v["slug"] == "japan")
    assert japan["name"] == "Japan"
    entity = await _get(client, "/v1/entities/japan")
    assert japan["id"] == entity["id"]


@pytest.mark.usefixtures("seeded")
async def test_pov_names_entity_values_as_that_party_does(client: AsyncClient) -> None:
    canonical = await _get(client, "/v1/disputes/facets", [("field", "territory")])
    japanese = await _get(client, "/v1/disputes/facets", [("field", "territory"), ("pov", "japan")])

    names = {v["slug"]: v["name"] for v in canonical["facets"][0]["values"]}
    by_japan = {v["slug"]: v["name"] for v in japanese["facets"][0]["values"]}
    assert names["disputed-kuril-islands"] == "Disputed Kuril Islands"
    assert by_japan["disputed-kuril-islands"] == "Northern Territories"
    assert japanese["pov"]["slug"] == "japan"
    assert canonical["pov"] is None


@pytest.mark.usefixtures("seeded")
async def test_limit_bounds_each_facet_and_says_more(client: AsyncClient) -> None:
    everything = await _get(
        client, "/v1/events/facets", [("field", "participant"), ("limit", "100")]
    )
    top = await _get(client, "/v1/events/facets", [("field", "participant"), ("limit", "2")])

    values = everything["facets"][0]["values"]
    assert len(values) > 2
    assert top["facets"][0]["values"] == values[:2]
    assert top["facets"][0]["more"] is True


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (
            "/v1/events",
            ["type", "mode", "context", "modality", "participant", "location", "dispute"],
        ),
        ("/v1/articles", ["source", "language", "entity", "event", "dispute"]),
        ("/v1/statements", ["speaker", "kind"]),
        ("/v1/disputes", ["kind", "status", "party", "territory"]),
    ],
)
async def test_an_unknown_field_is_a_400_naming_the_allowed_ones(
    client: AsyncClient, path: str, allowed: list[str]
) -> None:
    response = await client.get(f"{path}/facets", params={"field": "colour"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "validation_error"
    [error] = problem["errors"]
    assert error["field"] == "field.0"  # the first value, as for every repeatable parameter
    for name in allowed:
        assert f"'{name}'" in error["message"]


@pytest.mark.parametrize("limit", ["0", "101"])
async def test_a_limit_out_of_range_is_a_400(client: AsyncClient, limit: str) -> None:
    response = await client.get("/v1/articles/facets", params={"limit": limit})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "limit"


async def test_cursor_and_count_are_unknown_here(client: AsyncClient) -> None:
    response = await client.get("/v1/disputes/facets", params={"cursor": "x", "count": "exact"})

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_parameter"


@pytest.mark.usefixtures("seeded")
async def test_facets_are_cached_like_other_reads(client: AsyncClient) -> None:
    first = await client.get("/v1/statements/facets")
    assert first.status_code == 200

    again = await client.get(
        "/v1/statements/facets", headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("filters", CASES["/v1/articles"] + [[("language", "en")]])
async def test_article_facets_asked_together_are_each_as_asked_alone(
    client: AsyncClient, filters: list[tuple[str, str]]
) -> None:
    """Article facets that count under the same filters come from one statement, those with
    their own filter left out from another: together, in any order, each is what it is when
    asked alone, and the total is the list's."""
    fields = list(reversed(FACETS["/v1/articles"]))
    together = await _get(
        client,
        "/v1/articles/facets",
        [*filters, *(("field", field) for field in fields), ("limit", "2")],
    )
    assert [facet["field"] for facet in together["facets"]] == fields
    assert together["total"] == await _total(client, "/v1/articles", filters)
    for facet in together["facets"]:
        alone = await _get(
            client, "/v1/articles/facets", [*filters, ("field", facet["field"]), ("limit", "2")]
        )
        assert alone["facets"] == [facet]
        assert alone["total"] == together["total"]
    assert any(facet["values"] for facet in together["facets"])
