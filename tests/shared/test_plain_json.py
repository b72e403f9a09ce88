"""Pages written from plain values (api/shared/plain_json.py) are the bytes their models write:
on generated rows of every kind of value a column can hold, and on the rows the events list's
own statement returns."""

import json
import uuid
from datetime import UTC, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from api.events import service as event_service
from api.events.presenters import event_summaries, event_summary_items
from api.events.schemas import EventPage
from api.shared.pagination import plain_page, unasked
from db.enums import EntityKind, EventType, Modality, ParticipantRole, TimePrecision
from tests.support.factories import add_participant, make_entity, make_event

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
            "time_edtf": st.none() | _TEXT,
            "time_earliest": st.none() | st.dates(),
            "time_latest": st.none() | st.dates(),
            "time_precision": st.none() | st.sampled_from(TimePrecision),
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


def _model_bytes(
    rows: list[dict[str, Any]],
    next_cursor: str | None,
    total: int | None,
    missing: list[str] | None = None,
) -> bytes:
    page = EventPage(
        items=event_summaries(rows), next_cursor=next_cursor, total=total, missing=missing
    )
    exclude = unasked(total) if missing is None else ({"total"} if total is None else None)
    return page.model_dump_json(exclude=exclude).encode()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=_EVENT_ROWS,
    next_cursor=st.none() | _TEXT,
    total=st.none() | st.integers(min_value=0, max_value=2**40),
)
def test_an_events_page_is_the_bytes_of_its_model(
    rows: list[dict[str, Any]], next_cursor: str | None, total: int | None
) -> None:
    plain = plain_page(event_summary_items(rows), next_cursor, total=total)

    assert plain == _model_bytes(rows, next_cursor, total)


@settings(max_examples=50)
@given(rows=_EVENT_ROWS, missing=st.lists(_TEXT, max_size=3), counted=st.booleans())
def test_a_lookup_page_is_the_bytes_of_its_model(
    rows: list[dict[str, Any]], missing: list[str], counted: bool
) -> None:
    total = len(rows) if counted else None

    plain = plain_page(event_summary_items(rows), None, total=total, missing=missing)

    assert plain == _model_bytes(rows, None, total, missing)


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
    assert plain_page(items, "next", total=2) == _model_bytes(rows, "next", 2)
    assert plain_page(items, None, total=None) == _model_bytes(rows, None, None)
    assert isinstance(items.values[0]["id"], uuid.UUID)
