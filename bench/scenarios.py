"""The endpoints `make bench` measures, each with the request paths it cycles through.

Paths are picked from the loaded data by SQL, deterministically (ordered, no random()), so two
runs on the same corpus send the same requests.
"""

from dataclasses import dataclass
from urllib.parse import quote

import asyncpg

# The scenarios whose single-request latency is measured and held to a target (issue 15:
# <= 50 ms each), beside their floor's.
SINGLE_REQUEST_SCENARIOS = (
    "articles_histogram_popular_entity",
    "events_histogram_popular_participant",
    "article_facets_popular_entity",
)
SINGLE_REQUEST_TARGET_MS = 50.0

# More than 10,000 articles at the 100k scale; the "popular entity" (issue 6, item 5).
POPULAR_MIN_ARTICLES = 10_000


@dataclass
class Scenario:
    name: str
    endpoint: str
    paths: list[str]
    # The mixed profile: every n-th request is a POST /v1/entities.
    write_every: int = 0
    # Whether the database floor is measured (not for /healthz, which sends no SQL, nor for the
    # mixed profile, whose writes cannot be replayed twice).
    floor: bool = True


async def pick(connection: asyncpg.Connection) -> list[Scenario]:
    popular = await connection.fetch(
        """
        SELECT e.slug, count(DISTINCT m.article_id) AS articles
        FROM mention m JOIN entity e ON e.id = m.entity_id
        GROUP BY e.slug HAVING count(DISTINCT m.article_id) >= $1
        ORDER BY articles DESC, e.slug LIMIT 8
        """,
        POPULAR_MIN_ARTICLES,
    )
    if not popular:  # a small corpus: take the most mentioned entities anyway
        popular = await connection.fetch(
            """
            SELECT e.slug, count(DISTINCT m.article_id) AS articles
            FROM mention m JOIN entity e ON e.id = m.entity_id
            GROUP BY e.slug ORDER BY articles DESC, e.slug LIMIT 8
            """
        )
    rare = await connection.fetch(
        """
        SELECT e.slug FROM mention m JOIN entity e ON e.id = m.entity_id
        GROUP BY e.slug HAVING count(DISTINCT m.article_id) BETWEEN 1 AND 5
        ORDER BY md5(e.slug) LIMIT 200
        """
    )
    articles = await connection.fetch("SELECT id FROM article ORDER BY md5(id::text) LIMIT 1000")
    words = await connection.fetch(
        """
        SELECT DISTINCT ON (word) word FROM (
            SELECT split_part(name, ' ', 1) AS word FROM entity ORDER BY md5(slug) LIMIT 400
        ) names WHERE length(word) >= 4 ORDER BY word LIMIT 100
        """
    )
    participants = await connection.fetch(
        """
        SELECT e.slug, extract(year FROM ev.time_earliest)::int AS year
        FROM event_participant p
        JOIN entity e ON e.id = p.entity_id
        JOIN event ev ON ev.id = p.event_id
        WHERE ev.time_earliest IS NOT NULL
        ORDER BY md5(p.event_id::text || e.slug) LIMIT 200
        """
    )
    disputes = await connection.fetch("SELECT id FROM dispute ORDER BY md5(id::text) LIMIT 500")
    busiest = await connection.fetch(
        """
        SELECT e.slug, count(DISTINCT p.event_id) AS events
        FROM event_participant p JOIN entity e ON e.id = p.entity_id
        GROUP BY e.slug ORDER BY events DESC, e.slug LIMIT 8
        """
    )
    search_terms = [w["word"] for w in words[:50]] + [
        "border talks",
        "ceasefire",
        "minister",
        "trade agreement",
        "election",
    ]
    reads = [
        Scenario("healthz", "GET /healthz", ["/healthz"], floor=False),
        Scenario(
            "articles_popular_entity",
            "GET /v1/articles?entity= (popular)",
            [f"/v1/articles?entity={row['slug']}" for row in popular],
        ),
        Scenario(
            "articles_rare_entity",
            "GET /v1/articles?entity= (rare)",
            [f"/v1/articles?entity={row['slug']}" for row in rare],
        ),
        Scenario(
            "article_by_id",
            "GET /v1/articles/{id}",
            [f"/v1/articles/{row['id']}" for row in articles],
        ),
        Scenario(
            "entities_q",
            "GET /v1/entities?q=",
            [f"/v1/entities?q={quote(row['word'])}" for row in words],
        ),
        Scenario(
            "events_participant_range",
            "GET /v1/events?participant=&from=&to=",
            [
                f"/v1/events?participant={row['slug']}&from={row['year'] - 1}&to={row['year'] + 1}"
                for row in participants
            ],
        ),
        Scenario(
            "dispute_timeline",
            "GET /v1/disputes/{id}/timeline",
            [f"/v1/disputes/{row['id']}/timeline" for row in disputes],
        ),
        Scenario(
            "search",
            "GET /v1/search?q=",
            [f"/v1/search?q={quote(term)}" for term in search_terms],
        ),
    ]
    # The aggregates (issue 15): the charts and the sidebar of an entity's page. Measured
    # single-request too (SINGLE_REQUEST_SCENARIOS); not part of the mixed profile.
    aggregates = [
        Scenario(
            "articles_histogram_popular_entity",
            "GET /v1/articles/histogram?entity=&interval=month (popular)",
            [f"/v1/articles/histogram?entity={row['slug']}&interval=month" for row in popular],
        ),
        Scenario(
            "events_histogram_popular_participant",
            "GET /v1/events/histogram?participant=&interval=year (popular)",
            [f"/v1/events/histogram?participant={row['slug']}&interval=year" for row in busiest],
        ),
        Scenario(
            "article_facets_popular_entity",
            "GET /v1/articles/facets?entity= (popular)",
            [f"/v1/articles/facets?entity={row['slug']}" for row in popular],
        ),
    ]
    mixed_paths = [
        path for scenario in reads[1:] for path in scenario.paths[: max(1, 40 // len(reads))]
    ]
    mixed = Scenario(
        "mixed_read_write",
        "90% of the reads above, 10% POST /v1/entities",
        mixed_paths,
        write_every=10,
        floor=False,
    )
    return [*reads, *aggregates, mixed]
