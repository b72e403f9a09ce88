"""Deny by default: every write route of the app, found by walking its routes, refuses a
request without a key (401) and one with a read-only key (403), and changes nothing."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.auth import create_key
from db.enums import ApiKeyScope
from db.models import Source
from tests.support.factories import make_source

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every write operation. Walked through the app's OpenAPI document, which FastAPI builds
    from every route (only /docs is left out of it, and it is a GET)."""
    routes = []
    for template, operations in app.openapi()["paths"].items():
        for method in operations:
            if method.upper() in WRITE_METHODS:
                # Any value fills a path parameter (a UUID where only one routes): the key is
                # checked before the lookup.
                path = template.replace("{mention}", "00000000-0000-4000-8000-000000000001")
                path = path.replace("{", "").replace("}", "")
                routes.append((method.upper(), path))
    return routes


async def test_every_write_route_needs_a_write_key(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    await make_source(session)
    _, read_key = await create_key(session, name="reader", scopes=[ApiKeyScope.READ])
    routes = _write_routes(app)

    assert len(routes) >= 19  # create, update, delete of six resources; mention rescan
    for method, path in routes:
        anonymous = await client.request(method, path, json={}, headers={"If-Match": "*"})
        read_only = await client.request(
            method,
            path,
            json={},
            headers={"If-Match": "*", "Authorization": f"Bearer {read_key}"},
        )
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert read_only.status_code == 403, (method, path, read_only.text)
        assert read_only.json()["code"] == "insufficient_scope"
    assert await session.scalar(select(func.count()).select_from(Source)) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
async def test_responses_never_carry_key_material(
    client: AsyncClient, session: AsyncSession, method: str
) -> None:
    _, key = await create_key(session, name="writer", scopes=[ApiKeyScope.WRITE])
    response = await client.request(
        method, "/v1/sources/nope", json={}, headers={"Authorization": f"Bearer {key}"}
    )

    assert key not in response.text
    assert "key_hash" not in response.text
