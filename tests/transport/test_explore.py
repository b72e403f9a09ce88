"""The explorer's files as the app serves them: one page with a policy that allows this server's
scripts and nothing inline, ES modules that all load from here, nothing from anywhere else."""

import re

from httpx import AsyncClient


def _policy(header: str) -> dict[str, str]:
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


async def test_the_explorer_page_loads_only_this_servers_files(client: AsyncClient) -> None:
    page = await client.get("/explore")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    assert "/explore/assets/main.js" in assets
    assert "/explore/assets/explorer.css" in assets
    for asset in assets:
        if asset.startswith(("#", "data:", "/docs")):
            continue
        assert asset.startswith("/explore/assets/"), f"{asset} would need the internet"
        response = await client.get(asset)
        assert response.status_code == 200, asset


async def test_the_explorer_page_allows_its_own_modules_and_nothing_inline(
    client: AsyncClient,
) -> None:
    page = await client.get("/explore")

    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    policy = _policy(page.headers["content-security-policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"  # the API and its change stream
    assert policy["frame-ancestors"] == "'none'"
    # Nothing the policy would refuse: no inline script, handler or style.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == []
    assert not re.search(r"\son[a-z]+=", page.text)
    assert not re.search(r"\sstyle=", page.text)


async def test_every_module_the_page_imports_is_served_as_javascript(client: AsyncClient) -> None:
    seen: set[str] = set()
    waiting = ["main.js"]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        response = await client.get(f"/explore/assets/{name}")
        assert response.status_code == 200, name
        # Browsers refuse a module of any other type (nosniff is sent).
        assert response.headers["content-type"].startswith("text/javascript"), name
        assert response.headers["x-content-type-options"] == "nosniff"
        imports = re.findall(r'^import [^;]*? from "\./([\w-]+\.js)";', response.text, re.M | re.S)
        assert all("http" not in line for line in re.findall(r"^import .*$", response.text, re.M))
        waiting.extend(imports)

    assert seen == {"main.js", "client.js", "dom.js", "views.js", "live.js", "timeline.js"}
    stylesheet = await client.get("/explore/assets/explorer.css")
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "@import" not in stylesheet.text
    assert "url(" not in stylesheet.text


async def test_the_explorer_is_not_part_of_the_api_contract(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert not [path for path in document["paths"] if path.startswith("/explore")]
    assert (await client.get("/explore/assets/nowhere.js")).status_code == 404
    assert (await client.get("/explore/assets/../../main.py")).status_code == 404
