"""Streaming read replicas: their engines, their health, and where a read may go.

A `ReplicaSet` holds one engine per replica (NEWSGRAPH_REPLICA_URLS) and a background probe
that asks each one, every `interval` seconds with a `timeout`, whether it is a standby and how
far it has replayed the primary's WAL. A replica is `ok` when it answers, is in recovery and
is less than `max_lag` seconds behind; `lagging`, `down` (no answer, or a read on it just
failed: `mark_down`, the circuit opened until the next probe succeeds) or `not_standby` (it
answers but is not replaying anything: a promoted or misconfigured server) otherwise, and
`unknown` until its first probe. Only `ok` replicas take reads.

Lag is measured against the primary's own WAL position, never against wall clocks: each probe
first notes the primary's position, and a replica has everything the primary had at the last
noted moment whose position it has replayed. Its lag is the time since that moment (0 once it
has replayed the newest one). A quiet primary therefore never makes a caught-up replica look
behind, which `now() - pg_last_xact_replay_timestamp()` would.

Read-your-writes: a write's answer carries the primary's WAL position after its commit
(`primary_position`, the consistency token); a read that sends it back may go to a replica only
once that replica's replayed position, as last probed, is at or past it (`pick`). The probed
position only trails the real one, so the rule never sends a read to a replica that has not
replayed the write; a read right after a write is served by the primary until the next probe.
"""

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from db.session import connection_dsn

logger = logging.getLogger(__name__)

ReplicaState = Literal["unknown", "ok", "lagging", "down", "not_standby"]

# PostgreSQL's spelling of a WAL position (pg_lsn): two hexadecimal 32-bit halves.
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")

_PRIMARY_POSITION = "SELECT pg_current_wal_insert_lsn()::text"
_REPLICA_POSITION = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"


def parse_lsn(text: str) -> int | None:
    """A WAL position such as `16/B374D848` as a number, or None when it is not one."""
    match = _LSN.fullmatch(text)
    if match is None:
        return None
    return (int(match[1], 16) << 32) | int(match[2], 16)


async def position_on(connection: AsyncConnection) -> str:
    """The primary's WAL insert position, asked on `connection` (outside any transaction: one
    round trip, straight to the driver)."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return str(await driver.fetchval(_PRIMARY_POSITION))


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


def replica_name(url: str) -> str:
    """What metrics, logs and /readyz call a replica: host, port and database, never the
    user or password."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    host = parsed.host or parsed.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    return f"{host}:{parsed.port or 5432}/{parsed.database or ''}"


@dataclass(eq=False)
class Replica:
    name: str
    dsn: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    state: ReplicaState = "unknown"
    # Seconds behind the primary at the last probe; None before the first or while down.
    lag_seconds: float | None = None
    replayed: int | None = None  # WAL position replayed, at the last probe
    _probe: asyncpg.Connection | None = field(default=None, repr=False)

    @property
    def readable(self) -> bool:
        return self.state == "ok"


class ReplicaSet:
    def __init__(
        self,
        primary: AsyncEngine,
        primary_url: str,
        replicas: Sequence[Replica],
        *,
        max_lag: float,
        interval: float,
        timeout: float,
    ) -> None:
        self.primary = primary
        self.replicas = list(replicas)
        self.max_lag = max_lag
        self.interval = interval
        self.timeout = timeout
        self._primary_dsn = connection_dsn(primary_url)
        self._primary_probe: asyncpg.Connection | None = None
        self._autocommit = primary.execution_options(isolation_level="AUTOCOMMIT")
        # (monotonic time, primary WAL position) at each probe, oldest first: what lag is
        # measured against. Kept for a few max_lag spans; older ones cannot change a verdict.
        self._history: deque[tuple[float, int]] = deque()
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None
        # Set by the metrics (api/transport/metrics.py): counts each read by the server that
        # took it, `primary` or a replica's name.
        self.on_read: Callable[[str], None] | None = None

    # --- routing -----------------------------------------------------------------------------

    def pick(self, token: int | None) -> Replica | None:
        """A replica for a read (round robin over the readable ones that have replayed
        `token`), or None for the primary."""
        candidates = [
            replica
            for replica in self.replicas
            if replica.readable
            and (token is None or (replica.replayed is not None and replica.replayed >= token))
        ]
        if not candidates:
            return None
        return candidates[next(self._turn) % len(candidates)]

    def count_read(self, replica: Replica | None) -> None:
        if self.on_read is not None:
            self.on_read("primary" if replica is None else replica.name)

    def mark_down(self, replica: Replica, error: BaseException) -> None:
        """A read on `replica` failed for want of the server: no read goes there until a probe
        finds it well again."""
        if replica.state != "down":
            logger.warning(
                "replica %s is down (%s): reads go elsewhere until it answers again",
                replica.name,
                type(error).__name__,
            )
        replica.state = "down"
        replica.lag_seconds = None

    async def primary_position(self) -> str:
        """The primary's WAL insert position now: past the end of every transaction committed
        before the call (the consistency token of a write)."""
        async with self._autocommit.connect() as connection:
            result = await connection.exec_driver_sql(_PRIMARY_POSITION)
            return str(result.scalar_one())

    # --- probing -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None and self.replicas:
            self._task = asyncio.create_task(self._probe_forever(), name="replica-probe")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for connection in [self._primary_probe, *(r._probe for r in self.replicas)]:
            if connection is not None:
                connection.terminate()
        self._primary_probe = None
        for replica in self.replicas:
            replica._probe = None
            await replica.engine.dispose()

    async def _probe_forever(self) -> None:
        while True:
            try:
                await self.probe()
            except asyncio.CancelledError:
                raise
            except Exception:  # a probe must never end the loop
                logger.exception("replica probe failed")
            await asyncio.sleep(self.interval)

    async def probe(self) -> None:
        """Probe the primary's position, then every replica at once."""
        now = time.monotonic()
        position = await self._primary_position_probe()
        if position is not None:
            self._history.append((now, position))
            horizon = now - max(3 * self.max_lag, 3 * self.interval, 10.0)
            while len(self._history) > 1 and self._history[0][0] < horizon:
                self._history.popleft()
        await asyncio.gather(*(self._probe_replica(replica) for replica in self.replicas))

    async def _primary_position_probe(self) -> int | None:
        try:
            if self._primary_probe is None or self._primary_probe.is_closed():
                self._primary_probe = await self._connect(self._primary_dsn)
            text = await self._primary_probe.fetchval(_PRIMARY_POSITION, timeout=self.timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("replica probe: the primary did not answer (%s)", type(error).__name__)
            self._drop(self._primary_probe)
            self._primary_probe = None
            return None
        return parse_lsn(str(text))

    async def _probe_replica(self, replica: Replica) -> None:
        try:
            if replica._probe is None or replica._probe.is_closed():
                replica._probe = await self._connect(replica.dsn)
            row = await replica._probe.fetchrow(_REPLICA_POSITION, timeout=self.timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            self._drop(replica._probe)
            replica._probe = None
            self.mark_down(replica, error)
            return
        assert row is not None
        in_recovery, replayed = bool(row[0]), parse_lsn(str(row[1] or ""))
        if not in_recovery or replayed is None:
            if replica.state != "not_standby":
                logger.warning("replica %s is not a standby: no reads go there", replica.name)
            replica.state, replica.lag_seconds, replica.replayed = "not_standby", None, None
            return
        replica.replayed = replayed
        replica.lag_seconds = self._lag(replayed)
        was = replica.state
        replica.state = (
            "ok"
            if replica.lag_seconds is not None and replica.lag_seconds <= self.max_lag
            else "lagging"
        )
        if replica.state != was:
            logger.info(
                "replica %s: %s (lag %s s)", replica.name, replica.state, replica.lag_seconds
            )

    def _lag(self, replayed: int) -> float | None:
        """Seconds since the latest noted moment whose primary position `replayed` reaches;
        at least the age of the oldest note when it reaches none. None before any note."""
        if not self._history:
            return None
        if replayed >= self._history[-1][1]:
            return 0.0
        now = time.monotonic()
        reached = [moment for moment, position in self._history if position <= replayed]
        since = reached[-1] if reached else self._history[0][0]
        return round(now - since, 3)

    async def _connect(self, dsn: str) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            dsn,
            timeout=self.timeout,
            command_timeout=self.timeout,
            server_settings={"application_name": "newsgraph-replica-probe"},
        )
        return connection

    @staticmethod
    def _drop(connection: Any) -> None:
        if connection is not None:
            connection.terminate()

    def status(self) -> list[dict[str, Any]]:
        """Each replica's name, state and lag, as /readyz and /metrics report them."""
        return [
            {"name": r.name, "state": r.state, "lag_seconds": r.lag_seconds} for r in self.replicas
        ]
