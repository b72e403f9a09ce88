"""Which events an article reports: the events whose evidence cites it.

An article reports an event when it supports the event itself, one of its participants or one
of its statements. Disputes follow through their timeline events and through evidence for the
dispute, its parties and its territories.
"""

from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.schemas import EntityRef, EventRef, StatementRef
from db.models import (
    DisputeEvent,
    DisputeParty,
    DisputeTerritory,
    Entity,
    Event,
    EventParticipant,
    Evidence,
    Statement,
)


def _cited_in(articles: Any, query: Any) -> Any:
    """`query` (over evidence) kept to the evidence of `articles` (an `id` column), if given:
    joined in each branch of a union, since PostgreSQL does not push a join into one."""
    if articles is None:
        return query
    return query.join(articles, articles.c.id == Evidence.article_id)


def article_events(articles: Any = None) -> Any:
    """(article_id, event_id) for every event an article reports, or only an article of
    `articles` (a selectable with an `id` column), read from their evidence alone."""
    return union(
        _cited_in(articles, select(Evidence.article_id, Evidence.event_id)).where(
            Evidence.event_id.is_not(None)
        ),
        _cited_in(articles, select(Evidence.article_id, EventParticipant.event_id)).join(
            EventParticipant, EventParticipant.id == Evidence.event_participant_id
        ),
        _cited_in(articles, select(Evidence.article_id, Statement.event_id))
        .join(Statement, Statement.id == Evidence.statement_id)
        .where(Statement.event_id.is_not(None)),
    ).subquery("article_events")


def articles_reporting_event(event_id: Any) -> Any:
    links = article_events()
    return select(links.c.article_id).where(links.c.event_id == event_id)


def articles_about_dispute(dispute_id: Any) -> Any:
    links = article_events()
    return union(
        select(links.c.article_id)
        .join(DisputeEvent, DisputeEvent.event_id == links.c.event_id)
        .where(DisputeEvent.dispute_id == dispute_id),
        select(Evidence.article_id).where(Evidence.dispute_id == dispute_id),
        select(Evidence.article_id)
        .join(DisputeParty, DisputeParty.id == Evidence.dispute_party_id)
        .where(DisputeParty.dispute_id == dispute_id),
        select(Evidence.article_id)
        .join(DisputeTerritory, DisputeTerritory.id == Evidence.dispute_territory_id)
        .where(DisputeTerritory.dispute_id == dispute_id),
    )


def article_disputes(articles: Any = None, reported: Any = None) -> Any:
    """(article_id, dispute_id) for every dispute an article is about, by the links
    `articles_about_dispute` follows; or only for an article of `articles` (as
    `article_events` takes it), whose `article_events(articles)` may be given as `reported`
    (a CTE another part of the statement reads too)."""
    links = article_events(articles) if reported is None else reported
    return union(
        select(links.c.article_id, DisputeEvent.dispute_id).join(
            DisputeEvent, DisputeEvent.event_id == links.c.event_id
        ),
        _cited_in(articles, select(Evidence.article_id, Evidence.dispute_id)).where(
            Evidence.dispute_id.is_not(None)
        ),
        _cited_in(articles, select(Evidence.article_id, DisputeParty.dispute_id)).join(
            DisputeParty, DisputeParty.id == Evidence.dispute_party_id
        ),
        _cited_in(articles, select(Evidence.article_id, DisputeTerritory.dispute_id)).join(
            DisputeTerritory, DisputeTerritory.id == Evidence.dispute_territory_id
        ),
    ).subquery("article_disputes")


async def events_of_article(session: AsyncSession, *, article_id: Any) -> list[EventRef]:
    links = article_events()
    rows = await session.scalars(
        select(Event)
        .where(Event.id.in_(select(links.c.event_id).where(links.c.article_id == article_id)))
        .order_by(Event.time_earliest.nulls_last(), Event.time_latest.nulls_last(), Event.slug)
    )
    return [EventRef.of(event) for event in rows]


async def statements_of_article(session: AsyncSession, *, article_id: Any) -> list[StatementRef]:
    cited = select(Evidence.statement_id).where(
        Evidence.article_id == article_id, Evidence.statement_id.is_not(None)
    )
    rows = await session.execute(
        select(Statement, Entity)
        .join(Entity, Entity.id == Statement.speaker_id)
        .where(Statement.id.in_(cited))
        .order_by(Statement.slug)
    )
    return [
        StatementRef(
            id=statement.id,
            slug=statement.slug,
            speaker=EntityRef.model_validate(speaker),
            text=statement.text,
            kind=statement.kind,
        )
        for statement, speaker in rows
    ]
