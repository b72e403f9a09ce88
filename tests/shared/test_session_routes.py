"""Sessions are ended by the route (api/shared/routing.py), not by a generator dependency:
every operation that can open one must run on that route class, or its session would never
be committed or closed."""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.health.router import router as health_router
from api.main import _V1_ROUTERS
from api.shared.deps import get_session
from api.shared.routing import RetryingRoute


def _calls(dependant: Dependant, function: object) -> bool:
    return dependant.call is function or any(
        _calls(sub, function) for sub in dependant.dependencies
    )


def test_every_operation_that_opens_a_session_ends_it() -> None:
    routes = [
        route
        for router in (*_V1_ROUTERS, health_router)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    with_session = [route for route in routes if _calls(route.dependant, get_session)]

    assert len(with_session) > 30  # the walk sees the operations, not an empty list
    assert [
        f"{sorted(route.methods or ())} {route.path}"
        for route in with_session
        if not isinstance(route, RetryingRoute)
    ] == []
