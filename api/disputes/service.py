import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Select, func, literal_column, select, union
from sqlalchemy import delete as sa_delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.disputes.schemas import DisputeCreate, DisputeUpdate
from api.events.service import participant_array
from api.shared import seed_writes
from api.shared.batch import models_by_keys
from api.shared.evidence import evidence_array
from api.shared.lookup import by_keys, id_by_key, id_of_key, key_values
from api.shared.pagination import (
    Keyset,
    SortKey,
    count_rows,
    count_statement,
    fetch_count,
    fetch_page,
    fetch_prepared_page,
    page_statement,
)
from api.shared.rows import nested
from api.shared.schemas import EntityRef
from db.enums import DisputeKind, DisputeStatus, RelationKind
from db.models import (
    Dispute,
    DisputeEvent,
    DisputeParty,
    DisputeTerritory,
    Entity,
    EntityAlias,
    EntityRelation,
    Event,
    Evidence,
)
from seeds import apply as seed_apply
from seeds.schema import DisputeSeed, SeedDocument

TITLE_ORDER = (SortKey(Dispute.title, "str"), SortKey(Dispute.id, "uuid"))

# A partial date sorts by its bounds: earliest day first, then the earliest last day, so
# "1945" (1945-01-01..1945-12-31) comes before "1945/1956". A missing bound sorts as far out
# as it can, so an undated event comes first: in a dispute's history an event without a date
# is a standing condition the dated ones happen against (Japan and Russia have not signed a
# peace treaty), unbounded on both sides, where the events list puts undated events last
# (api.events.service.TIME_ORDER_UNDATED_LAST). asyncpg reads the infinities as
# date.min/date.max and writes those back as infinities, so cursors carry them faithfully.
TIME_ORDER_UNDATED_FIRST = (
    SortKey(
        func.coalesce(Event.time_earliest, literal_column("'-infinity'::date", Date())), "date"
    ),
    SortKey(func.coalesce(Event.time_latest, literal_column("'infinity'::date", Date())), "date"),
    SortKey(Event.id, "uuid"),
)


@dataclass(frozen=True, slots=True)
class DisputeFilters:
    """The filters of the disputes list, ids resolved: what its facets take too."""

    kind: DisputeKind | None = None
    status: DisputeStatus | None = None
    party_ids: tuple[uuid.UUID, ...] = ()
    territory_id: uuid.UUID | None = None


def filtered_disputes(filters: DisputeFilters) -> Select[Any]:
    """The disputes the list holds under `filters`, before paging."""
    query: Select[Any] = select(Dispute)
    if filters.kind is not None:
        query = query.where(Dispute.kind == filters.kind)
    if filters.status is not None:
        query = query.where(Dispute.status == filters.status)
    for party_id in filters.party_ids:
        # Every named entity must be a party: one EXISTS each, served by the unique
        # (dispute_id, entity_id) index.
        query = query.where(
            select(DisputeParty.id)
            .where(DisputeParty.dispute_id == Dispute.id, DisputeParty.entity_id == party_id)
            .exists()
        )
    if filters.territory_id is not None:
        query = query.where(
            select(DisputeTerritory.id)
            .where(
                DisputeTerritory.dispute_id == Dispute.id,
                DisputeTerritory.entity_id == filters.territory_id,
            )
            .exists()
        )
    return query


async def list_disputes(
    session: AsyncSession,
    *,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    kind: DisputeKind | None = None,
    status: DisputeStatus | None = None,
    party_ids: Sequence[uuid.UUID] = (),
    territory_id: uuid.UUID | None = None,
    count: bool = False,
) -> tuple[list[Dispute], list[Any] | None, int | None]:
    """One page of disputes, the sort key of its last row when more follow, and with `count`
    how many disputes the list holds."""
    query = filtered_disputes(
        DisputeFilters(
            kind=kind, status=status, party_ids=tuple(party_ids), territory_id=territory_id
        )
    )
    page, next_key = await fetch_page(session, query, keyset=keyset, after=after, limit=limit)
    total = await count_rows(session, query) if count else None
    return page, next_key, total


_BY_KEYS = select(Dispute).where(by_keys(Dispute.__table__))


async def disputes_by_keys(
    session: AsyncSession, keys: Sequence[str]
) -> tuple[list[Dispute], list[str]]:
    """The disputes `keys` name, in the order asked, and the keys naming none."""
    return await models_by_keys(session, _BY_KEYS, keys)


async def get_parties(
    session: AsyncSession, *, dispute_id: uuid.UUID
) -> list[tuple[DisputeParty, Entity]]:
    rows = await session.execute(
        select(DisputeParty, Entity)
        .join(Entity, Entity.id == DisputeParty.entity_id)
        .where(DisputeParty.dispute_id == dispute_id)
        .order_by(Entity.name, Entity.id)
    )
    return [(party, entity) for party, entity in rows]


async def get_territories(
    session: AsyncSession, *, dispute_id: uuid.UUID
) -> list[tuple[DisputeTerritory, Entity, Entity | None, Entity | None]]:
    """Each territory with its entity, who administers it and who claims it."""
    place = aliased(Entity)
    administrator = aliased(Entity)
    claimant = aliased(Entity)
    rows = await session.execute(
        select(DisputeTerritory, place, administrator, claimant)
        .join(place, place.id == DisputeTerritory.entity_id)
        .outerjoin(administrator, administrator.id == DisputeTerritory.administered_by_id)
        .outerjoin(claimant, claimant.id == DisputeTerritory.claimed_by_id)
        .where(DisputeTerritory.dispute_id == dispute_id)
        .order_by(place.name, place.id)
    )
    return [(territory, entity, admin, claim) for territory, entity, admin, claim in rows]


async def get_names(
    session: AsyncSession, *, dispute_id: uuid.UUID, used_by_id: uuid.UUID | None = None
) -> list[tuple[EntityAlias, Entity, Entity]]:
    """The names parties use for the dispute's territories and for the groups those are part
    of (the islands and "the Northern Territories" they make up): (alias, place, party)."""
    groups = (
        select(EntityRelation.object_id)
        .join(DisputeTerritory, DisputeTerritory.entity_id == EntityRelation.subject_id)
        .where(
            DisputeTerritory.dispute_id == dispute_id,
            EntityRelation.kind == RelationKind.PART_OF,
        )
    )
    territories = select(DisputeTerritory.entity_id).where(
        DisputeTerritory.dispute_id == dispute_id
    )
    places = union(territories, groups).subquery("places")
    place = aliased(Entity)
    party = aliased(Entity)
    query = (
        select(EntityAlias, place, party)
        .join(place, place.id == EntityAlias.entity_id)
        .join(party, party.id == EntityAlias.used_by_id)
        .where(EntityAlias.entity_id.in_(select(places.c.entity_id)))
        .order_by(place.name, place.id, party.name, EntityAlias.language, EntityAlias.name)
    )
    if used_by_id is not None:
        query = query.where(EntityAlias.used_by_id == used_by_id)
    rows = await session.execute(query)
    return [(alias, named, user) for alias, named, user in rows]


_EVENT = Event.__table__
_TIMELINE_LINK = DisputeEvent.__table__
_PLACE = Entity.__table__.alias("place")
# A timeline entry in one row: the event, what it did to the dispute, and its location.
_TIMELINE = (
    select(
        _EVENT.c.id,
        _EVENT.c.slug,
        _EVENT.c.title,
        _EVENT.c.event_type,
        _EVENT.c.modality,
        _EVENT.c.time_edtf,
        _EVENT.c.time_earliest,
        _EVENT.c.time_latest,
        _EVENT.c.time_precision,
        _TIMELINE_LINK.c.role,
        _TIMELINE_LINK.c.significance,
        _TIMELINE_LINK.c.id.label("link_id"),
        *nested("location", _PLACE, EntityRef),
    )
    .join(_TIMELINE_LINK, _TIMELINE_LINK.c.event_id == _EVENT.c.id)
    .outerjoin(_PLACE, _PLACE.c.id == _EVENT.c.location_id)
)


_DISPUTE = Dispute.__table__

# The timeline of the dispute the key parameter `dispute` names (an id or a slug, resolved
# inside the statement: `id_of_key`), built once without and with a cursor, and its count.
# Each entry's participants and evidence come in the same statement, as JSON arrays.
_DISPUTE_TIMELINE = _TIMELINE.where(_TIMELINE_LINK.c.dispute_id == id_of_key(_DISPUTE, "dispute"))
_TIMELINE_PAGE = {
    cursor: page_statement(
        _DISPUTE_TIMELINE.add_columns(
            participant_array(_EVENT.c.id),
            evidence_array("event_id", _EVENT.c.id),
            evidence_array("dispute_event_id", _TIMELINE_LINK.c.id, name="link_evidence"),
        ),
        TIME_ORDER_UNDATED_FIRST,
        cursor=cursor,
    )
    for cursor in (False, True)
}
_TIMELINE_COUNT = count_statement(_DISPUTE_TIMELINE)


async def get_timeline(
    session: AsyncSession,
    *,
    dispute: str,
    after: Sequence[Any] | None,
    limit: int,
    count: bool = False,
) -> tuple[list[dict[str, Any]], list[Any] | None, int | None]:
    """One page of the events of the dispute `dispute` (id or slug) names, in time order,
    each with its role in the dispute, its location, its time columns, and its participants
    and evidence as JSON arrays (api.disputes.presenters makes timeline entries of them), and
    with `count` how many events the timeline holds. One statement when the page has entries
    (they prove the dispute exists); an empty page looks the key up, and is a 404 when it
    names no dispute."""
    parameters = key_values("dispute", dispute)
    rows, next_key = await fetch_prepared_page(
        session, _TIMELINE_PAGE[after is not None], parameters, after=after, limit=limit
    )
    if not rows:
        await id_by_key(session, _DISPUTE, dispute, "dispute")
    total = await fetch_count(session, _TIMELINE_COUNT, parameters) if count else None
    return rows, next_key, total


# -- writes: through the seed planner, as api.entities.service explains ---------------------

# The parts a PATCH can replace: (field, parent column, evidence column).
_PARTS = (
    ("parties", DisputeParty.dispute_id, Evidence.dispute_party_id),
    ("territories", DisputeTerritory.dispute_id, Evidence.dispute_territory_id),
    ("events", DisputeEvent.dispute_id, Evidence.dispute_event_id),
)


async def create_dispute(session: AsyncSession, *, data: DisputeCreate) -> Dispute:
    await seed_writes.refuse_taken_slug(
        session, Dispute, data.slug, resource="dispute", collection="disputes"
    )
    await seed_writes.apply_seed(session, SeedDocument(disputes=[data]), resource="dispute")
    return (await session.scalars(select(Dispute).where(Dispute.slug == data.slug))).one()


async def update_dispute(
    session: AsyncSession, *, dispute: Dispute, data: DisputeUpdate
) -> Dispute:
    changes = data.model_dump(exclude_unset=True)
    evidence, replacing_evidence = await seed_apply.evidence_seeds(
        session, "dispute_id", dispute.id
    )
    values = {
        "slug": dispute.slug,
        "title": dispute.title,
        "kind": dispute.kind,
        "status": dispute.status,
        "time": dispute.time_edtf,
        "summary": dispute.summary,
        "evidence": evidence,
    } | changes
    seed = seed_writes.validate_seed(DisputeSeed, values)
    replacing: dict[str, set[uuid.UUID]] = {"evidence": replacing_evidence}
    for field, parent, evidence_column in _PARTS:
        if field in changes:
            await seed_writes.replace_part(session, replacing, parent, dispute.id, evidence_column)
    await seed_writes.update_from_seed(
        session,
        dispute,
        seed,
        SeedDocument(disputes=[seed]),
        resource="dispute",
        collection="disputes",
        replacing=replacing,
    )
    return dispute


async def delete_dispute(session: AsyncSession, *, dispute: Dispute) -> None:
    # Nothing else refers to a dispute: its parties, territories, timeline links and evidence
    # go by ON DELETE CASCADE; the entities and events they name stay.
    await session.execute(sa_delete(Dispute).where(Dispute.id == dispute.id))
    session.expunge(dispute)
