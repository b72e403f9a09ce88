import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.shared.errors import ProblemError, problem_responses
from api.shared.problems import ProblemCode
from db.migrate import current_revision

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ReplicaStatus(BaseModel):
    """A read replica as this process last probed it (db/replicas.py)."""

    name: str = Field(
        description="Host, port and database (never the user or password).",
        examples=["replica-1:5432/newsgraph"],
    )
    state: Literal["unknown", "ok", "lagging", "down", "not_standby"] = Field(
        description="`ok`: takes reads. `lagging`: more than NEWSGRAPH_REPLICA_MAX_LAG "
        "seconds behind; `down`: not answering; `not_standby`: not replaying the primary; "
        "`unknown`: not probed yet. Reads skip every state but `ok`, and the primary serves "
        "them."
    )
    lag_seconds: float | None = Field(
        description="Seconds behind the primary at the last probe; null when not known.",
        examples=[0.0],
    )


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"
    migration: str
    replicas: list[ReplicaStatus] = Field(
        default_factory=list,
        description="The read replicas (NEWSGRAPH_REPLICA_URLS), if any. A replica that is "
        "not `ok` does not make the API unready: the primary serves its reads.",
    )


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
    """Ready when the database answers and its schema is at the migration head; else 503. Each
    read replica's state and lag are listed, but do not decide readiness."""
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
    replicas = request.app.state.replicas
    return Readiness(
        migration=revision or "",
        replicas=[] if replicas is None else [ReplicaStatus(**r) for r in replicas.status()],
    )
