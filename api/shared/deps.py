"""Shared request dependencies."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

# Reads need no transaction: at READ COMMITTED each statement sees its own snapshot either
# way, and BEGIN and COMMIT would be two more round trips per request.
READ_METHODS = frozenset({"GET", "HEAD"})
# Where get_session leaves the sessions it opened for ApiRoute to end.
SESSIONS_KEY = "newsgraph.sessions"
# The read replica (db/replicas.Replica) ApiRoute chose for a read, when the deployment has any.
REPLICA_KEY = "newsgraph.replica"
# The connections get_session checked out for a write's sessions when there are replicas.
CONNECTIONS_KEY = "newsgraph.connections"


async def get_session(request: Request) -> AsyncSession:
    """The request's session. Reads (GET, HEAD) run in autocommit mode, one statement at a
    time; other methods in one transaction. The route (api/shared/routing.py, ApiRoute)
    ends it: committed when the handler returns, before the response is sent, so a client
    never sees 2xx for a write that then fails to commit; rolled back if it raises.

    A plain function rather than a generator dependency: FastAPI's generator machinery (exit
    stack, shielded exit) cost 0.1-0.2 ms of CPU on every request, a fifth of a by-id read."""
    if request.method in READ_METHODS:
        replica = request.scope.get(REPLICA_KEY)
        session: AsyncSession = (
            request.app.state.read_sessionmaker() if replica is None else replica.sessionmaker()
        )
    elif request.app.state.replicas is None:
        session = request.app.state.sessionmaker()
    else:
        # With read replicas a write answers with its consistency token, read on its own
        # connection once it has committed (api/shared/routing.py): the session is bound to a
        # connection the route holds until then.
        connection = await request.app.state.engine.connect()
        request.scope.setdefault(CONNECTIONS_KEY, []).append(connection)
        session = request.app.state.sessionmaker(bind=connection)
    request.scope.setdefault(SESSIONS_KEY, []).append(session)
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
