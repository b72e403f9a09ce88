"""Defaults fit for exposure: a server listening beyond loopback refuses the development cursor
secret, and serves /metrics only with a token."""

import os
import subprocess
import sys

import pytest
from httpx import AsyncClient

from api.main import create_app
from api.settings import Settings
from tests.support.clients import client_for

EVERYWHERE = "0.0.0.0"  # noqa: S104 (what the tests pretend to listen on)


def settings(database_url: str, **values: str) -> Settings:
    return Settings.model_validate({"DATABASE_URL": database_url, **values})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        (EVERYWHERE, False),
        ("192.0.2.10", False),
        ("api.example", False),
    ],
)
def test_loopback_is_told_apart_from_everything_else(host: str, loopback: bool) -> None:
    assert Settings.model_validate({"HOST": host}).on_loopback is loopback


@pytest.mark.process
def test_serve_refuses_the_development_cursor_secret_beyond_loopback(database_url: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    environment |= {"DATABASE_URL": database_url, "HOST": EVERYWHERE, "PORT": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "NEWSGRAPH_CURSOR_SECRET is not set, and the server would listen on 0.0.0.0" in (
        result.stderr
    )


def test_a_configured_cursor_secret_or_loopback_is_fit() -> None:
    assert Settings.model_validate({"HOST": "127.0.0.1"}).exposure_problems() == []
    exposed = {"HOST": EVERYWHERE, "cursor_secret": "s3cr3t-value"}
    assert Settings.model_validate(exposed).exposure_problems() == []


async def metrics_status(app_settings: Settings, headers: dict[str, str] | None = None) -> int:
    async with client_for(create_app(app_settings)) as client:
        assert isinstance(client, AsyncClient)
        return (await client.get("/metrics", headers=headers or {})).status_code


async def test_metrics_beyond_loopback_need_a_token(database_url: str) -> None:
    exposed = {"HOST": EVERYWHERE, "cursor_secret": "s3cr3t-value"}
    assert await metrics_status(settings(database_url, **exposed)) == 404
    with_token = settings(database_url, **exposed, metrics_token="m-token")
    assert await metrics_status(with_token) == 401
    assert await metrics_status(with_token, {"Authorization": "Bearer m-token"}) == 200
    assert await metrics_status(settings(database_url)) == 200  # loopback: open
