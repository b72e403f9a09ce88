"""Schemathesis against the app, as its own OpenAPI document describes it: every operation with
every check (no server errors; status codes, content types, headers and bodies as documented;
invalid input refused, valid input accepted), then the stateful phase, which follows the
OpenAPI links from each create to the read, update and delete of what it created.

The app runs on a database of its own, migrated and seeded, which nothing rolls back: the
stateful phase needs what its earlier steps created. Writes carry an API key with the write
scope. The seed is fixed, so a run is repeatable. `make test` runs the schema's examples, the
coverage phase (boundary and invalid values of every parameter and body field, each one
deterministic) and NEWSGRAPH_FUZZ_EXAMPLES stateful scenarios; `make fuzz` adds the random
fuzzing phase (NEWSGRAPH_FUZZ_PHASES), which costs some 45 seconds whatever its example count,
building Hypothesis strategies for the request bodies, and raises the count.
"""

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.engine.events import FatalError, NonFatalError, ScenarioFinished
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Receive, Scope, Send

from api.main import create_app
from api.settings import Settings
from api.shared.auth import KEY_PREFIX, hash_key, new_key
from db import migrate
from db.enums import ApiKeyScope
from db.models import ApiKey
from db.session import create_engine
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.database import fresh_database, run_migration

EXAMPLES = int(os.environ.get("NEWSGRAPH_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("NEWSGRAPH_FUZZ_SEED", "7"))
PHASES = os.environ.get("NEWSGRAPH_FUZZ_PHASES", "examples,coverage").split(",")
STATEFUL_STEPS = 8
# Made now, stored by the fixture: Schemathesis builds its tests at collection, headers included.
KEY = new_key()

# What each check takes for an answer: Schemathesis's defaults plus, for a valid request,
# refusals no schema can foresee (a reference to nothing or a cursor this API did not sign: 400
# in a parameter, 422 in a body; a stale If-Match: 412), kept honest by `refused_for_a_reason`
# below; for an invalid one, 413 or 414 when it is also over the size limits; for a missing
# If-Match, 428 Precondition Required (RFC 6585).
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "429", "5xx"]
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428"]
REJECTED_WITHOUT_HEADER = ["400", "401", "403", "406", "415", "422", "428"]

# Problem codes for a request the schema allows but the data refuses.
SEMANTIC_CODES = {
    "unknown_reference",
    "invalid_cursor",
    "idempotency_key_reused",
    "precondition_failed",
    # A histogram over more buckets than a response holds: the bound depends on the range the
    # data and `from`/`to` span together, which no schema can state.
    "too_many_buckets",
}
# Field errors from the model's own rules: cross-field checks and references looked up in a body
# (value_error), grammars the document gives in words, not as a pattern (EDTF dates, ISO 8601
# durations), NUL, which PostgreSQL text cannot hold, and parameters the document says do not
# combine (a batch lookup's `id` with paging or filters, a CSV export without exactly one `type`:
# OpenAPI cannot say it but in words).
SEMANTIC_FIELD_ERRORS = {"value_error", "edtf", "duration", "nul", "conflicting_parameter"}


class AppUnderFuzz:
    """The app the fixture builds, reachable from the schemas made here at import: Schemathesis
    sends requests, and its checks their probes, to the schema's app."""

    app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the fuzzed_app fixture builds the app"
        await self.app(scope, receive, send)


APP = AppUnderFuzz()


def _document() -> dict[str, Any]:
    """The app's own OpenAPI document; building it touches no database."""
    settings = Settings.model_validate({"DATABASE_URL": "postgresql://fuzz@127.0.0.1/unused"})
    return create_app(settings).openapi()


def _schema(*, phases: list[str]) -> schemathesis.BaseSchema:
    """The document loaded for Schemathesis, with only `phases` on."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "auth": {"openapi": {"ApiKey": {"bearer": KEY}}},
            "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
            "phases": {
                **{
                    phase: {"enabled": phase in phases}
                    for phase in ("examples", "coverage", "fuzzing", "stateful")
                },
                "stateful": {"enabled": "stateful" in phases, "max-steps": STATEFUL_STEPS},
            },
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REJECTED},
                "missing_required_header": {"expected-statuses": REJECTED_WITHOUT_HEADER},
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(DOCUMENT, config=config)
    loaded.app = APP
    return loaded


DOCUMENT = _document()
schema = _schema(phases=PHASES)


@schemathesis.check
def refused_for_a_reason(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """A schema-valid request refused with 400 or 422 must be refused for what the schema
    cannot say; a refusal on a type, length, pattern or missing field means the document
    promises what the app does not accept."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    problem = response.json()
    code = problem.get("code")
    if code in SEMANTIC_CODES:
        return True
    if code == "validation_error" and all(
        error["type"] in SEMANTIC_FIELD_ERRORS for error in problem.get("errors", [])
    ):
        return True
    raise AssertionError(
        f"A request valid by the schema was refused with {response.status_code} {code}: "
        f"{problem.get('detail')} {problem.get('errors')}"
    )


@pytest.fixture(scope="module")
async def fuzzed_app() -> AsyncIterator[FastAPI]:
    """The app over a migrated, seeded database that holds KEY with the write scope."""
    url = await fresh_database("fuzz")
    await run_migration(migrate.upgrade, url)
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            await load_seeds(session, default_seed_paths(), force=True)
            session.add(
                ApiKey(
                    name="fuzzer",
                    prefix=KEY[: len(KEY_PREFIX) + 6],
                    key_hash=hash_key(KEY),
                    scopes=[ApiKeyScope.WRITE.value],
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    # A change stream lasts a second: Schemathesis reads a response to its end.
    APP.app = create_app(
        Settings.model_validate({"DATABASE_URL": url, "change_stream_max_seconds": 1})
    )
    yield APP.app
    # Requests reach the app in process, on an event loop thread Schemathesis keeps; the app's
    # lifespan runs there too, and ending it closes the app's connection pool.
    shutdown_lifespans()
    APP.app = None


@schema.parametrize()
@pytest.mark.usefixtures("fuzzed_app")
def test_every_operation_passes_every_check(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


@pytest.mark.usefixtures("fuzzed_app")
def test_stateful_links_create_read_update_delete() -> None:
    """Run as `schemathesis run` runs it: scenarios change the database, so Hypothesis cannot
    replay one exactly, and Schemathesis's engine, unlike a bare state machine, carries on."""
    failures: list[str] = []
    linked_steps = 0
    for event in schemathesis.engine.from_schema(_schema(phases=["stateful"])).execute():
        if isinstance(event, ScenarioFinished):
            linked_steps += sum(
                node.transition is not None for node in event.recorder.cases.values()
            )
            for checks in event.recorder.checks.values():
                failures.extend(
                    f"{check.failure_info.failure.title}: {check.failure_info.failure.message}\n"
                    f"    {check.failure_info.code_sample}"
                    for check in checks
                    if check.failure_info is not None
                )
        elif isinstance(event, NonFatalError):
            failures.append(f"error in {event.label}: {event.info.format()}")
        elif isinstance(event, FatalError):
            raise event.exception
    assert linked_steps > 0, "no scenario followed a link"
    assert not failures, "\n\n".join(dict.fromkeys(failures))
