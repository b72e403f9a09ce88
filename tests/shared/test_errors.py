from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from httpx import AsyncClient


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """The real app plus two routes that exist only to exercise the error machinery."""

    @app.get("/_probe/typed")
    async def typed(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/_probe/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    return app


async def test_unknown_route_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/v1/nowhere", headers={"X-Request-ID": "req-123"})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-123"
    assert response.json() == {
        "type": "https://newsgraph.dev/problems/not_found",
        "title": "Not Found",
        "status": 404,
        "detail": "No route matches GET /v1/nowhere.",
        "code": "not_found",
        "instance": "/v1/nowhere",
        "request_id": "req-123",
    }


async def test_wrong_method_is_a_405_problem(client: AsyncClient) -> None:
    response = await client.post("/healthz")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, HEAD"


async def test_405_allows_every_method_of_the_path(client: AsyncClient) -> None:
    """FastAPI routes one method each; `Allow` must name all of them (RFC 9110), not the first."""
    response = await client.put("/v1/articles/anything")

    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    assert response.json()["detail"] == (
        "PUT is not allowed on /v1/articles/anything; it allows DELETE, GET, HEAD, PATCH."
    )


async def test_malformed_query_value_is_a_400_naming_the_parameter(
    probe_app: FastAPI, client: AsyncClient
) -> None:
    response = await client.get("/_probe/typed", params={"limit": "many"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["detail"] == "Invalid request: limit."
    assert problem["errors"] == [
        {
            "location": "query",
            "field": "limit",
            "message": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]
    assert problem["request_id"] == response.headers["x-request-id"]


async def test_out_of_range_query_value_is_a_400(probe_app: FastAPI, client: AsyncClient) -> None:
    response = await client.get("/_probe/typed", params={"limit": "101"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "less_than_equal"


async def test_unexpected_error_is_a_500_problem_without_internals(
    probe_app: FastAPI, client: AsyncClient
) -> None:
    response = await client.get("/_probe/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    problem = response.json()
    assert problem["code"] == "internal_error"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


async def test_every_response_carries_a_request_id(client: AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_an_unsafe_incoming_request_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32
