"""A TCP proxy between the app and PostgreSQL that the test can cut: while paused it accepts
connections and reads what each side sends but forwards nothing, as a network that stops
delivering packets does; resumed, it delivers what it held, in order, as TCP would once the
path is back."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.engine import URL, make_url


class TcpProxy:
    def __init__(self, upstream: URL) -> None:
        host = upstream.query.get("host") or upstream.host or "127.0.0.1"
        self._upstream_unix = (
            f"{host}/.s.PGSQL.{upstream.port or 5432}" if str(host).startswith("/") else None
        )
        self._upstream_tcp = (str(host), upstream.port or 5432)
        self._database_url = upstream
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The database URL through the proxy (the test servers trust their local users)."""
        upstream = self._database_url
        return f"postgresql://{upstream.username}@127.0.0.1:{self.port}/{upstream.database}"

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._upstream_unix is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self._upstream_unix)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self._upstream_tcp)
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def proxy_to(url: str | URL) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(make_url(url) if isinstance(url, str) else url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
