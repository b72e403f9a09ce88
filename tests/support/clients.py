"""Talking to an app: in process over ASGI, with an API key, or on a free port of its own."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An HTTP client speaking to `app` in process; the app's own pool is closed afterwards."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.engine.dispose()
        await app.state.change_hub.close()
        await app.state.change_watch.close()  # the change streams' polling connection


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
