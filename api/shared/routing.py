"""The route class of every /v1 operation (`ApiRoute`): it checks the request, ends the
sessions the handler opened, and runs a write again when its transaction lost a conflict.

Checks: what every /v1 request is checked for before its handler and its dependencies run,
`app.state.check_request` (set by the app factory: unknown query parameters, read access, a
JSON body), here rather than as a router dependency: each dependency FastAPI resolves costs
CPU on every request.

Retries: a request whose transaction lost a serialization conflict or was chosen as a
deadlock's victim (SQLSTATE 40001, 40P01) is run again, a few times, after a short random wait.
PostgreSQL rolled that transaction back whole, and a request's effects are its transaction (the
idempotency claim, the rows, the audit of the key's use), so running the handler again is what
the client would do on its own, only sooner: it is safe for every method. What is still in
conflict after the last attempt is a 503 `transaction_conflict` with `Retry-After`, never a 500.
The body is read once and kept by the request, so the next attempt parses the same bytes; each
attempt ends its own session (rolled back) before the next begins. A conflict at COMMIT counts
too: the route commits as the attempt ends, before the response is sent.

Read replicas (db/replicas.py), when the deployment has any: a read whose route may use one
(`replica_reads`: not the change feed, not an operation that checks a key, which both need the
primary) is given a replica's session, chosen by the request's consistency token
(api/shared/consistency.py); a read the replica fails for want of the server is run again on
the primary, and the replica left alone until its probe finds it well. A write that commits
answers with the consistency token. Without replicas none of this runs.
"""

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.convertors import Convertor, register_url_convertor

from api.shared import consistency
from api.shared.deps import CONNECTIONS_KEY, READ_METHODS, REPLICA_KEY, SESSIONS_KEY
from api.shared.rows import ReadSession
from db.fields import RESERVED_SLUGS
from db.replicas import ReplicaSet, position_on

logger = logging.getLogger(__name__)

# The names of a collection's aggregate paths (`/v1/events/histogram`, `/v1/events/facets`),
# which no item of such a collection takes as its slug (db.fields.ItemSlug).
AGGREGATE_PATHS = RESERVED_SLUGS


class ItemKeyConvertor(Convertor[str]):
    """An item's id or slug in a path (`/v1/events/{event:key}`): any segment but the
    collection's aggregate paths, so that `PATCH /v1/events/histogram` is a 405 naming GET,
    not an update of an event slugged `histogram` (which its id still reaches)."""

    regex = "(?!(?:" + "|".join(AGGREGATE_PATHS) + ")(?:/|$))[^/]+"
    # The same rule for the OpenAPI document (api.contract.document_item_keys): a client, an
    # SDK or a fuzzer reads from it that the aggregate names are not a key of this path.
    pattern = "^(?!(?:" + "|".join(AGGREGATE_PATHS) + ")$)[^/]+$"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("key", ItemKeyConvertor())

CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
# statement_timeout or pg_cancel_backend: on a replica, the primary would take as long.
QUERY_CANCELED = "57014"
# Attempts after the first, and the longest first wait (doubling each time, full jitter).
RETRIES = 3
FIRST_WAIT_SECONDS = 0.02


def sqlstate_of(error: DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "")


# SQLSTATE classes after which a read on a replica is run again on the primary: 08 connection
# exception, 53 insufficient resources, 57 operator intervention (shutting down), and 40: a
# standby cancels a query whose rows its replay must remove (a conflict with recovery).
_REPLICA_FAILURE_CLASSES = ("08", "53", "57", "40")


def _replica_failed(error: BaseException) -> bool:
    """Whether a read failed because of the replica rather than the request."""
    if isinstance(error, (OSError, PoolTimeoutError)):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = sqlstate_of(error)
        return bool(error.connection_invalidated) or (
            sqlstate[:2] in _REPLICA_FAILURE_CLASSES and sqlstate != QUERY_CANCELED
        )
    return False


def _server_lost(error: BaseException) -> bool:
    """Whether the replica itself is gone (rather than one query refused)."""
    if isinstance(error, (OSError, PoolTimeoutError)):
        return True
    return isinstance(error, DBAPIError) and (
        bool(error.connection_invalidated) or sqlstate_of(error)[:2] in ("08", "57")
    )


def _checks_a_key(dependant: Dependant) -> bool:
    return any(
        isinstance(dependency.call, SecurityBase) or _checks_a_key(dependency)
        for dependency in dependant.dependencies
    )


class ApiRoute(APIRoute):
    """Checks the request, runs the handler, ends the sessions it opened (api/shared/deps.py)
    and, for writes, runs it again after a serialization failure or deadlock."""

    # Whether this route's reads may be served by a replica: not when it checks an API key
    # (the key's row, and its last use, live on the primary).
    replica_reads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replica_reads = self.replica_reads and not _checks_a_key(self.dependant)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        replica_reads = self.replica_reads

        async def run(request: Request) -> Response:
            return await serve(request, handler, replica_reads=replica_reads)

        return run


class PrimaryRoute(ApiRoute):
    """A route whose reads the primary serves even when there are replicas: the change feed,
    whose cursor must never meet a replica that has not replayed as far as the last page."""

    replica_reads = False


_Handler = Callable[[Request], Coroutine[Any, Any, Response]]


async def serve(request: Request, handler: _Handler, *, replica_reads: bool) -> Response:
    """A /v1 request, checked, then handled: a read in autocommit (on a replica when it may
    use one), a write in its transaction, run again after a conflict. What every ApiRoute
    does, and the plain reads answered below the router (api/shared/fast_reads.py)."""
    await request.app.state.check_request(request)
    replicas: ReplicaSet | None = request.app.state.replicas
    if replicas is not None:
        if request.method in READ_METHODS:
            return await _read_with_replicas(request, handler, replicas, replica_reads)
        try:
            response = await _write(request, handler)
            if response.status_code < 300:
                token = await _committed_position(request, replicas)
                if token is not None:
                    response.headers[consistency.HEADER] = token
            return response
        finally:
            await close_connections(request)
    if request.method in READ_METHODS:
        # Reads run in autocommit, one statement at a time: there is no transaction to
        # lose, so nothing to run again.
        try:
            return await handler(request)
        finally:
            await end_sessions(request, commit=False)
    return await _write(request, handler)


async def _committed_position(request: Request, replicas: ReplicaSet) -> str | None:
    """The consistency token of the write that just committed: the primary's WAL position,
    read on the write's own connection (no second checkout from a pool its peers may hold),
    or on any when it had none. None when neither answers: the write is done and stays a
    success, without a token."""
    connections = request.scope.get(CONNECTIONS_KEY) or []
    with anyio.CancelScope(shield=True):
        try:
            if connections:
                return await position_on(connections[-1])
            return await replicas.primary_position()
        # Whatever it is (the driver's own errors included): the write has committed, and
        # its answer must say so.
        except Exception as error:
            logger.warning(
                "no consistency token for %s %s: %s",
                request.method,
                request.url.path,
                type(error).__name__,
            )
    return None


async def close_connections(request: Request) -> None:
    """Return the connections get_session checked out for a write's sessions."""
    connections: list[AsyncConnection] = request.scope.pop(CONNECTIONS_KEY, None) or []
    with anyio.CancelScope(shield=True):
        for connection in connections:
            await connection.close()


async def _write(request: Request, handler: _Handler) -> Response:
    retries = RETRIES  # read per request, so that a test can lower it
    outer_stack = request.scope.get("fastapi_function_astack")
    for attempt in range(retries + 1):
        committed = False
        try:
            # Each attempt ends its own session (rolled back, its connection returned)
            # and function-scoped dependencies before the next one starts: the first
            # attempt's locks would otherwise block the second.
            async with AsyncExitStack() as attempt_stack:
                request.scope["fastapi_function_astack"] = attempt_stack
                response = await handler(request)
            await end_sessions(request, commit=True)
            committed = True
            return response
        except DBAPIError as error:
            if sqlstate_of(error) not in CONFLICT_SQLSTATES or attempt == retries:
                raise
            wait = random.uniform(0, FIRST_WAIT_SECONDS * 2**attempt)  # noqa: S311
            logger.info(
                "transaction conflict (%s) on %s %s: attempt %d of %d in %.0f ms",
                sqlstate_of(error),
                request.method,
                request.url.path,
                attempt + 2,
                retries + 1,
                wait * 1000,
            )
            await asyncio.sleep(wait)
        finally:
            request.scope["fastapi_function_astack"] = outer_stack
            await end_sessions(request, commit=False)
            if not committed:
                await close_connections(request)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def _read_with_replicas(
    request: Request, handler: _Handler, replicas: ReplicaSet, replica_reads: bool
) -> Response:
    """A read on a replica that has replayed the request's consistency token, or on the
    primary; run again on the primary when the replica fails it."""
    token = consistency.token_of(request)  # a malformed one is a 400 on every read
    replica = replicas.pick(token) if replica_reads else None
    request.scope[REPLICA_KEY] = replica
    try:
        response = await handler(request)
    except Exception as error:
        if replica is None or not _replica_failed(error):
            raise
        await end_sessions(request, commit=False)
        if _server_lost(error):
            replicas.mark_down(replica, error)
        logger.info(
            "read of %s failed on replica %s (%s): served by the primary",
            request.url.path,
            replica.name,
            type(error).__name__,
        )
        replica = request.scope[REPLICA_KEY] = None
        try:
            response = await handler(request)
        finally:
            await end_sessions(request, commit=False)
    finally:
        await end_sessions(request, commit=False)
    replicas.count_read(replica)
    return response


async def end_sessions(request: Request, *, commit: bool) -> None:
    """Commit (when `commit`) and close the sessions the request opened; closing rolls back
    whatever is left. Shielded: a client that hangs up does not cut a commit or a rollback
    in half (a connection must never go back to the pool inside a transaction)."""
    sessions: list[AsyncSession] = []
    for session in request.scope.pop(SESSIONS_KEY, None) or ():
        if not isinstance(session, ReadSession):
            sessions.append(session)
        elif session.closes_without_waiting:
            # Nothing to cut in half, so no shield (its scope cost a by-id read 3% of its CPU).
            await session.close()
        elif session.holds_connection:
            sessions.append(session)
    if not sessions:
        return
    with anyio.CancelScope(shield=True):
        for session in sessions:
            try:
                if commit:
                    await session.commit()
            finally:
                await session.close()
