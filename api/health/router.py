import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.shared.errors import ProblemError, problem_responses
from api.shared.problems import ProblemCode
from db.migrate import current_revision

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"
    migration: str


@router.get("/healthz", summary="Liveness", response_model=Health)
async def get_health() -> Health:
    """The process is alive and serving. Does not touch the database."""
    return Health()


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def get_readiness(request: Request) -> Readiness:
    """Ready when the database answers and its schema is at the migration head; else 503."""
    retry_after = {"Retry-After": str(request.app.state.settings.retry_after_seconds)}
    engine: AsyncEngine = request.app.state.engine
    head: str | None = request.app.state.migration_head
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = await current_revision(connection)
    except Exception as error:
        raise ProblemError(
            ProblemCode.DATABASE_UNAVAILABLE,
            f"The database is not reachable ({type(error).__name__}).",
            headers=retry_after,
        ) from error
    if revision != head:
        raise ProblemError(
            ProblemCode.MIGRATIONS_PENDING,
            f"The database schema is at {revision or 'no revision'}, not at head {head}; "
            "run `newsgraph migrate upgrade`.",
            headers=retry_after,
        )
    return Readiness(migration=revision or "")
