import re

from httpx import AsyncClient


async def test_docs_page_loads_its_assets_from_this_server(client: AsyncClient) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    assert assets  # the stylesheet, script and icon
    for asset in assets:
        assert asset.startswith("/docs/assets/"), f"{asset} would need the internet"
        response = await client.get(asset)
        assert response.status_code == 200, asset
    assert "url: '/openapi.json'" in page.text


async def test_openapi_document_is_served(client: AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")
