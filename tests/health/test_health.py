import gc

from httpx import AsyncClient

from api.main import create_app
from api.settings import Settings
from db.migrate import head_revision
from tests.support.clients import client_for
from tests.support.collector import freeze_what_is_alive
from tests.support.database import fresh_database

# Port 1 on loopback: nothing listens there, so a connection is refused at once.
UNREACHABLE = Settings.model_validate({"DATABASE_URL": "postgresql://x@127.0.0.1:1/none"})


async def test_healthz_answers_without_touching_the_database(client: AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_stays_up_when_the_database_is_unreachable() -> None:
    async with client_for(create_app(UNREACHABLE)) as client:
        response = await client.get("/healthz")

    assert response.status_code == 200


async def test_readyz_reports_the_migration_head(client: AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "migration": head_revision(),
        "replicas": [],
    }


async def test_readyz_is_503_problem_when_the_database_is_unreachable() -> None:
    async with client_for(create_app(UNREACHABLE)) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    problem = response.json()
    assert problem["code"] == "database_unavailable"
    assert problem["status"] == 503


async def test_readyz_is_503_when_migrations_are_pending() -> None:
    unmigrated = await fresh_database("unmigrated")
    settings = Settings.model_validate({"DATABASE_URL": unmigrated})
    async with client_for(create_app(settings)) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "migrations_pending"
    assert head_revision() in problem["detail"]


async def test_a_serving_app_keeps_its_start_up_objects_out_of_the_collector(
    settings: Settings,
) -> None:
    """Frozen while the app serves (full collections were the p99 pauses under load), released
    when it stops, so that a process running several apps in turn frees each one."""
    gc.unfreeze()  # the test session's own freeze (conftest), put back below
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
        after = gc.get_freeze_count()
    finally:
        freeze_what_is_alive()

    assert frozen > 10_000  # the modules, routes and schemas, not a handful of objects
    assert after == 0


async def test_a_process_that_froze_its_objects_keeps_them_frozen(settings: Settings) -> None:
    before = gc.get_freeze_count()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass

    assert before > 0  # frozen by conftest, as a process embedding the app might
    # Neither released (0) nor frozen again with the test's objects (more): frozen objects
    # that lost their last reference were freed meanwhile, so it may be a little lower.
    assert 0 < gc.get_freeze_count() <= before
