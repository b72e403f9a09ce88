"""pg_trgm's word similarity is costed as what it is, so that name search asks the trigram
index on a small table instead of computing similarity for every name, and estimated with a
constant, so that planning a name search does not compute it against the column's statistics
(db/planner.py)."""

import json
from typing import Any

import asyncpg
import pytest

from api.entities.service import _best_matches_statement, name_parameters
from db import migrate
from db.planner import WORD_SIMILARITY_COST, WORD_SIMILARITY_ESTIMATE
from db.session import create_engine
from tests.support.database import connect, fresh_database, migrated_database, run_migration

# What each migration sets, read from the catalog as {name: value}.
_COSTS = """
    SELECT proname, procost FROM pg_proc
    WHERE proname IN ('word_similarity_op', 'word_similarity_commutator_op')
"""
_ESTIMATES = """
    SELECT oprname, oprrest::text FROM pg_operator
    WHERE oprname IN ('<%', '%>') AND oprleft = 'text'::regtype AND oprright = 'text'::regtype
"""
_COST = float(WORD_SIMILARITY_COST)


async def _catalog(url: str, query: str) -> dict[str, Any]:
    connection = await connect(url)
    try:
        return {row[0]: row[1] for row in await connection.fetch(query)}
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("query", "before", "upgraded", "downgraded"),
    [
        pytest.param(
            _COSTS,
            "8e4b2d6f0a13",
            {"word_similarity_op": _COST, "word_similarity_commutator_op": _COST},
            {"word_similarity_op": 1.0, "word_similarity_commutator_op": 1.0},
            id="costs",
        ),
        pytest.param(
            _ESTIMATES,
            "2c6e8a4f1d93",
            {"<%": WORD_SIMILARITY_ESTIMATE, "%>": WORD_SIMILARITY_ESTIMATE},
            {"<%": "matchingsel", "%>": "matchingsel"},
            id="estimates",
        ),
    ],
)
async def test_the_migration_sets_it_and_its_downgrade_restores_pg_trgms_own(
    query: str, before: str, upgraded: dict[str, Any], downgraded: dict[str, Any]
) -> None:
    """`before` is the revision before the migration."""
    url = await fresh_database("trigram-planning")
    await run_migration(migrate.upgrade, url)
    at_head = await _catalog(url, query)
    await run_migration(migrate.downgrade, url, before)
    at_before = await _catalog(url, query)
    await run_migration(migrate.upgrade, url)

    assert at_head == upgraded
    assert at_before == downgraded
    assert await _catalog(url, query) == upgraded


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan] + [node for child in plan.get("Plans", []) for node in _plan_nodes(child)]


async def _name_search_plan(
    url: str, connection: asyncpg.Connection, q: str
) -> list[dict[str, Any]]:
    """The plan of the API's own name-search statement for `q`, planned with its values as
    PostgreSQL plans a request's first executions (a custom plan)."""
    compiled = _best_matches_statement(cursor=False).compile(dialect=create_engine(url).dialect)
    values = {**compiled.params, **name_parameters(q)}
    values = {name: 20 if value is None else value for name, value in values.items()}
    arguments = [values[name] for name in compiled.positiontup or ()]
    explained = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {compiled}", *arguments)
    return _plan_nodes(json.loads(explained)[0]["Plan"])


async def test_name_search_reads_the_trigram_index_of_two_thousand_entities() -> None:
    url = await migrated_database("planner")
    connection = await connect(url)
    try:
        await connection.execute(
            """
            INSERT INTO entity (id, slug, name, kind)
            SELECT gen_random_uuid(), 'entity-' || n, 'Entity ' || md5(n::text), 'place'
            FROM generate_series(1, 2000) AS n
            """
        )
        await connection.execute("ANALYZE entity")
        nodes = await _name_search_plan(url, connection, "fort")
    finally:
        await connection.close()

    # Similarity is computed only for the names the index found, never row by row.
    every_row = [
        n["Relation Name"]
        for n in nodes
        if n["Node Type"] == "Seq Scan" and "<%" in n.get("Filter", "")
    ]
    assert "entity" not in every_row
    assert "ix_entity_search_name_trgm" in {n.get("Index Name") for n in nodes}
