import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy import delete as sa_delete
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.entities.schemas import EntityCreate, EntityUpdate
from api.shared import seed_writes
from api.shared.batch import rows_by_keys
from api.shared.lookup import by_keys
from api.shared.pagination import (
    Keyset,
    SortKey,
    count_rows,
    count_statement,
    fetch_count,
    fetch_page,
    fetch_prepared_page,
    page_statement,
    sort_columns,
)
from api.shared.rows import columns
from api.shared.writes import refuse_if_referenced
from db.enums import EntityKind
from db.models import (
    DisputeParty,
    DisputeTerritory,
    Entity,
    EntityAlias,
    EntityRelation,
    Event,
    EventParticipant,
    Evidence,
    Mention,
    Statement,
)
from seeds import apply as seed_apply
from seeds.schema import EntitySeed, SeedDocument


def _folded(column: Any) -> Any:
    # The expression of the stored `search_name` columns (db.models.entity.FOLDED_NAME_SQL).
    return func.immutable_unaccent(func.lower(column))


# Alphabetical whatever the database collation: "Étorofu" sorts with the Es.
NAME_ORDER = (SortKey(Entity.search_name, "str"), SortKey(Entity.id, "uuid"))


# The search text of a name search, and the same with LIKE's wildcards escaped (`name_matches`).
_Q = bindparam("q", type_=String)
_Q_LIKE = bindparam("q_like", type_=String)


def name_parameters(q: str) -> dict[str, str]:
    """The values of `name_matches`' parameters for the search text `q`."""
    # LIKE wildcards in the user's text are literal characters.
    return {"q": q, "q_like": q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")}


@functools.cache
def name_matches() -> Any:
    """Entities whose name or any alias matches the parameter `q`, with their best score
    (`name_parameters` gives the values). Built once: every value is a parameter.

    A prefix of the folded (lower-cased, unaccented) name or of one of its words scores 1 plus
    its trigram word similarity; a fuzzy match (typos, word order) scores its similarity alone.
    """
    folded_q = _folded(_Q)
    folded_escaped = _folded(_Q_LIKE)
    # The stored folded names, which the trigram indexes hold: no row folds its name again.
    labels = union_all(
        select(Entity.id.label("entity_id"), Entity.search_name.label("folded")),
        select(EntityAlias.entity_id, EntityAlias.search_name),
    ).subquery("labels")
    # A prefix of the name or of any word in it: "kishida" is a prefix of "fumio kishida".
    prefix = labels.c.folded.like(folded_escaped.concat("%"), escape="\\") | labels.c.folded.like(
        literal("% ").concat(folded_escaped).concat("%"), escape="\\"
    )
    similarity = func.word_similarity(folded_q, labels.c.folded)
    # Typed as the float it is (integer + real): typed by its left operand, the score was an
    # Integer to SQLAlchemy, and a cursor's fractional score went to the database cast to an
    # integer (1.8 -> 1), so the next page skipped every match scoring between the two.
    score = func.max(cast(prefix, Integer) + similarity, type_=Float)
    return (
        select(labels.c.entity_id, score.label("score"))
        .where(prefix | folded_q.op("<%")(labels.c.folded))
        .group_by(labels.c.entity_id)
        .subquery("matches")
    )


def ordering(q: bool) -> tuple[SortKey, ...]:
    """Best match first with a search text, else by name."""
    if not q:
        return NAME_ORDER
    return (SortKey(name_matches().c.score, "float", True), SortKey(Entity.id, "uuid"))


# An entity as lists show it: every column but the stored folded name.
SUMMARY_COLUMNS = columns(Entity.__table__, omit=("search_name",))


@dataclass(frozen=True, slots=True)
class _Shape:
    q: bool
    kind: bool
    wikidata: bool
    cursor: bool


def _filtered(shape: _Shape) -> Select[Any]:
    """The entities a shape of request lists, every value a parameter."""
    query = select(*SUMMARY_COLUMNS)
    if shape.q:
        matches = name_matches()
        query = query.join(matches, matches.c.entity_id == Entity.id)
    if shape.kind:
        query = query.where(Entity.kind == bindparam("kind"))
    if shape.wikidata:
        query = query.where(Entity.external_ids.contains(bindparam("wikidata", type_=JSONB)))
    return query


@functools.lru_cache(maxsize=64)
def _list_statement(shape: _Shape) -> Select[Any]:
    """The page statement for one shape of request, every value a parameter, built once."""
    if shape.q and not (shape.kind or shape.wikidata):
        return _best_matches_statement(cursor=shape.cursor)
    return page_statement(_filtered(shape), ordering(shape.q), cursor=shape.cursor)


@functools.lru_cache(maxsize=32)
def _count_statement(shape: _Shape) -> Select[Any]:
    """How many entities a shape of request lists (`count=exact`), built once."""
    if shape.q and not (shape.kind or shape.wikidata):
        return select(func.count().label("total")).select_from(name_matches())
    return count_statement(_filtered(shape))


def _best_matches_statement(*, cursor: bool) -> Select[Any]:
    """A page of name matches with no other filter: the page is cut from the matches first,
    and only its entities are read. Joined before the cut, a common word ("Fort": 931 names
    and aliases, 495 entities) made PostgreSQL read and hash every entity (21,000 at the
    100k corpus), half of the statement's time. Same order, same keys, same cursors."""
    matches = name_matches()
    best = page_statement(
        select(matches.c.entity_id),
        (SortKey(matches.c.score, "float", True), SortKey(matches.c.entity_id, "uuid")),
        cursor=cursor,
    ).subquery("best")
    score, entity_id = sort_columns(best, 2)
    return (
        select(*SUMMARY_COLUMNS, score, entity_id)
        .join(best, best.c.entity_id == Entity.id)
        .order_by(score.desc(), entity_id)
    )


async def list_entities(
    session: AsyncSession,
    *,
    q: str | None,
    after: Sequence[Any] | None,
    limit: int,
    kind: EntityKind | None = None,
    wikidata: str | None = None,
    count: bool = False,
) -> tuple[list[dict[str, Any]], list[Any] | None, int | None]:
    """One page of entities in `ordering(q)`, as their columns, the sort key of its last row
    when more follow, and with `count` how many entities the list holds."""
    shape = _Shape(
        q=bool(q), kind=kind is not None, wikidata=wikidata is not None, cursor=after is not None
    )
    parameters: dict[str, Any] = name_parameters(q) if q else {}
    if kind is not None:
        parameters["kind"] = kind
    if wikidata is not None:
        parameters["wikidata"] = {"wikidata": wikidata}
    page, next_key = await fetch_prepared_page(
        session, _list_statement(shape), parameters, after=after, limit=limit
    )
    if not count:
        return page, next_key, None
    total = await fetch_count(session, _count_statement(replace(shape, cursor=False)), parameters)
    return page, next_key, total


# Entities as lists show them, by ids and slugs (a batch lookup).
_BY_KEYS = select(*SUMMARY_COLUMNS).where(by_keys(Entity.__table__))


async def entities_by_keys(
    session: AsyncSession, keys: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The entities `keys` name, as list items in the order asked, and the keys naming none."""
    return await rows_by_keys(session, _BY_KEYS, keys)


async def get_aliases(
    session: AsyncSession, *, entity_id: uuid.UUID
) -> list[tuple[EntityAlias, Entity | None]]:
    used_by = aliased(Entity)
    rows = await session.execute(
        select(EntityAlias, used_by)
        .outerjoin(used_by, used_by.id == EntityAlias.used_by_id)
        .where(EntityAlias.entity_id == entity_id)
        .order_by(EntityAlias.name, EntityAlias.language)
    )
    return [(alias, party) for alias, party in rows]


async def get_relations(
    session: AsyncSession, *, entity_id: uuid.UUID
) -> list[tuple[EntityRelation, Entity, bool]]:
    """Relations in both directions: (relation, the other entity, outgoing?)."""
    other = aliased(Entity)
    outgoing = EntityRelation.subject_id == entity_id
    rows = await session.execute(
        select(EntityRelation, other, outgoing)
        .join(
            other,
            other.id.in_([EntityRelation.subject_id, EntityRelation.object_id])
            & (other.id != entity_id),
        )
        .where((EntityRelation.subject_id == entity_id) | (EntityRelation.object_id == entity_id))
        .order_by(EntityRelation.kind, EntityRelation.time_earliest, other.name)
    )
    return [(relation, entity, bool(out)) for relation, entity, out in rows]


async def get_counts(session: AsyncSession, *, entity_id: uuid.UUID) -> tuple[int, int]:
    articles = (
        select(func.count(func.distinct(Mention.article_id)))
        .where(Mention.entity_id == entity_id)
        .scalar_subquery()
    )
    events = (
        select(func.count(func.distinct(EventParticipant.event_id)))
        .where(EventParticipant.entity_id == entity_id)
        .scalar_subquery()
    )
    row = (await session.execute(select(articles, events))).one()
    return int(row[0]), int(row[1])


def co_mentions(entity_id: uuid.UUID) -> Any:
    """Entities named in the same articles as `entity_id`, with how many articles they share.

    Over distinct (article, entity) pairs on both sides: joining mention rows to mention rows
    multiplies an article's mentions of one entity by its mentions of every other (an article
    naming Japan 74,000 times timed out at 15 s)."""
    articles = (
        select(Mention.article_id).where(Mention.entity_id == entity_id).distinct().subquery()
    )
    pairs = (
        select(Mention.article_id, Mention.entity_id)
        .join(articles, articles.c.article_id == Mention.article_id)
        .where(Mention.entity_id != entity_id)
        .distinct()
        .subquery()
    )
    return (
        select(pairs.c.entity_id.label("entity_id"), func.count().label("articles"))
        .group_by(pairs.c.entity_id)
        .subquery("co_mentions")
    )


def related_ordering(co_mentioned: Any) -> tuple[SortKey, ...]:
    return (
        SortKey(co_mentioned.c.articles, "int", True),
        SortKey(Entity.search_name, "str"),
        SortKey(Entity.id, "uuid"),
    )


async def list_related(
    session: AsyncSession,
    *,
    co_mentioned: Any,
    keyset: Keyset,
    after: Sequence[Any] | None,
    limit: int,
    count: bool = False,
) -> tuple[list[tuple[Entity, int]], list[Any] | None, int | None]:
    query = select(Entity, co_mentioned.c.articles).join(
        co_mentioned, co_mentioned.c.entity_id == Entity.id
    )
    rows, next_key = await fetch_page(
        session, query, keyset=keyset, after=after, limit=limit, whole_rows=True
    )
    total = await count_rows(session, query) if count else None
    return [(entity, int(articles)) for entity, articles in rows], next_key, total


# -- writes ---------------------------------------------------------------------------------
# Request bodies are seed models, planned and written by the seed loader's code (seeds.apply):
# the API checks exactly what the loader checks. The other resources' writes use these too.


def _entity_seed_values(entity: Entity) -> dict[str, Any]:
    return {
        "slug": entity.slug,
        "kind": entity.kind,
        "name": entity.name,
        "description": entity.description,
        "external_ids": entity.external_ids,
    }


async def create_entity(session: AsyncSession, *, data: EntityCreate) -> Entity:
    await seed_writes.refuse_taken_slug(
        session, Entity, data.slug, resource="entity", collection="entities"
    )
    await seed_writes.apply_seed(session, SeedDocument(entities=[data]), resource="entity")
    return (await session.scalars(select(Entity).where(Entity.slug == data.slug))).one()


async def update_entity(session: AsyncSession, *, entity: Entity, data: EntityUpdate) -> Entity:
    changes = data.model_dump(exclude_unset=True)
    evidence, replacing_evidence = await seed_apply.evidence_seeds(session, "entity_id", entity.id)
    values = _entity_seed_values(entity) | {"evidence": evidence} | changes
    seed = seed_writes.validate_seed(EntitySeed, values)
    replacing: dict[str, set[uuid.UUID]] = {"evidence": replacing_evidence}
    if "aliases" in changes:
        await seed_writes.replace_part(
            session, replacing, EntityAlias.entity_id, entity.id, Evidence.entity_alias_id
        )
    if "relations" in changes:
        await seed_writes.replace_part(
            session, replacing, EntityRelation.subject_id, entity.id, Evidence.entity_relation_id
        )
    await seed_writes.update_from_seed(
        session,
        entity,
        seed,
        SeedDocument(entities=[seed]),
        resource="entity",
        collection="entities",
        replacing=replacing,
    )
    return entity


async def delete_entity(session: AsyncSession, *, entity: Entity, cascade: bool) -> None:
    """With `cascade`, rows that cannot exist without the entity go with it (mentions,
    participations, statements it made, its parties and territories in disputes, relations);
    optional references to it are cleared (an event's location, who conveyed a statement, who
    administers or claims a territory, whose name another entity's alias is)."""
    entity_id = entity.id
    required: dict[str, tuple[Any, Any]] = {
        "mentions": (Mention, Mention.entity_id == entity_id),
        "event participants": (EventParticipant, EventParticipant.entity_id == entity_id),
        "statements it made": (Statement, Statement.speaker_id == entity_id),
        "dispute parties": (DisputeParty, DisputeParty.entity_id == entity_id),
        "dispute territories": (DisputeTerritory, DisputeTerritory.entity_id == entity_id),
        "relations of other entities": (EntityRelation, EntityRelation.object_id == entity_id),
    }
    optional: dict[str, tuple[Any, Any, str]] = {
        "event locations": (Event, Event.location_id == entity_id, "location_id"),
        "statements it conveyed": (
            Statement,
            Statement.conveyed_by_id == entity_id,
            "conveyed_by_id",
        ),
        "territories it administers": (
            DisputeTerritory,
            DisputeTerritory.administered_by_id == entity_id,
            "administered_by_id",
        ),
        "territories it claims": (
            DisputeTerritory,
            DisputeTerritory.claimed_by_id == entity_id,
            "claimed_by_id",
        ),
        "aliases of other entities": (
            EntityAlias,
            (EntityAlias.used_by_id == entity_id) & (EntityAlias.entity_id != entity_id),
            "used_by_id",
        ),
    }
    if not cascade:
        counts = {
            what: await seed_writes.count(session, model, where)
            for what, (model, where) in required.items()
        }
        for what, (model, where, _) in optional.items():
            counts[what] = await seed_writes.count(session, model, where)
        refuse_if_referenced("entity", counts)
    for model, where, column in optional.values():
        await session.execute(
            update(model).where(where).values({column: None}),
            execution_options={"synchronize_session": False},
        )
    for model, where in required.values():
        await session.execute(
            sa_delete(model).where(where), execution_options={"synchronize_session": False}
        )
    # Its own aliases, relations and evidence go by ON DELETE CASCADE (a core DELETE: the ORM
    # would first try to detach the aliases by nulling their entity_id).
    await session.execute(sa_delete(Entity).where(Entity.id == entity_id))
    session.expunge(entity)
