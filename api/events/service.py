import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    Date,
    Label,
    Select,
    bindparam,
    case,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy import delete as sa_delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.events.schemas import EventCreate, EventUpdate, iso_duration
from api.shared import seed_writes
from api.shared.batch import rows_by_keys
from api.shared.lookup import by_keys, id_for_filter, id_of_key, ids_for_filter, key_values
from api.shared.pagination import (
    SortKey,
    count_statement,
    fetch_count,
    fetch_prepared_page,
    page_statement,
)
from api.shared.rows import json_array, json_object, nested
from api.shared.schemas import EntityRef, ParticipantRef
from api.shared.writes import refuse_if_referenced
from db.enums import EventType, Modality, ParticipantRole
from db.models import (
    Dispute,
    DisputeEvent,
    Entity,
    Event,
    EventParticipant,
    Evidence,
    Statement,
)
from seeds import apply as seed_apply
from seeds.problems import SeedError, SeedProblem
from seeds.schema import EventSeed, SeedDocument

# PostgreSQL's infinities sort around every date; asyncpg reads them back as date.max/min and
# writes those as the infinities, so cursors round-trip.
_UNDATED = literal_column("'infinity'::date", Date)
_OPEN_START = literal_column("'-infinity'::date", Date)

# The events list answers "what happened when": an event whose time nobody recorded has no
# place in that order, so it comes after every dated one (as no from/to range matches it),
# while an open start ("../1855-02-07", some time before a date) comes first. A dispute's
# timeline reads an undated event the other way: api.disputes.service.TIME_ORDER_UNDATED_FIRST.
TIME_ORDER_UNDATED_LAST = (
    SortKey(
        case(
            (Event.time_edtf.is_(None), _UNDATED),
            else_=func.coalesce(Event.time_earliest, _OPEN_START),
        ),
        "date",
    ),
    SortKey(func.coalesce(Event.time_latest, _UNDATED), "date"),
    SortKey(Event.id, "uuid"),
)

# Written exactly as the GiST index `ix_event_time_range` so the planner can use it; NULL
# bounds make the range unbounded on that side.
_EVENT_SPAN = func.daterange(Event.time_earliest, Event.time_latest, literal_column("'[]'"))

# Who acts first, then who is acted upon, then everyone else: the order a sentence names them.
_ROLE_ORDER = case(
    {role: position for position, role in enumerate(ParticipantRole)},
    value=EventParticipant.role,
)


# The columns of an event that its list and detail forms show.
EVENT_COLUMNS = (
    "id",
    "slug",
    "title",
    "summary",
    "event_type",
    "mode",
    "contexts",
    "modality",
    "time_edtf",
    "time_earliest",
    "time_latest",
    "time_precision",
    "duration",
    "version",
    "created_at",
    "updated_at",
)
_EVENT = Event.__table__
_PLACE = Entity.__table__.alias("place")
# A list item in one row: the event and its location.
_EVENT_LIST: Select[Any] = select(
    *(_EVENT.c[name] for name in EVENT_COLUMNS),
    *nested("location", _PLACE, EntityRef),
).outerjoin(_PLACE, _PLACE.c.id == _EVENT.c.location_id)


_PARTICIPANT = EventParticipant.__table__
_ENTITY = Entity.__table__
_DISPUTE = Dispute.__table__


def participant_array(event_id: ColumnElement[Any]) -> Label[str]:
    """Who took part in the event `event_id` names, as a JSON array of `ParticipantRef`s that
    PostgreSQL builds inside the statement that reads the event (`rows.json_array`; actors
    first, then by name): a page of events gets its participants in the same round trip.
    `parse_participants` reads it."""
    entity = json_object({name: _ENTITY.c[name] for name in EntityRef.model_fields})
    item = json_object({"entity": entity, "role": _PARTICIPANT.c.role})
    return json_array(
        item,
        order_by=(_ROLE_ORDER, _ENTITY.c.name, _ENTITY.c.id),
        from_=_PARTICIPANT.join(_ENTITY, _ENTITY.c.id == _PARTICIPANT.c.entity_id),
        where=_PARTICIPANT.c.event_id == event_id,
    ).label("participants")


# Parsed and validated in one pass, as api.shared.evidence.parse_array.
_PARTICIPANT_ARRAY = TypeAdapter(list[ParticipantRef])


def parse_participants(array: str) -> list[ParticipantRef]:
    return _PARTICIPANT_ARRAY.validate_json(array)


# An event's participants, as a column of a statement that reads events.
_PARTICIPANTS = participant_array(_EVENT.c.id)


def overlapping(time_from: Any, time_to: Any) -> Any:
    """Events whose time may fall within [time_from, time_to]; an event without a time has
    nothing to overlap, so it never matches a range."""
    wanted = func.daterange(time_from, time_to, literal_column("'[]'"))
    return Event.time_edtf.is_not(None) & _EVENT_SPAN.op("&&")(wanted)


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a list request uses: the statement for each shape is built once."""

    event_types: bool
    mode: bool
    contexts: bool
    modality: bool
    participants: int
    dispute: bool
    location: bool
    time: bool
    cursor: bool
    # The key filters (participants, dispute, location) as keys (ids or slugs) found inside
    # the statement (`id_of_key`), not as ids looked up before it.
    by_keys: bool = False


def _key_filter(table: Any, name: str, by_key: bool) -> Any:
    """The id a list filters by: the parameter `name`_id, or with `by_key` the row of `table`
    that the key parameter `name` names, found by the statement itself."""
    return id_of_key(table, name) if by_key else bindparam(f"{name}_id")


def _participant(position: int, by_key: bool) -> Any:
    """The id of the `position`-th participant a list filters by (`_key_filter`)."""
    return _key_filter(_ENTITY, f"participant_{position}", by_key)


def _events_of(time: bool, by_key: bool = False) -> Any:
    """The events `participant_0` takes part in, each once, as the keys of
    TIME_ORDER_UNDATED_LAST its participant rows carry (see EventParticipant.event_start): an
    ordered range of ix_event_participant_entity_time, so a page stops after its own rows
    instead of reading and sorting every event of a popular entity. With a time range, only
    events that could overlap it; the exact test stays on the event (`overlapping`)."""
    query = (
        select(_PARTICIPANT.c.event_start, _PARTICIPANT.c.event_end, _PARTICIPANT.c.event_id)
        .where(_PARTICIPANT.c.entity_id == _participant(0, by_key))
        # One row per event even where the entity takes part in two roles.
        .distinct()
    )
    if time:
        query = query.where(
            _PARTICIPANT.c.event_start <= func.coalesce(bindparam("time_to", type_=Date), _UNDATED),
            _PARTICIPANT.c.event_end
            >= func.coalesce(bindparam("time_from", type_=Date), _OPEN_START),
        )
    return query.subquery("participation")


def _filtered(shape: _Shape) -> tuple[Select[Any], tuple[SortKey, ...]]:
    """The events a shape of request lists, every value a parameter, and their order."""
    query: Select[Any] = _EVENT_LIST
    order = TIME_ORDER_UNDATED_LAST
    if shape.participants:
        # Driven by the first participant's rows, in their order (the same keys, stored).
        events_of = _events_of(shape.time, shape.by_keys)
        query = select(*_EVENT_LIST.selected_columns).select_from(
            events_of.join(_EVENT, _EVENT.c.id == events_of.c.event_id).outerjoin(
                _PLACE, _PLACE.c.id == _EVENT.c.location_id
            )
        )
        order = (
            SortKey(events_of.c.event_start, "date"),
            SortKey(events_of.c.event_end, "date"),
            SortKey(events_of.c.event_id, "uuid"),
        )
    if shape.event_types:
        query = query.where(Event.event_type.in_(bindparam("event_types", expanding=True)))
    if shape.mode:
        query = query.where(Event.mode == bindparam("mode"))
    if shape.contexts:
        # `@>` (contains all) is served by the GIN index on contexts.
        query = query.where(Event.contexts.contains(bindparam("contexts")))
    if shape.modality:
        query = query.where(Event.modality == bindparam("modality"))
    for position in range(1, shape.participants):
        # Every other named entity must take part too, in any role: one EXISTS each.
        query = query.where(
            select(EventParticipant.id)
            .where(
                EventParticipant.event_id == Event.id,
                EventParticipant.entity_id == _participant(position, shape.by_keys),
            )
            .exists()
        )
    if shape.dispute:
        query = query.where(
            select(DisputeEvent.id)
            .where(
                DisputeEvent.event_id == Event.id,
                DisputeEvent.dispute_id == _key_filter(_DISPUTE, "dispute", shape.by_keys),
            )
            .exists()
        )
    if shape.location:
        query = query.where(Event.location_id == _key_filter(_ENTITY, "location", shape.by_keys))
    if shape.time:
        query = query.where(
            overlapping(bindparam("time_from", type_=Date), bindparam("time_to", type_=Date))
        )
    return query, order


@lru_cache(maxsize=1024)
def _list_statement(shape: _Shape) -> Select[Any]:
    """The page statement for one shape of request, every value a parameter (built once:
    see api.articles.service._list_statement)."""
    query, order = _filtered(shape)
    return page_statement(query.add_columns(_PARTICIPANTS), order, cursor=shape.cursor)


@lru_cache(maxsize=512)
def _count_statement(shape: _Shape) -> Select[Any]:
    """How many events a shape of request lists (`count=exact`), built once."""
    return count_statement(_filtered(shape)[0])


@dataclass(frozen=True, slots=True)
class EventFilters:
    """The filters of the events list, ids resolved: what its histogram and facets take too.
    Or the keys (ids or slugs) of its participants, dispute and location, found by the list's
    statement itself (its `shape` says so): an empty page then looks them up, to answer 400
    for one that names nothing. One filter takes ids or keys, never both."""

    event_types: tuple[EventType, ...] = ()
    mode: str | None = None
    contexts: tuple[str, ...] = ()
    modality: Modality | None = None
    participant_ids: tuple[uuid.UUID, ...] = ()
    dispute_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    participant_keys: tuple[str, ...] = ()
    dispute_key: str | None = None
    location_key: str | None = None
    time_from: date | None = None
    time_to: date | None = None

    def __post_init__(self) -> None:
        ids = self.participant_ids or self.dispute_id is not None or self.location_id is not None
        if ids and self.by_keys:
            raise ValueError("filters take ids or keys, not both")

    @property
    def by_keys(self) -> bool:
        return bool(self.participant_keys) or bool(self.dispute_key) or bool(self.location_key)

    @property
    def has_time(self) -> bool:
        return self.time_from is not None or self.time_to is not None

    def shape(self, *, cursor: bool = False) -> _Shape:
        return _Shape(
            event_types=bool(self.event_types),
            mode=self.mode is not None,
            contexts=bool(self.contexts),
            modality=self.modality is not None,
            participants=len(self.participant_ids) or len(self.participant_keys),
            dispute=self.dispute_id is not None or bool(self.dispute_key),
            location=self.location_id is not None or bool(self.location_key),
            time=self.has_time,
            cursor=cursor,
            by_keys=self.by_keys,
        )

    def parameters(self) -> dict[str, Any]:
        """The values of the shape's statement parameters."""
        values: dict[str, Any] = {
            "event_types": list(self.event_types),
            "mode": self.mode,
            "contexts": list(self.contexts),
            "modality": self.modality,
            "dispute_id": self.dispute_id,
            "location_id": self.location_id,
            **{
                f"participant_{n}_id": entity_id for n, entity_id in enumerate(self.participant_ids)
            },
        }
        parameters = {name: value for name, value in values.items() if value not in (None, [])}
        # Each key's two parameters, one of them NULL (`key_values`).
        for n, key in enumerate(self.participant_keys):
            parameters |= key_values(f"participant_{n}", key)
        if self.dispute_key:
            parameters |= key_values("dispute", self.dispute_key)
        if self.location_key:
            parameters |= key_values("location", self.location_key)
        if self.has_time:
            # An open side stays NULL: daterange() leaves it unbounded.
            parameters |= {"time_from": self.time_from, "time_to": self.time_to}
        return parameters


# Which filters a request uses, without their values: what statements are cached by.
ListShape = _Shape


def filtered_events(shape: ListShape) -> Select[Any]:
    """The events list's statement for a shape of request before paging (its parameters are
    `EventFilters.parameters()`): what histograms and facets count."""
    return _filtered(replace(shape, cursor=False))[0]


def participant_only(shape: ListShape) -> bool:
    """Whether a shape filters by one participant and nothing else: then the participant's
    rows alone (`participations`) are the list's events, each once."""
    return shape == ListShape(
        event_types=False,
        mode=False,
        contexts=False,
        modality=False,
        participants=1,
        dispute=False,
        location=False,
        time=False,
        cursor=False,
    )


def participations() -> Any:
    """The events of `participant_0`, each once, as the time keys its participant rows carry
    (`event_start`, `event_end`: TIME_ORDER_UNDATED_LAST's, 'infinity' starting an undated
    event): an index-only range of ix_event_participant_entity_time, no event row read."""
    return _events_of(time=False)


async def key_ids(
    session: AsyncSession, participants: Sequence[str], dispute: str | None, location: str | None
) -> tuple[tuple[uuid.UUID, ...], uuid.UUID | None, uuid.UUID | None]:
    """The ids the list's filter keys name, looked up in this order: the first key that names
    nothing is the 400. No keys, no statement."""
    return (
        tuple(await ids_for_filter(session, Entity, participants, "participant")),
        await id_for_filter(session, Dispute, dispute, "dispute"),
        await id_for_filter(session, Entity, location, "location"),
    )


async def list_events(
    session: AsyncSession,
    filters: EventFilters,
    *,
    after: Sequence[Any] | None,
    limit: int,
    count: bool = False,
) -> tuple[list[dict[str, Any]], list[Any] | None, int | None]:
    """One page of events in `TIME_ORDER_UNDATED_LAST`, as `EVENT_COLUMNS` and their `location`
    (EntityRef fields or None), the sort key of its last row when more follow, and with
    `count` how many events the list holds. Filter keys are found by the page's own
    statement; only an empty page looks them up (`key_ids`), to answer 400 for a key that
    names nothing rather than an empty list."""
    shape = filters.shape(cursor=after is not None)
    parameters = filters.parameters()
    page, next_key = await fetch_prepared_page(
        session, _list_statement(shape), parameters, after=after, limit=limit
    )
    if not page and filters.by_keys:
        await key_ids(session, filters.participant_keys, filters.dispute_key, filters.location_key)
    if not count:
        return page, next_key, None
    total = await fetch_count(session, _count_statement(replace(shape, cursor=False)), parameters)
    return page, next_key, total


async def count_events(session: AsyncSession, filters: EventFilters) -> int:
    """How many events the list holds under `filters` (its `count=exact` total)."""
    return await fetch_count(session, _count_statement(filters.shape()), filters.parameters())


# Events as lists show them, by ids and slugs (a batch lookup).
_BY_KEYS = _EVENT_LIST.add_columns(_PARTICIPANTS).where(by_keys(_EVENT))


async def events_by_keys(
    session: AsyncSession, keys: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The events `keys` name, as `list_events` rows in the order asked, and the keys naming
    none."""
    return await rows_by_keys(session, _BY_KEYS, keys)


async def get_entities(
    session: AsyncSession, *, entity_ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Entity]:
    wanted = {entity_id for entity_id in entity_ids if entity_id is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(Entity).where(Entity.id.in_(wanted)))
    return {entity.id: entity for entity in rows}


async def get_participants(
    session: AsyncSession, *, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[EventParticipant, Entity]]]:
    """Participants grouped by event, actors first, then by name."""
    grouped: dict[uuid.UUID, list[tuple[EventParticipant, Entity]]] = defaultdict(list)
    if not event_ids:
        return grouped
    rows = await session.execute(
        select(EventParticipant, Entity)
        .join(Entity, Entity.id == EventParticipant.entity_id)
        .where(EventParticipant.event_id.in_(list(event_ids)))
        .order_by(EventParticipant.event_id, _ROLE_ORDER, Entity.name, Entity.id)
    )
    for participant, entity in rows:
        grouped[participant.event_id].append((participant, entity))
    return grouped


async def get_parent(session: AsyncSession, *, parent_id: uuid.UUID | None) -> Event | None:
    return await session.get(Event, parent_id) if parent_id is not None else None


async def get_statements(
    session: AsyncSession, *, event_id: uuid.UUID
) -> list[tuple[Statement, Entity, Entity | None]]:
    """(statement, speaker, who conveyed it) for every statement of the event, by slug."""
    speaker = aliased(Entity)
    conveyed_by = aliased(Entity)
    rows = await session.execute(
        select(Statement, speaker, conveyed_by)
        .join(speaker, speaker.id == Statement.speaker_id)
        .outerjoin(conveyed_by, conveyed_by.id == Statement.conveyed_by_id)
        .where(Statement.event_id == event_id)
        .order_by(Statement.slug)
    )
    return [(statement, who, via) for statement, who, via in rows]


async def get_disputes(
    session: AsyncSession, *, event_id: uuid.UUID
) -> list[tuple[DisputeEvent, Dispute]]:
    """The disputes whose timeline includes the event, with the part it plays in each."""
    rows = await session.execute(
        select(DisputeEvent, Dispute)
        .join(Dispute, Dispute.id == DisputeEvent.dispute_id)
        .where(DisputeEvent.event_id == event_id)
        .order_by(Dispute.title, Dispute.id)
    )
    return [(link, dispute) for link, dispute in rows]


# -- writes: through the seed planner, as api.entities.service explains ---------------------


async def create_event(session: AsyncSession, *, data: EventCreate) -> Event:
    await seed_writes.refuse_taken_slug(
        session, Event, data.slug, resource="event", collection="events"
    )
    await seed_writes.apply_seed(session, SeedDocument(events=[data]), resource="event")
    return (await session.scalars(select(Event).where(Event.slug == data.slug))).one()


async def _seed_values(session: AsyncSession, event: Event) -> dict[str, Any]:
    return {
        "slug": event.slug,
        "title": event.title,
        "summary": event.summary,
        "type": event.event_type,
        "mode": event.mode,
        "modality": event.modality,
        "contexts": event.contexts,
        "time": event.time_edtf,
        "duration": iso_duration(event.duration),
        "location": await seed_writes.slug_of(session, Entity, event.location_id),
        "parent": await seed_writes.slug_of(session, Event, event.parent_id),
    }


async def update_event(session: AsyncSession, *, event: Event, data: EventUpdate) -> Event:
    changes = data.model_dump(exclude_unset=True)
    evidence, replacing_evidence = await seed_apply.evidence_seeds(session, "event_id", event.id)
    values = await _seed_values(session, event) | {"evidence": evidence} | changes
    seed = seed_writes.validate_seed(EventSeed, values)
    replacing: dict[str, set[uuid.UUID]] = {"evidence": replacing_evidence}
    if "participants" in changes:
        await seed_writes.replace_part(
            session, replacing, EventParticipant.event_id, event.id, Evidence.event_participant_id
        )
    if seed.parent is not None and seed.parent != seed.slug:
        await _refuse_parent_loop(session, event, slug=seed.slug, parent=seed.parent)
    await seed_writes.update_from_seed(
        session,
        event,
        seed,
        SeedDocument(events=[seed]),
        resource="event",
        collection="events",
        replacing=replacing,
    )
    return event


async def _refuse_parent_loop(
    session: AsyncSession, event: Event, *, slug: str, parent: str
) -> None:
    """The planner sees only the event planned; a loop through parents already in the database
    (the new parent descends from this event) is refused here, in the planner's words."""
    chain = [slug]
    ancestor = await session.scalar(select(Event).where(Event.slug == parent))
    while ancestor is not None and ancestor.slug not in chain[1:]:
        if ancestor.id == event.id:
            message = "event parents form a loop: " + " -> ".join([*chain, slug])
            raise seed_writes.seed_problem(
                SeedError([SeedProblem(seed_apply.REQUEST, "parent", message)])
            )
        chain.append(ancestor.slug)
        ancestor = await get_parent(session, parent_id=ancestor.parent_id)


async def delete_event(session: AsyncSession, *, event: Event, cascade: bool) -> None:
    """With `cascade`, the event leaves the disputes' timelines it is in, and statements made
    in it and events that were part of it lose that link (they are kept)."""
    event_id = event.id
    links = DisputeEvent.event_id == event_id
    optional: dict[str, tuple[Any, Any, str]] = {
        "statements": (Statement, Statement.event_id == event_id, "event_id"),
        "events that are part of it": (Event, Event.parent_id == event_id, "parent_id"),
    }
    if not cascade:
        counts = {"dispute timelines": await seed_writes.count(session, DisputeEvent, links)}
        for what, (model, where, _) in optional.items():
            counts[what] = await seed_writes.count(session, model, where)
        refuse_if_referenced("event", counts)
    for model, where, column in optional.values():
        await session.execute(
            update(model).where(where).values({column: None}),
            execution_options={"synchronize_session": False},
        )
    await session.execute(sa_delete(DisputeEvent).where(links))
    # Its participants and evidence go by ON DELETE CASCADE.
    await session.execute(sa_delete(Event).where(Event.id == event_id))
    session.expunge(event)
