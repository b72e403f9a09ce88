"""Pages written from plain values (api/shared/plain_json.py) are the bytes their models write:
on generated rows of every kind of value a column can hold, and on the rows the lists' own
statements return (events, articles, entities, a dispute's timeline); and an article read by
id, written from its row as its model writes it."""

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.articles import service as article_service
from api.articles.presenters import (
    article_read_model,
    article_read_value,
    article_summaries,
    article_summary_items,
)
from api.articles.schemas import ArticlePage
from api.disputes import service as dispute_service
from api.disputes.presenters import timeline_entries, timeline_items
from api.disputes.schemas import TimelinePage
from api.entities import service as entity_service
from api.entities.presenters import entity_summaries, entity_summary_items
from api.entities.schemas import EntityPage
from api.events import service as event_service
from api.events.presenters import event_summaries, event_summary_items
from api.events.schemas import EventPage
from api.shared import plain_json
from api.shared.pagination import PlainItems, plain_page, unasked
from db.enums import (
    DisputeEventRole,
    EntityKind,
    EventType,
    Modality,
    ParticipantRole,
    TimePrecision,
)
from tests.support.factories import (
    add_participant,
    add_to_timeline,
    cite,
    make_article,
    make_dispute,
    make_entity,
    make_event,
    make_source,
    note,
)

# Any text PostgreSQL stores: no NUL, no lone surrogate.
_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_UTC = st.datetimes(timezones=st.just(UTC))


def _entity() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": st.uuids(), "slug": _TEXT, "kind": st.sampled_from(EntityKind), "name": _TEXT}
    )


@st.composite
def _participants(draw: st.DrawFn) -> str:
    """The statement's JSON text, in ParticipantRef's shape, escaped one way or the other."""
    participants = draw(
        st.lists(
            st.fixed_dictionaries({"entity": _entity(), "role": st.sampled_from(ParticipantRole)})
        )
    )
    for participant in participants:
        participant["entity"]["id"] = str(participant["entity"]["id"])
    return json.dumps(participants, ensure_ascii=draw(st.booleans()))


@st.composite
def _evidence(draw: st.DrawFn) -> str:
    """The statement's evidence JSON text, its keys in any order, escaped one way or the other."""
    offsets = st.none() | st.integers(min_value=0, max_value=2**31 - 1)
    items = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "article_id": st.uuids().map(str),
                    "start_offset": offsets,
                    "end_offset": offsets,
                    "quote": st.none() | _TEXT,
                    "editorial": st.booleans(),
                    "note": st.none() | _TEXT,
                    "field": st.none() | _TEXT,
                }
            ),
            max_size=3,
        )
    )
    shuffled = [dict(draw(st.permutations(list(item.items())))) for item in items]
    return json.dumps(shuffled, ensure_ascii=draw(st.booleans()))


_TIME = {
    "time_edtf": st.none() | _TEXT,
    "time_earliest": st.none() | st.dates(),
    "time_latest": st.none() | st.dates(),
    "time_precision": st.none() | st.sampled_from(TimePrecision),
}

_EVENT_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.uuids(),
            "slug": _TEXT,
            "title": _TEXT,
            "summary": st.none() | _TEXT,
            "event_type": st.sampled_from(EventType),
            "mode": st.none() | _TEXT,
            "contexts": st.lists(_TEXT),
            "modality": st.sampled_from(Modality),
            **_TIME,
            "duration": st.none()
            | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10_000)),
            "location": st.none() | _entity(),
            "version": st.integers(min_value=1, max_value=2**31 - 1),
            "created_at": _UTC,
            "updated_at": _UTC,
            "participants": _participants(),
        }
    ),
    max_size=5,
)


_ARTICLE_ROW = st.fixed_dictionaries(
    {
        "id": st.uuids(),
        "slug": _TEXT,
        "source": st.fixed_dictionaries({"id": st.uuids(), "slug": _TEXT, "name": _TEXT}),
        "headline": st.none() | _TEXT,
        "byline": st.none() | _TEXT,
        "url": st.none() | _TEXT,
        "language": _TEXT,
        "published_at": st.none() | _UTC,
        "published_precision": st.none() | st.sampled_from(TimePrecision),
        "summary": st.none() | _TEXT,
        "version": st.integers(min_value=1, max_value=2**31 - 1),
        "created_at": _UTC,
        "updated_at": _UTC,
    }
)
_ARTICLE_ROWS = st.lists(_ARTICLE_ROW, max_size=5)
# A by-id read's row: a list's, with the body and the evidence JSON text.
_ARTICLE_READ_ROW = st.builds(
    dict.__or__,
    _ARTICLE_ROW,
    st.fixed_dictionaries({"body": _TEXT, "content_hash": _TEXT, "evidence": _evidence()}),
)

# What a JSON column holds: numbers orjson alone would not write (beyond 64 bits) included.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8,
)
_ENTITY_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.uuids(),
            "slug": _TEXT,
            "kind": st.sampled_from(EntityKind),
            "name": _TEXT,
            "description": st.none() | _TEXT,
            # Mostly identifiers, as entities carry them; any JSON object too.
            "external_ids": st.dictionaries(_TEXT, _TEXT, max_size=3)
            | st.dictionaries(_TEXT, _JSON, max_size=3),
            "version": st.integers(min_value=1, max_value=2**31 - 1),
            "created_at": _UTC,
            "updated_at": _UTC,
        }
    ),
    max_size=5,
)

_TIMELINE_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.uuids(),
            "slug": _TEXT,
            "title": _TEXT,
            "event_type": st.sampled_from(EventType),
            "modality": st.sampled_from(Modality),
            **_TIME,
            "role": st.sampled_from(DisputeEventRole),
            "significance": st.none() | _TEXT,
            "link_id": st.uuids(),
            "location": st.none() | _entity(),
            "participants": _participants(),
            "evidence": _evidence(),
            "link_evidence": _evidence(),
        }
    ),
    max_size=5,
)

# Each list: its page model, its models from rows and its plain values from rows.
_Presenters = tuple[
    type[BaseModel],
    Callable[[Sequence[dict[str, Any]]], Sequence[BaseModel]],
    Callable[[Sequence[dict[str, Any]]], PlainItems],
]
_EVENTS: _Presenters = (EventPage, event_summaries, event_summary_items)
_ARTICLES: _Presenters = (ArticlePage, article_summaries, article_summary_items)
_TIMELINE: _Presenters = (TimelinePage, timeline_entries, timeline_items)
_ENTITIES: _Presenters = (EntityPage, entity_summaries, entity_summary_items)
# The fields a page type adds after Page's own, as a page in the entities' own names has them.
_EXTRA: dict[type[BaseModel], dict[str, Any]] = {TimelinePage: {"pov": None}}


def _written(
    presenters: _Presenters,
    rows: list[dict[str, Any]],
    next_cursor: str | None,
    total: int | None,
    missing: list[str] | None = None,
) -> tuple[bytes, bytes]:
    """The page written from plain values, and written by its model."""
    page_type, models, plain = presenters
    extra = _EXTRA.get(page_type, {})
    looked_up = {} if missing is None else {"missing": missing}
    page = page_type(
        items=list(models(rows)), next_cursor=next_cursor, total=total, **looked_up, **extra
    )
    exclude = unasked(total) if missing is None else ({"total"} if total is None else None)
    return (
        plain_page(plain(rows), next_cursor, total=total, missing=missing, extra=extra),
        page.model_dump_json(exclude=exclude).encode(),
    )


@pytest.mark.parametrize(
    ("presenters", "rows"),
    [
        (_EVENTS, _EVENT_ROWS),
        (_ARTICLES, _ARTICLE_ROWS),
        (_ENTITIES, _ENTITY_ROWS),
        (_TIMELINE, _TIMELINE_ROWS),
    ],
    ids=["events", "articles", "entities", "timeline"],
)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_page_is_the_bytes_of_its_model(
    presenters: _Presenters, rows: st.SearchStrategy[list[dict[str, Any]]], data: st.DataObject
) -> None:
    drawn = data.draw(rows)
    next_cursor = data.draw(st.none() | _TEXT)
    total = data.draw(st.none() | st.integers(min_value=0, max_value=2**40))

    plain, model = _written(presenters, drawn, next_cursor, total)

    assert plain == model


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=_EVENT_ROWS,
    articles=_ARTICLE_ROWS,
    entities=_ENTITY_ROWS,
    missing=st.lists(_TEXT, max_size=3),
    counted=st.booleans(),
)
def test_a_lookup_page_is_the_bytes_of_its_model(
    events: list[dict[str, Any]],
    articles: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    missing: list[str],
    counted: bool,
) -> None:
    for presenters, rows in ((_EVENTS, events), (_ARTICLES, articles), (_ENTITIES, entities)):
        total = len(rows) if counted else None

        plain, model = _written(presenters, rows, None, total, missing)

        assert plain == model


def _article_read_written(row: dict[str, Any]) -> tuple[bytes, bytes]:
    """A by-id read written from plain values, and written by its model (nothing included)."""
    model = article_read_model(row).model_dump_json(exclude_unset=True).encode()
    return plain_json.dumps(article_read_value(row)), model


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(row=_ARTICLE_READ_ROW)
def test_an_article_read_is_the_bytes_of_its_model(row: dict[str, Any]) -> None:
    plain, model = _article_read_written(row)

    assert plain == model


async def test_the_list_statement_rows_are_written_as_their_models(session: AsyncSession) -> None:
    """The statement's own participants JSON, location and time, with names no ASCII spells."""
    place = await make_entity(session, "sakhalin", 'Сахалин "南樺太"', EntityKind.TERRITORY)
    japan = await make_entity(session, "japan", "日本\tJapan")
    russia = await make_entity(session, "russia", "Russia \\ Россия")
    dated = await make_event(
        session,
        "talks",
        "2021-10-07",
        title="Talks \u2028 on the islands",
        contexts=["territory", "diplomatic"],
        duration=timedelta(hours=1, minutes=25),
        location=place,
    )
    await make_event(session, "undated", None, title="No date")
    await add_participant(session, dated, russia, ParticipantRole.TARGET)
    await add_participant(session, dated, japan)
    await session.flush()

    rows, _, _ = await event_service.list_events(
        session, event_service.EventFilters(), after=None, limit=10
    )
    items = event_summary_items(rows)

    assert [row["slug"] for row in rows] == ["talks", "undated"]
    assert items.values[0]["location"]["name"] == 'Сахалин "南樺太"'
    assert [p["entity"]["slug"] for p in items.values[0]["participants"]] == ["japan", "russia"]
    for next_cursor, total in (("next", 2), (None, None)):
        plain, model = _written(_EVENTS, rows, next_cursor, total)
        assert plain == model
    assert isinstance(items.values[0]["id"], uuid.UUID)


async def test_the_articles_statement_rows_are_written_as_their_models(
    session: AsyncSession,
) -> None:
    source = await make_source(session, "nhk", "NHK 日本放送協会")
    await make_article(
        session,
        source,
        "dated",
        "Body.",
        headline='Talks \u2028 "quoted" \\ on the islands',
        published_at=datetime(2021, 10, 7, 9, 30, tzinfo=UTC),
    )
    await make_article(session, source, "undated", "本文。", language="ja")
    await session.flush()

    rows, _, _ = await article_service.list_articles(session, after=None, limit=10)

    assert {row["slug"] for row in rows} == {"dated", "undated"}
    assert article_summary_items(rows).values[0]["source"]["name"] == "NHK 日本放送協会"
    for total in (None, 2):
        plain, model = _written(_ARTICLES, rows, "next", total)
        assert plain == model


async def test_the_entities_statement_rows_are_written_as_their_models(
    session: AsyncSession,
) -> None:
    """The name search's own rows: names no ASCII spells, external ids of every JSON kind (an
    integer beyond 64 bits among them), no description."""
    island = await make_entity(
        session, "sakhalin", 'Sakhalin Сахалин "南樺太" \\ \u2028', EntityKind.TERRITORY
    )
    island.description = "Остров."
    island.external_ids = {"wikidata": "Q7792", "osm": {"relation": 394235, "ids": [1.5, None]}}
    oblast = await make_entity(session, "sakhalin-oblast", "Sakhalin Oblast")
    oblast.external_ids = {"census": 2**70}
    await session.flush()

    rows, _, _ = await entity_service.list_entities(session, q="sakhalin", after=None, limit=10)

    assert {row["slug"] for row in rows} == {"sakhalin", "sakhalin-oblast"}
    for next_cursor, total in (("next", 2), (None, None)):
        plain, model = _written(_ENTITIES, rows, next_cursor, total)
        assert plain == model
    assert b'"census":1180591620717411303424' in plain


async def test_the_timeline_statement_rows_are_written_as_their_models(
    session: AsyncSession,
) -> None:
    """The statement's own evidence and participants JSON: quotes no ASCII spells, an
    editorial note, an entry with none, a location."""
    source = await make_source(session)
    body = 'Ran "talks" on 南千島 \\ Курилы.\tAgain \u2028 here.'
    article = await make_article(session, source, "talks", body)
    islands = await make_entity(session, "islands", "南千島 / Курилы", EntityKind.TERRITORY)
    japan = await make_entity(session, "japan", "日本")
    dispute = await make_dispute(session, "kurils", "Kuril Islands dispute")
    talks = await make_event(session, "talks", "2021-10-07", title="Talks", location=islands)
    undated = await make_event(session, "undated", None, title="Undated")
    await add_participant(session, talks, japan)
    link = await add_to_timeline(session, dispute, talks, significance="Первые \u2028 переговоры")
    await add_to_timeline(session, dispute, undated, DisputeEventRole.BACKGROUND)
    await cite(session, article, '"talks" on 南千島 \\ Курилы', event_id=talks.id)
    await cite(session, article, "Again \u2028 here", event_id=talks.id)
    await note(session, article, "Implied.", field="significance", dispute_event_id=link.id)
    await session.flush()

    rows, _, _ = await dispute_service.get_timeline(session, dispute="kurils", after=None, limit=10)
    items = timeline_items(rows)

    assert [row["slug"] for row in rows] == ["undated", "talks"]
    assert [e["quote"] for e in items.values[1]["evidence"]] == [
        '"talks" on 南千島 \\ Курилы',
        "Again \u2028 here",
    ]
    assert items.values[1]["location"]["slug"] == "islands"
    assert items.values[1]["link_evidence"][0]["note"] == "Implied."
    for next_cursor, total in (("next", 2), (None, None)):
        plain, model = _written(_TIMELINE, rows, next_cursor, total)
        assert plain == model


async def test_the_article_statement_row_is_written_as_its_model(session: AsyncSession) -> None:
    """The by-id statement's own row: its source, a body no ASCII spells, quoted and editorial
    evidence for the article's own fields."""
    source = await make_source(session, "nhk", "NHK 日本放送協会")
    body = 'Talks "on" 南千島 \\ Курилы.\tAgain \u2028 here.'
    article = await make_article(
        session, source, "talks", body, published_at=datetime(2021, 10, 7, 9, 30, tzinfo=UTC)
    )
    await cite(
        session, article, 'Talks "on" 南千島', field="headline", subject_article_id=article.id
    )
    await note(
        session,
        article,
        "Dated from «Thursday».",
        field="published_at",
        subject_article_id=article.id,
    )
    await session.flush()

    row = await article_service.get_article(session, "talks")
    value = article_read_value(row)

    assert value["body"] == body
    assert [e["quote"] for e in value["evidence"]] == ['Talks "on" 南千島', None]
    plain, model = _article_read_written(row)
    assert plain == model
