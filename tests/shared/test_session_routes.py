"""Every /v1 operation runs on ApiRoute (api/shared/routing.py): it checks the request
(unknown parameters, read access, JSON bodies) and ends the sessions the handler opened,
which no generator dependency does any more. An operation on another route class would skip
the checks and never commit or close its session."""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.health.router import router as health_router
from api.main import _V1_ROUTERS
from api.shared.deps import get_session
from api.shared.routing import ApiRoute


def _calls(dependant: Dependant, function: object) -> bool:
    return dependant.call is function or any(
        _calls(sub, function) for sub in dependant.dependencies
    )


def _described(route: APIRoute) -> str:
    return f"{sorted(route.methods or ())} {route.path}"


def test_every_v1_operation_is_checked_and_ends_its_sessions() -> None:
    v1 = [route for router in _V1_ROUTERS for route in router.routes if isinstance(route, APIRoute)]

    assert len(v1) > 30  # the walk sees the operations, not an empty list
    assert [_described(route) for route in v1 if not isinstance(route, ApiRoute)] == []


def test_no_operation_outside_v1_opens_a_session() -> None:
    probes = [route for route in health_router.routes if isinstance(route, APIRoute)]

    assert probes
    assert [_described(route) for route in probes if _calls(route.dependant, get_session)] == []
