"""No list endpoint runs a query per item: a 100-item page costs the same statements as a
2-item one."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.enums import DisputePartyRole, EntityKind, ParticipantRole
from db.models import Dispute, Entity, Source
from tests.support.database import counting_statements
from tests.support.factories import (
    add_alias,
    add_participant,
    add_party,
    add_territory,
    add_to_timeline,
    cite,
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_source,
    make_statement,
    mention_all,
)

LISTS = [
    "/v1/articles?limit=100",
    "/v1/articles?limit=100&entity=hub",
    "/v1/articles?limit=100&q=met",
    "/v1/entities?limit=100",
    "/v1/entities?limit=100&q=person",
    "/v1/entities/hub/articles?limit=100",
    "/v1/entities/hub/events?limit=100",
    "/v1/entities/hub/related?limit=100",
    "/v1/events?limit=100",
    "/v1/events?limit=100&participant=hub&from=2000&to=2030",
    "/v1/statements?limit=100",
    "/v1/disputes?limit=100",
    "/v1/disputes/main/timeline?limit=100",
    "/v1/disputes/main/timeline?limit=100&pov=hub",
    "/v1/sources?limit=100",
    "/v1/search?limit=100&q=person",
]


async def _add_items(
    session: AsyncSession, source: Source, hub: Entity, main: Dispute, start: int, stop: int
) -> None:
    """Items start..stop-1, each with every kind of related row a list item shows."""
    for n in range(start, stop):
        await make_source(session, f"source-{n}", f"Source {n}")
        person = await make_entity(session, f"person-{n}", f"Person {n}", EntityKind.PERSON)
        await add_alias(session, person, f"P{n} alias", used_by=hub)
        article = await make_article(
            session, source, f"article-{n}", f"Hub met Person {n} today.", headline=f"Met {n}"
        )
        await mention_all(session, article, hub)
        await mention_all(session, article, person)
        event = await make_event(session, f"event-{n}", f"2021-10-{n % 28 + 1:02d}", location=hub)
        await add_participant(session, event, hub)
        await add_participant(session, event, person, ParticipantRole.RECIPIENT)
        await cite(session, article, f"Hub met Person {n}", event_id=event.id)
        await make_statement(session, f"statement-{n}", person, f"Said {n}.", event=event)
        dispute = await make_dispute(session, f"dispute-{n}", f"Dispute {n}")
        await add_party(session, dispute, hub, DisputePartyRole.CLAIMANT)
        await add_territory(session, dispute, person, claimed_by=hub)
        await add_to_timeline(session, main, event)


async def _corpus(session: AsyncSession, items: int) -> tuple[Source, Entity, Dispute]:
    """A source, the hub entity, the main dispute, and `items` items around them."""
    source = await make_source(session)
    hub = await make_entity(session, "hub", "Hub")
    main = await make_dispute(session, "main", "Main dispute")
    await _add_items(session, source, hub, main, 0, items)
    return source, hub, main


async def _statements_of(
    engine: AsyncEngine, client: AsyncClient, urls: list[str]
) -> dict[str, list[str]]:
    """The SQL statements each GET of `urls` sent."""
    sent = {}
    for url in urls:
        with counting_statements(engine) as statements:
            response = await client.get(url)
        assert response.status_code == 200, (url, response.text)
        sent[url] = statements
    return sent


async def _statements_per_list(engine: AsyncEngine, client: AsyncClient) -> dict[str, int]:
    return {url: len(sent) for url, sent in (await _statements_of(engine, client, LISTS)).items()}


async def test_list_queries_do_not_grow_with_the_number_of_items(
    session: AsyncSession, engine: AsyncEngine, client: AsyncClient
) -> None:
    source, hub, main = await _corpus(session, 2)
    with_two = await _statements_per_list(engine, client)
    await _add_items(session, source, hub, main, 2, 100)

    with_hundred = await _statements_per_list(engine, client)

    assert with_hundred == with_two
    page = (await client.get("/v1/events?limit=100")).json()
    assert len(page["items"]) == 100


# Reads whose facts are of several kinds (a dispute's parties, territories and names; an
# event's participants and timeline links; an entity's aliases and relations).
DETAILS = [
    "/v1/disputes/dispute-1",
    "/v1/disputes/main/timeline",
    "/v1/events/event-1",
    "/v1/entities/person-1",
]


async def test_a_read_loads_the_evidence_of_all_its_facts_in_one_statement(
    session: AsyncSession, engine: AsyncEngine, client: AsyncClient
) -> None:
    await _corpus(session, 3)
    for url, sent in (await _statements_of(engine, client, DETAILS)).items():
        assert len([sql for sql in sent if "FROM evidence" in sql]) == 1, url

    # And the evidence is each fact's own: the event's quote on the event, in both reads.
    event = (await client.get("/v1/events/event-1")).json()
    assert [item["quote"] for item in event["evidence"]] == ["Hub met Person 1"]
    assert all(participant["evidence"] == [] for participant in event["participants"])
    timeline = (await client.get("/v1/disputes/main/timeline")).json()
    quotes = {item["slug"]: [e["quote"] for e in item["evidence"]] for item in timeline["items"]}
    assert quotes == {f"event-{n}": [f"Hub met Person {n}"] for n in range(3)}
