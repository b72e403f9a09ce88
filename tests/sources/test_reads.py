from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.factories import make_source


async def test_sources_list_by_name_and_filter_by_kind(
    session: AsyncSession, client: AsyncClient
) -> None:
    kyodo = await make_source(session, "kyodo", "Kyodo")
    await make_source(session, "asahi", "Asahi Shimbun")

    everything = await client.get("/v1/sources")
    agencies = await client.get("/v1/sources", params={"kind": "news_agency"})
    one = await client.get("/v1/sources/kyodo")

    assert [s["slug"] for s in everything.json()["items"]] == ["asahi", "kyodo"]
    assert len(agencies.json()["items"]) == 2
    assert one.json()["id"] == str(kyodo.id)
    assert one.json()["kind"] == "news_agency"


async def test_sources_page_through_with_cursor(session: AsyncSession, client: AsyncClient) -> None:
    for n in range(5):
        await make_source(session, f"s-{n}", f"Source {n}")

    first = (await client.get("/v1/sources", params={"limit": 2})).json()
    second = (
        await client.get("/v1/sources", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()

    assert [s["slug"] for s in first["items"] + second["items"]] == ["s-0", "s-1", "s-2", "s-3"]


async def test_missing_source_is_a_404(client: AsyncClient) -> None:
    response = await client.get("/v1/sources/nobody")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
