"""One rule per field (db/fields.py): the write API, the seed files, the bulk import and the
database accept and refuse the same slugs, names and times."""

from typing import Any

import pytest
from httpx import AsyncClient
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.events.schemas import EventCreate
from api.sources.schemas import SourceCreate
from db.bulk.records import EventRecord, SourceRecord, time_span
from db.checks import InvalidEDTF
from db.enums import SourceKind
from db.models import Source
from seeds.schema import EventSeed, SourceSeed

SLUGS = {
    "kuril-islands": True,
    "a": True,
    "1956-declaration": True,
    "x" * 120: True,
    "": False,
    "Kuril": False,
    "kuril--islands": False,
    "-kuril": False,
    "kuril islands": False,
    "x" * 121: False,
}
SOURCE_NAMES = {
    "Kyodo News": True,
    "共同通信": True,
    "n" * 200: True,
    "": False,
    " ": False,
    "\u3000\t": False,  # white space only, whatever the kind
    "Kyodo\x00News": False,
    "n" * 201: False,  # the column holds 200
}
TIMES = {
    "2021-10-07": True,
    "1945": True,
    "197X/198X": True,
    "2021-10-04/..": True,
    "2021-13-01": False,
    "yesterday": False,
}

# The three ways in, each with a source and an event, the rest of the fields valid.
SOURCE_MODELS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (SourceCreate, {"kind": "news_agency"}),
    (SourceSeed, {"kind": "news_agency"}),
    (SourceRecord, {"type": "source", "kind": "news_agency"}),
]
EVENT_MODELS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (EventCreate, {"slug": "talks", "title": "Talks", "type": "CONSULT"}),
    (EventSeed, {"slug": "talks", "title": "Talks", "type": "CONSULT"}),
]


def accepts(model: type[BaseModel], fields: dict[str, Any]) -> bool:
    try:
        model.model_validate(fields)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("slug", "valid"), SLUGS.items(), ids=repr)
@pytest.mark.parametrize(("model", "rest"), SOURCE_MODELS, ids=lambda m: getattr(m, "__name__", ""))
def test_every_way_in_takes_the_same_slugs(
    model: type[BaseModel], rest: dict[str, Any], slug: str, valid: bool
) -> None:
    assert accepts(model, {**rest, "slug": slug, "name": "Kyodo"}) is valid


@pytest.mark.parametrize(("name", "valid"), SOURCE_NAMES.items(), ids=repr)
@pytest.mark.parametrize(("model", "rest"), SOURCE_MODELS, ids=lambda m: getattr(m, "__name__", ""))
def test_every_way_in_takes_the_same_source_names(
    model: type[BaseModel], rest: dict[str, Any], name: str, valid: bool
) -> None:
    assert accepts(model, {**rest, "slug": "kyodo", "name": name}) is valid


@pytest.mark.parametrize(("time", "valid"), TIMES.items(), ids=repr)
@pytest.mark.parametrize(("model", "rest"), EVENT_MODELS, ids=lambda m: getattr(m, "__name__", ""))
def test_every_way_in_takes_the_same_times(
    model: type[BaseModel], rest: dict[str, Any], time: str, valid: bool
) -> None:
    assert accepts(model, {**rest, "time": time}) is valid


@pytest.mark.parametrize(("time", "valid"), TIMES.items(), ids=repr)
def test_the_bulk_import_takes_the_same_times(time: str, valid: bool) -> None:
    # The import reads a record's time after the model (with a fast path for plain dates).
    record = EventRecord.model_validate(
        {"type": "event", "slug": "talks", "title": "Talks", "event_type": "CONSULT", "time": time}
    )
    assert record.time is not None
    try:
        time_span(record.time)
    except InvalidEDTF:
        parsed = False
    else:
        parsed = True
    assert parsed is valid


@pytest.mark.parametrize(("slug", "valid"), SLUGS.items(), ids=repr)
async def test_the_database_takes_the_same_slugs(
    session: AsyncSession, slug: str, valid: bool
) -> None:
    nested = await session.begin_nested()
    session.add(Source(slug=slug, name="Kyodo", kind=SourceKind.NEWS_AGENCY))
    try:
        await session.flush()
    except DBAPIError:
        stored = False
    else:
        stored = True
    await nested.rollback()
    assert stored is valid


async def test_a_source_name_longer_than_its_column_is_a_422_not_a_500(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    body = {"slug": "long-name", "name": "n" * 201, "kind": "news_agency"}
    response = await client.post("/v1/sources", json=body, headers=writer)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["message"]) == (
        "name",
        "String should have at most 200 characters",
    )
    assert (await client.get("/v1/sources/long-name")).status_code == 404
