"""Keeping the change feed to its retention: a task of each serving process prunes it every
`change_prune_interval` seconds. Several processes pruning at once is harmless (each deletes
what is old by then; the horizon only moves forward), and a failed round is logged and tried
again at the next."""

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.changes.service import prune

logger = logging.getLogger(__name__)


async def prune_forever(
    sessionmaker: async_sessionmaker[AsyncSession], *, keep: timedelta, every: float
) -> None:
    while True:
        try:
            async with sessionmaker() as session, session.begin():
                removed = await prune(session, keep=keep)
            if removed:
                logger.info("change feed: pruned %d changes older than %s", removed, keep)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("change feed: pruning failed; trying again in %.0f s", every)
        await asyncio.sleep(every)
