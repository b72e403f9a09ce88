from api.main import create_app
from api.settings import Settings
from tests.conftest import client_for

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
