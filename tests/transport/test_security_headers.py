import base64
import hashlib
import re

from httpx import AsyncClient, Headers

from api.main import create_app
from api.settings import Settings
from tests.support.clients import client_for

STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def assert_security_headers(headers: Headers) -> None:
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("cross-origin-resource-policy") == "same-origin"


async def test_json_responses_carry_the_security_headers_and_a_deny_all_policy(
    client: AsyncClient,
) -> None:
    response = await client.get("/v1/sources")

    assert response.status_code == 200
    assert_security_headers(response.headers)
    assert response.headers["content-security-policy"] == STRICT_POLICY
    assert "strict-transport-security" not in response.headers  # not configured


async def test_problem_responses_carry_them_too(client: AsyncClient) -> None:
    missing = await client.get("/v1/sources/no-such-source")
    refused = await client.post("/v1/sources", json={})  # no key: 401

    for response in (missing, refused):
        assert response.headers["content-type"] == "application/problem+json"
        assert_security_headers(response.headers)
        assert response.headers["content-security-policy"] == STRICT_POLICY
    assert (missing.status_code, refused.status_code) == (404, 401)


async def test_a_body_refused_before_routing_carries_them(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/sources", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert_security_headers(response.headers)


async def test_the_docs_page_has_a_policy_that_lets_its_own_script_run(
    client: AsyncClient,
) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    assert_security_headers(page.headers)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    script_sources = policy["script-src"].split()
    # The Swagger UI bundle comes from this server; the one inline script is allowed by
    # its hash, not by 'unsafe-inline'.
    assert re.findall(r'<script src="(/docs/assets/[^"]+)"', page.text) == [
        "/docs/assets/swagger-ui-bundle.js"
    ]
    assert "'self'" in script_sources
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in script_sources
    assert "'unsafe-inline'" not in script_sources
    assert "'unsafe-eval'" not in script_sources
    assert policy["connect-src"] == "'self'"  # fetching /openapi.json
    assert policy["img-src"] == "'self' data:"  # the stylesheet's inline icons
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'none'"


async def test_docs_assets_and_the_openapi_document_carry_the_headers(
    client: AsyncClient,
) -> None:
    for path in ("/docs/assets/swagger-ui.css", "/openapi.json"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response.headers)


async def test_hsts_is_sent_when_configured(database_url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url, "hsts_seconds": 31536000})
    async with client_for(create_app(settings)) as client:
        response = await client.get("/healthz")

    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert_security_headers(response.headers)
