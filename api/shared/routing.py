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
"""

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import Convertor, register_url_convertor

from api.shared.deps import READ_METHODS, SESSIONS_KEY
from api.shared.rows import ReadSession

logger = logging.getLogger(__name__)

# The names of a collection's aggregate paths (`/v1/events/histogram`, `/v1/events/facets`).
AGGREGATE_PATHS = ("histogram", "facets")


class ItemKeyConvertor(Convertor[str]):
    """An item's id or slug in a path (`/v1/events/{event:key}`): any segment but the
    collection's aggregate paths, so that `PATCH /v1/events/histogram` is a 405 naming GET,
    not an update of an event slugged `histogram` (which its id still reaches)."""

    regex = "(?!(?:" + "|".join(AGGREGATE_PATHS) + ")(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("key", ItemKeyConvertor())

CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
# Attempts after the first, and the longest first wait (doubling each time, full jitter).
RETRIES = 3
FIRST_WAIT_SECONDS = 0.02


def sqlstate_of(error: DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "")


class ApiRoute(APIRoute):
    """Checks the request, runs the handler, ends the sessions it opened (api/shared/deps.py)
    and, for writes, runs it again after a serialization failure or deadlock."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            await request.app.state.check_request(request)
            if request.method in READ_METHODS:
                # Reads run in autocommit, one statement at a time: there is no transaction to
                # lose, so nothing to run again.
                try:
                    return await handler(request)
                finally:
                    await end_sessions(request, commit=False)
            retries = RETRIES  # read per request, so that a test can lower it
            outer_stack = request.scope.get("fastapi_function_astack")
            for attempt in range(retries + 1):
                try:
                    # Each attempt ends its own session (rolled back, its connection returned)
                    # and function-scoped dependencies before the next one starts: the first
                    # attempt's locks would otherwise block the second.
                    async with AsyncExitStack() as attempt_stack:
                        request.scope["fastapi_function_astack"] = attempt_stack
                        response = await handler(request)
                    await end_sessions(request, commit=True)
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
            raise AssertionError("unreachable: the last attempt returns or raises")

        return run


async def end_sessions(request: Request, *, commit: bool) -> None:
    """Commit (when `commit`) and close the sessions the request opened; closing rolls back
    whatever is left. Shielded: a client that hangs up does not cut a commit or a rollback
    in half (a connection must never go back to the pool inside a transaction)."""
    sessions: list[AsyncSession] = [
        # A read's session that nothing used has nothing to end (api/shared/rows.py).
        session
        for session in request.scope.pop(SESSIONS_KEY, None) or ()
        if not isinstance(session, ReadSession) or session.built
    ]
    if not sessions:
        return
    with anyio.CancelScope(shield=True):
        for session in sessions:
            try:
                if commit:
                    await session.commit()
            finally:
                await session.close()
