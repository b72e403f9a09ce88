from api.main import create_app
from api.settings import Settings
from tests.support.clients import client_for

ORIGIN = "https://explorer.example"


def _settings(database_url: str) -> Settings:
    return Settings.model_validate({"DATABASE_URL": database_url, "cors_origins": [ORIGIN]})


async def test_allowed_origin_gets_cors_headers_and_exposed_headers(database_url: str) -> None:
    async with client_for(create_app(_settings(database_url))) as client:
        preflight = await client.options(
            "/v1/articles",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
        )
        response = await client.get("/healthz", headers={"Origin": ORIGIN})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "x-request-id"} <= exposed


async def test_other_origins_get_no_cors_headers(database_url: str) -> None:
    async with client_for(create_app(_settings(database_url))) as client:
        response = await client.get("/healthz", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in response.headers


async def test_cors_is_off_unless_configured(database_url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url})
    async with client_for(create_app(settings)) as client:
        response = await client.get("/healthz", headers={"Origin": ORIGIN})

    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_from_another_origin_is_refused_with_a_problem(
    database_url: str,
) -> None:
    async with client_for(create_app(_settings(database_url))) as client:
        response = await client.options(
            "/v1/articles",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in response.headers
    assert response.json()["code"] == "cors_not_allowed"
    assert response.json()["detail"] == "This cross-origin request is not allowed (its origin)."


async def test_a_preflight_asking_for_a_header_outside_the_list_is_refused(
    database_url: str,
) -> None:
    async with client_for(create_app(_settings(database_url))) as client:
        response = await client.options(
            "/v1/articles",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Content-Type, X-Secret-Backdoor",
            },
        )
        allowed = await client.options(
            "/v1/articles",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
            },
        )

    assert response.status_code == 400
    assert response.json()["code"] == "cors_not_allowed"
    assert response.json()["detail"] == "This cross-origin request is not allowed (its headers)."
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]


async def test_a_browser_can_read_a_429_and_its_rate_limit_fields(database_url: str) -> None:
    settings = _settings(database_url).model_copy(
        update={"rate_limit_enabled": True, "rate_limit_per_address": "1/day"}
    )
    app = create_app(settings)
    try:
        async with client_for(app) as client:
            await client.get("/v1/sources", headers={"Origin": ORIGIN})
            refused = await client.get("/v1/sources", headers={"Origin": ORIGIN})
    finally:
        await app.state.rate_limiter.close()

    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    exposed = {
        h.strip().lower() for h in refused.headers["access-control-expose-headers"].split(",")
    }
    assert {"retry-after", "ratelimit", "ratelimit-policy"} <= exposed
