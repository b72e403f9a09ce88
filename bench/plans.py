"""The generic-plan trap (issue 6, item 5), measured.

asyncpg prepares every statement. After five executions PostgreSQL compares the custom plans
it made so far with a generic one and may keep the generic plan from then on. For the article
list filtered by entity, the plans that suit a rare entity (start from its few mentions) and a
popular one (walk the articles newest first, stop after a page) differ by orders of magnitude,
so whichever plan sticks is wrong for the other kind of value.

This runs the endpoint's own statement on one connection: executions with rare entities
first, then the popular one, and reads pg_prepared_statements' generic/custom counters to say
which plan the popular executions got.
"""

import statistics
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from api.settings import Settings
from bench import floor
from bench.scenarios import Scenario
from db.session import server_settings

MODES = ("auto", "force_custom_plan")


@dataclass
class TrapFigure:
    mode: str
    rare_ms: float
    popular_ms: float
    plan: str


def _list_statement(statements: list[floor.Statement]) -> floor.Statement:
    # The page query is the one that reads articles; the others resolve the entity's slug.
    return max(statements, key=lambda statement: len(statement[0]))


async def _timed(statement: Any, parameters: tuple[Any, ...], times: int) -> float:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        await statement.fetch(*parameters)
        durations.append(time.perf_counter() - started)
    return statistics.mean(durations) * 1000


async def generic_plan_trap(database: URL, scenarios: list[Scenario]) -> list[TrapFigure]:
    """Each mode gets a connection of its own, with its own settings."""
    by_name = {scenario.name: scenario for scenario in scenarios}
    settings = Settings().model_copy(
        update={"database_url": database.render_as_string(hide_password=False)}
    )
    popular_path = by_name["articles_popular_entity"].paths[0]
    rare_paths = by_name["articles_rare_entity"].paths[:6]
    captured = await floor.capture(settings, [popular_path, *rare_paths])
    sql, popular = _list_statement(captured[0])
    rares = [_list_statement(statements)[1] for statements in captured[1:]]
    figures = []
    dsn = database.set(drivername="postgresql").render_as_string(hide_password=False)
    for mode in MODES:
        session = {**server_settings(settings.db_statement_timeout_ms), "plan_cache_mode": mode}
        connection = await asyncpg.connect(dsn, server_settings=session)
        try:
            statement = await connection.prepare(sql)
            for parameters in rares:  # five or more executions: the generic plan is an option
                await statement.fetch(*parameters)
            rare_ms = await _timed(statement, rares[0], 20)
            before = await _plan_counts(connection, statement.get_name())
            popular_ms = await _timed(statement, popular, 20)
            after = await _plan_counts(connection, statement.get_name())
        finally:
            await connection.close()
        generic = after[0] - before[0]
        plan = "generic" if generic == 20 else "custom" if generic == 0 else f"{generic}/20 generic"
        figures.append(TrapFigure(mode, rare_ms, popular_ms, plan))
    return figures


async def _plan_counts(connection: asyncpg.Connection, name: str) -> tuple[int, int]:
    row = await connection.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1", name
    )
    assert row is not None
    return row["generic_plans"], row["custom_plans"]
