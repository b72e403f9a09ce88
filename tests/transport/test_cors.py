"""CORS as a browser meets it: public reads from any origin, writes from the allowlist only.

A browser sends `Origin` with a cross-origin request, and first a preflight (OPTIONS with
`Access-Control-Request-Method`) for anything but the simplest; it lets the page read the
response only when `Access-Control-Allow-Origin` names the page's origin or `*`."""

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Headers, Response
from pydantic import ValidationError

from api.main import create_app
from api.settings import Settings
from tests.support.clients import client_for
from tests.support.live_server import LiveServer

APP_ORIGIN = "https://desk.example"  # the newsroom's own frontend, allowed to write
OTHER_ORIGIN = "https://reader.example"  # any page on the web

EXPOSED = {
    "etag",
    "link",
    "location",
    "x-request-id",
    "ratelimit",
    "ratelimit-policy",
    "retry-after",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The `app` and `client` fixtures' settings here: the defaults, and one origin that may
    write."""
    return Settings.model_validate(
        {"DATABASE_URL": database_url, "cors_write_origins": [APP_ORIGIN]}
    )


def _listed(headers: Headers, name: str) -> set[str]:
    return {item.strip().lower() for item in headers.get(name, "").split(",") if item.strip()}


def _preflight_headers(method: str, origin: str, *headers: str) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = ", ".join(headers)
    return asked


def assert_readable_by_any_origin(response: Response) -> None:
    assert response.headers["access-control-allow-origin"] == "*"
    assert _listed(response.headers, "access-control-expose-headers") >= EXPOSED
    assert "access-control-allow-credentials" not in response.headers


def assert_refused_preflight(response: Response, detail_part: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "cors_not_allowed"
    assert detail_part in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers


# --- public reads, with the default settings ------------------------------------------------


async def test_a_page_on_any_origin_can_read_a_public_list(database_url: str) -> None:
    defaults = Settings.model_validate({"DATABASE_URL": database_url})
    async with client_for(create_app(defaults)) as client:
        preflight = await client.options(
            "/v1/articles",
            headers=_preflight_headers("GET", OTHER_ORIGIN, "If-None-Match", "X-Request-ID"),
        )
        listed = await client.get("/v1/articles?limit=1", headers={"Origin": OTHER_ORIGIN})

    assert preflight.status_code == 204
    assert preflight.content == b""
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert _listed(preflight.headers, "access-control-allow-methods") == {"get", "head"}
    assert {
        "authorization",
        "if-none-match",
        "if-match",
        "idempotency-key",
        "content-type",
        "x-request-id",
    } <= _listed(preflight.headers, "access-control-allow-headers")
    assert preflight.headers["access-control-max-age"] == "600"
    assert listed.status_code == 200
    assert_readable_by_any_origin(listed)
    assert "origin" not in _listed(listed.headers, "vary")


async def test_a_public_read_says_so_without_an_origin_too(client: AsyncClient) -> None:
    """A shared cache may keep a response fetched without `Origin` and hand it to a page: it
    must allow every origin already, and so needs no `Vary: Origin`."""
    response = await client.get("/v1/sources")

    assert response.status_code == 200
    assert_readable_by_any_origin(response)
    assert "vary" not in response.headers


async def test_a_preflight_is_answered_before_the_route_checks_the_request(
    client: AsyncClient,
) -> None:
    """The route refuses unknown parameters and methods it does not serve; a preflight is
    neither refused as one nor counted as a request for the route."""
    on_unknown_parameter = await client.options(
        "/v1/articles?bogus=1", headers=_preflight_headers("GET", OTHER_ORIGIN)
    )
    plain_options = await client.options("/v1/articles", headers={"Origin": OTHER_ORIGIN})

    assert on_unknown_parameter.status_code == 204
    assert plain_options.status_code == 405  # not a preflight: the route's own answer
    assert plain_options.json()["code"] == "method_not_allowed"


async def test_preflights_carry_the_request_id_and_the_security_headers(
    client: AsyncClient,
) -> None:
    allowed = await client.options(
        "/v1/sources",
        headers={**_preflight_headers("GET", OTHER_ORIGIN), "X-Request-ID": "pre-1"},
    )
    refused = await client.options("/v1/sources", headers=_preflight_headers("POST", "null"))

    for response in (allowed, refused):
        assert response.headers["x-request-id"] in {"pre-1", refused.json()["request_id"]}
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert allowed.headers["x-request-id"] == "pre-1"


async def test_errors_of_public_reads_are_readable_too(client: AsyncClient) -> None:
    """A page must be able to read why its request failed: 404, 400, 414."""
    missing = await client.get("/v1/articles/no-such-article", headers={"Origin": OTHER_ORIGIN})
    bad = await client.get("/v1/articles?limit=0", headers={"Origin": OTHER_ORIGIN})
    unknown = await client.get("/v1/articles?bogus=1", headers={"Origin": OTHER_ORIGIN})
    too_long = await client.get("/v1/entities?q=" + "a" * 9000, headers={"Origin": OTHER_ORIGIN})

    assert [r.status_code for r in (missing, bad, unknown, too_long)] == [404, 400, 400, 414]
    for response in (missing, bad, unknown, too_long):
        assert response.headers["content-type"] == "application/problem+json"
        assert_readable_by_any_origin(response)


async def test_a_crash_is_readable_too(app: FastAPI, client: AsyncClient) -> None:
    """The 500 for an unexpected error is answered outside every middleware."""

    async def crash() -> None:
        raise RuntimeError("reactor exploded")

    app.add_api_route("/_probe/crash", crash, methods=["GET"])
    response = await client.get("/_probe/crash", headers={"Origin": OTHER_ORIGIN})

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert_readable_by_any_origin(response)


async def test_a_browser_can_read_a_429_and_its_rate_limit_fields(database_url: str) -> None:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "rate_limit_enabled": True,
            "rate_limit_per_address": "1/day",
        }
    )
    app = create_app(settings)
    try:
        async with client_for(app) as client:
            first = await client.get("/v1/sources", headers={"Origin": OTHER_ORIGIN})
            refused = await client.get("/v1/sources", headers={"Origin": OTHER_ORIGIN})
    finally:
        await app.state.rate_limiter.close()

    assert (first.status_code, refused.status_code) == (200, 429)
    assert_readable_by_any_origin(refused)
    assert {"ratelimit", "ratelimit-policy", "retry-after"} <= {k.lower() for k in refused.headers}


async def test_metrics_are_not_offered_to_pages(client: AsyncClient) -> None:
    response = await client.get("/metrics", headers={"Origin": OTHER_ORIGIN})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# --- writes: the allowlist ----------------------------------------------------------------


async def test_a_preflight_for_a_write_from_another_origin_is_refused(
    client: AsyncClient,
) -> None:
    refused = await client.options(
        "/v1/sources",
        headers=_preflight_headers("POST", OTHER_ORIGIN, "Authorization", "Content-Type"),
    )
    for_delete = await client.options(
        "/v1/sources/kyodo", headers=_preflight_headers("DELETE", OTHER_ORIGIN, "If-Match")
    )

    assert_refused_preflight(refused, f"{OTHER_ORIGIN} is not one of them")
    assert refused.json()["detail"] == (
        "A cross-origin POST is answered only for the origins in NEWSGRAPH_CORS_WRITE_ORIGINS, "
        f"and {OTHER_ORIGIN} is not one of them."
    )
    assert_refused_preflight(for_delete, "cross-origin DELETE")


async def test_a_preflight_for_a_write_from_an_allowed_origin_names_that_origin(
    client: AsyncClient,
) -> None:
    response = await client.options(
        "/v1/sources",
        headers=_preflight_headers(
            "POST", APP_ORIGIN, "Authorization", "Content-Type", "Idempotency-Key"
        ),
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "origin" in _listed(response.headers, "vary")
    assert _listed(response.headers, "access-control-allow-methods") == {
        "get",
        "head",
        "post",
        "patch",
        "delete",
    }
    assert {"authorization", "content-type", "idempotency-key", "if-match"} <= _listed(
        response.headers, "access-control-allow-headers"
    )
    assert "access-control-allow-credentials" not in response.headers


async def test_only_an_allowed_origin_may_read_a_write_s_response(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    def body(slug: str) -> dict[str, str]:
        return {"slug": slug, "name": slug.title(), "kind": "news_agency"}

    allowed = await client.post(
        "/v1/sources", json=body("desk-wire"), headers={**writer, "Origin": APP_ORIGIN}
    )
    other = await client.post(
        "/v1/sources", json=body("other-wire"), headers={**writer, "Origin": OTHER_ORIGIN}
    )
    unauthorized = await client.post("/v1/sources", json={}, headers={"Origin": APP_ORIGIN})

    assert allowed.status_code == 201
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert {"location", "etag"} <= _listed(allowed.headers, "access-control-expose-headers")
    assert "origin" in _listed(allowed.headers, "vary")
    # The server cannot stop a request a browser sent without asking (nothing here does:
    # every write needs Authorization, so a preflight); it only withholds the response.
    assert "access-control-allow-origin" not in other.headers
    assert "origin" in _listed(other.headers, "vary")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_a_preflight_asking_for_a_method_or_header_outside_the_lists_is_refused(
    client: AsyncClient,
) -> None:
    header = await client.options(
        "/v1/articles",
        headers=_preflight_headers("GET", OTHER_ORIGIN, "Content-Type", "X-Secret-Backdoor"),
    )
    method = await client.options("/v1/articles", headers=_preflight_headers("PUT", APP_ORIGIN))

    assert_refused_preflight(header, "Not allowed in a cross-origin request: X-Secret-Backdoor.")
    assert_refused_preflight(method, "PUT is not a method of this API")


# --- reads that are not public ------------------------------------------------------------


async def test_reads_that_need_a_key_follow_the_allowlist(database_url: str) -> None:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "require_key_for_reads": True,
            "cors_write_origins": [APP_ORIGIN],
        }
    )
    async with client_for(create_app(settings)) as client:
        other = await client.get("/v1/sources", headers={"Origin": OTHER_ORIGIN})
        allowed = await client.get("/v1/sources", headers={"Origin": APP_ORIGIN})
        other_preflight = await client.options(
            "/v1/sources", headers=_preflight_headers("GET", OTHER_ORIGIN, "Authorization")
        )
        allowed_preflight = await client.options(
            "/v1/sources", headers=_preflight_headers("GET", APP_ORIGIN, "Authorization")
        )

    assert (other.status_code, allowed.status_code) == (401, 401)  # no key sent
    assert "access-control-allow-origin" not in other.headers
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "origin" in _listed(other.headers, "vary")
    assert "origin" in _listed(allowed.headers, "vary")
    assert_refused_preflight(other_preflight, "Reads are not public here")
    assert allowed_preflight.status_code == 204
    assert allowed_preflight.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_public_reads_can_be_closed_to_other_origins(database_url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url, "cors_public_reads": False})
    async with client_for(create_app(settings)) as client:
        response = await client.get("/v1/sources", headers={"Origin": OTHER_ORIGIN})
        preflight = await client.options(
            "/v1/sources", headers=_preflight_headers("GET", OTHER_ORIGIN)
        )

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert preflight.status_code == 405  # nothing answers preflights: CORS is off
    assert "access-control-allow-origin" not in preflight.headers


# --- settings ------------------------------------------------------------------------------


def test_allowed_origins_are_written_as_browsers_send_them() -> None:
    settings = Settings(
        cors_write_origins=[
            "https://Desk.Example/",
            "http://localhost:5173",
            "https://a.example:443",
        ]
    )

    assert settings.cors_write_origins == [
        "https://desk.example",
        "http://localhost:5173",
        "https://a.example",
    ]


@pytest.mark.parametrize(
    "value", ["*", "null", "desk.example", "https://desk.example/app", "ftp://desk.example"]
)
def test_what_is_not_an_origin_is_refused_at_start_up(value: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_write_origins=[value])


def test_the_old_setting_is_refused_with_its_new_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSGRAPH_CORS_ORIGINS", '["https://desk.example"]')

    with pytest.raises(ValidationError, match="now NEWSGRAPH_CORS_WRITE_ORIGINS"):
        Settings()


# --- over a real socket ---------------------------------------------------------------------


@pytest.mark.process
async def test_a_browser_s_cross_origin_fetch_works_against_newsgraph_serve(
    database_url: str, tmp_path: Path
) -> None:
    """What a page's `fetch("http://api/v1/events", {headers: {"If-None-Match": etag}})`
    does, against `newsgraph serve` with its default settings: a preflight, then the GET."""
    live = LiveServer(database_url, tmp_path)
    try:
        await asyncio.to_thread(live.wait_ready)
        async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
            preflight = await http.options(
                "/v1/events", headers=_preflight_headers("GET", OTHER_ORIGIN, "if-none-match")
            )
            listed = await http.get(
                "/v1/events", headers={"Origin": OTHER_ORIGIN, "If-None-Match": '"nothing"'}
            )
    finally:
        live.close()

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "if-none-match" in _listed(preflight.headers, "access-control-allow-headers")
    assert listed.status_code == 200
    assert_readable_by_any_origin(listed)
