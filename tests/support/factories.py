"""Generic builders for the rows the API tests need; each flushes and returns the ORM object.

Times are EDTF strings, bounded by `set_time` as the seed loader bounds them. Builders of one
test area's scenario (e.g. the Kuril Islands dispute, tests/support/dispute_factories.py) are
made of these.
"""

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db import timespan
from db.base import Base, TimeBounds
from db.enums import (
    AliasKind,
    DisputeEventRole,
    DisputeKind,
    DisputePartyRole,
    DisputeStatus,
    EntityKind,
    EventType,
    MentionMethod,
    Modality,
    ParticipantRole,
    RelationKind,
    SourceKind,
    StatementKind,
    TimePrecision,
)
from db.models import (
    Article,
    Dispute,
    DisputeEvent,
    DisputeParty,
    DisputeTerritory,
    Entity,
    EntityAlias,
    EntityRelation,
    Event,
    EventParticipant,
    Evidence,
    Mention,
    Source,
    Statement,
)

Row = TypeVar("Row", bound=Base)


async def _flushed(session: AsyncSession, row: Row) -> Row:
    """Add `row` to the session and flush it, so that its id and defaults are set."""
    session.add(row)
    await session.flush()
    return row


def set_time(row: TimeBounds, edtf: str | None) -> None:
    """Give `row` the EDTF time `edtf` and its bounds and precision; None leaves it undated."""
    if edtf is None:
        return
    span = timespan.parse(edtf)
    row.time_edtf = span.edtf
    row.time_earliest = span.earliest
    row.time_latest = span.latest
    row.time_precision = span.precision


# Sources, articles and entities


async def make_source(session: AsyncSession, slug: str = "kyodo", name: str = "Kyodo") -> Source:
    source = Source(slug=slug, name=name, kind=SourceKind.NEWS_AGENCY)
    return await _flushed(session, source)


async def make_article(
    session: AsyncSession,
    source: Source,
    slug: str,
    body: str,
    *,
    headline: str | None = None,
    published_at: datetime | None = None,
    language: str = "en",
) -> Article:
    article = Article(
        slug=slug,
        source_id=source.id,
        headline=headline,
        body=body,
        language=language,
        published_at=published_at,
        published_precision=TimePrecision.DAY if published_at else None,
        content_hash=hashlib.sha256(body.encode()).hexdigest(),
    )
    return await _flushed(session, article)


async def make_entity(
    session: AsyncSession, slug: str, name: str, kind: EntityKind = EntityKind.COUNTRY
) -> Entity:
    entity = Entity(slug=slug, name=name, kind=kind)
    return await _flushed(session, entity)


async def add_alias(
    session: AsyncSession,
    entity: Entity,
    name: str,
    *,
    used_by: Entity | None,
    language: str | None = "en",
    kind: AliasKind = AliasKind.COMMON,
) -> EntityAlias:
    alias = EntityAlias(
        entity_id=entity.id,
        name=name,
        language=language,
        kind=kind,
        used_by_id=used_by.id if used_by else None,
    )
    return await _flushed(session, alias)


async def add_part_of(session: AsyncSession, part: Entity, whole: Entity) -> None:
    await _flushed(
        session, EntityRelation(subject_id=part.id, kind=RelationKind.PART_OF, object_id=whole.id)
    )


async def mention_all(session: AsyncSession, article: Article, entity: Entity) -> list[Mention]:
    """Mention `entity` at every occurrence of its name in the article body."""
    mentions = []
    start = article.body.find(entity.name)
    while start != -1:
        end = start + len(entity.name)
        mentions.append(
            Mention(
                article_id=article.id,
                entity_id=entity.id,
                start_offset=start,
                end_offset=end,
                surface=article.body[start:end],
                method=MentionMethod.CURATED,
            )
        )
        start = article.body.find(entity.name, end)
    session.add_all(mentions)
    await session.flush()
    return mentions


# Events and statements


async def make_event(
    session: AsyncSession,
    slug: str,
    time: str | None = None,
    *,
    title: str | None = None,
    event_type: EventType = EventType.CONSULT,
    mode: str | None = None,
    contexts: Sequence[str] = (),
    modality: Modality = Modality.ASSERTED,
    duration: timedelta | None = None,
    location: Entity | None = None,
    parent: Event | None = None,
    summary: str | None = None,
    participants: Iterable[tuple[Entity, ParticipantRole]] = (),
) -> Event:
    """An event at EDTF `time` (None: undated), titled from its slug unless `title` is given."""
    event = Event(
        slug=slug,
        title=title if title is not None else slug.replace("-", " ").capitalize(),
        summary=summary,
        event_type=event_type,
        mode=mode,
        contexts=list(contexts),
        modality=modality,
        duration=duration,
        location_id=location.id if location else None,
        parent_id=parent.id if parent else None,
    )
    set_time(event, time)
    await _flushed(session, event)
    for entity, role in participants:
        await add_participant(session, event, entity, role)
    return event


async def add_participant(
    session: AsyncSession,
    event: Event,
    entity: Entity,
    role: ParticipantRole = ParticipantRole.ACTOR,
) -> EventParticipant:
    participant = EventParticipant(event_id=event.id, entity_id=entity.id, role=role)
    return await _flushed(session, participant)


async def make_statement(
    session: AsyncSession,
    slug: str,
    speaker: Entity,
    text: str,
    *,
    kind: StatementKind = StatementKind.PARAPHRASE,
    event: Event | None = None,
    conveyed_by: Entity | None = None,
    conveyed_by_description: str | None = None,
) -> Statement:
    statement = Statement(
        slug=slug,
        speaker_id=speaker.id,
        text=text,
        kind=kind,
        event_id=event.id if event else None,
        conveyed_by_id=conveyed_by.id if conveyed_by else None,
        conveyed_by_description=conveyed_by_description,
    )
    return await _flushed(session, statement)


# Disputes


async def make_dispute(
    session: AsyncSession,
    slug: str,
    title: str,
    *,
    kind: DisputeKind = DisputeKind.TERRITORIAL,
    status: DisputeStatus = DisputeStatus.ACTIVE,
    time: str | None = None,
    summary: str | None = None,
) -> Dispute:
    dispute = Dispute(slug=slug, title=title, kind=kind, status=status, summary=summary)
    set_time(dispute, time)
    return await _flushed(session, dispute)


async def add_party(
    session: AsyncSession,
    dispute: Dispute,
    entity: Entity,
    role: DisputePartyRole,
    position: str | None = None,
) -> DisputeParty:
    party = DisputeParty(dispute_id=dispute.id, entity_id=entity.id, role=role, position=position)
    return await _flushed(session, party)


async def add_territory(
    session: AsyncSession,
    dispute: Dispute,
    entity: Entity,
    *,
    administered_by: Entity | None = None,
    claimed_by: Entity | None = None,
) -> DisputeTerritory:
    territory = DisputeTerritory(
        dispute_id=dispute.id,
        entity_id=entity.id,
        administered_by_id=administered_by.id if administered_by else None,
        claimed_by_id=claimed_by.id if claimed_by else None,
    )
    return await _flushed(session, territory)


async def add_to_timeline(
    session: AsyncSession,
    dispute: Dispute,
    event: Event,
    role: DisputeEventRole = DisputeEventRole.NEGOTIATION,
    significance: str | None = None,
) -> DisputeEvent:
    link = DisputeEvent(
        dispute_id=dispute.id, event_id=event.id, role=role, significance=significance
    )
    return await _flushed(session, link)


# Evidence


async def cite(
    session: AsyncSession,
    article: Article,
    quote: str,
    *,
    field: str | None = None,
    occurrence: int | None = None,
    **subject: uuid.UUID,
) -> Evidence:
    """Evidence for `subject` (e.g. `event_id=...`) quoting `quote` from the article body.

    The quote must occur exactly once in the body unless `occurrence` (0-based) says which.
    """
    starts = _occurrences(article.body, quote)
    if occurrence is None:
        assert len(starts) == 1, (
            f"quote {quote!r} occurs {len(starts)} times in article {article.slug!r}; "
            "pass occurrence= to choose one"
        )
        occurrence = 0
    assert 0 <= occurrence < len(starts), (
        f"quote {quote!r} has no occurrence {occurrence} in article {article.slug!r} "
        f"(it occurs {len(starts)} times)"
    )
    start = starts[occurrence]
    evidence = Evidence(
        article_id=article.id,
        start_offset=start,
        end_offset=start + len(quote),
        quote=quote,
        field=field,
        **subject,
    )
    return await _flushed(session, evidence)


def _occurrences(body: str, quote: str) -> list[int]:
    """Where `quote` starts in `body`, overlapping occurrences included."""
    starts = []
    start = body.find(quote)
    while start != -1:
        starts.append(start)
        start = body.find(quote, start + 1)
    return starts


async def note(
    session: AsyncSession,
    article: Article,
    text: str,
    *,
    field: str,
    **subject: uuid.UUID,
) -> Evidence:
    """Editorial evidence for `subject`: a fact the article implies but does not state."""
    evidence = Evidence(article_id=article.id, editorial=True, note=text, field=field, **subject)
    return await _flushed(session, evidence)
