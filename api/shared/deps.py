"""Shared request dependencies."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

# Reads need no transaction: at READ COMMITTED each statement sees its own snapshot either
# way, and BEGIN and COMMIT would be two more round trips per request.
_READ_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the handler returns, rolled back if it
    raises. Services only flush. Reads (GET, HEAD) run in autocommit mode, one statement at a
    time."""
    if request.method in _READ_METHODS:
        # Autocommit: there is no transaction to end, and nothing for a commit to flush.
        async with request.app.state.read_sessionmaker() as session:
            yield session
        return
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function" ends the dependency (and so commits) before the response is sent:
# a client never sees 2xx for a write that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
