"""Every length the contract allows for a written field fits the column that stores it: the
document and the tables are walked, field by field. Before, `POST /v1/sources` accepted a
300-character name that its 200-character column refused (a 500)."""

from typing import Any

import pytest
from sqlalchemy import String

from api.main import create_app
from api.settings import Settings
from db.base import Base

# Request-body schemas and the table their fields are stored in.
WRITTEN = {
    "SourceCreate": "source",
    "SourceUpdate": "source",
    "ArticleCreate": "article",
    "ArticleUpdate": "article",
    "EntityCreate": "entity",
    "EntityUpdate": "entity",
    "AliasWrite": "entity_alias",
    "RelationWrite": "entity_relation",
    "EventCreate": "event",
    "EventUpdate": "event",
    "StatementCreate": "statement",
    "StatementUpdate": "statement",
    "DisputeCreate": "dispute",
    "DisputeUpdate": "dispute",
    "PartyWrite": "dispute_party",
}


def max_length(schema: dict[str, Any]) -> int | None:
    """The maxLength of a string property, through `anyOf` (a nullable field)."""
    if "maxLength" in schema:
        return int(schema["maxLength"])
    lengths = [max_length(option) for option in schema.get("anyOf", [])]
    found = [length for length in lengths if length is not None]
    return max(found) if found else None


def is_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" or any(
        option.get("type") == "string" for option in schema.get("anyOf", [])
    )


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    settings = Settings.model_validate({"DATABASE_URL": "postgresql://walk@localhost/walk"})
    document: dict[str, Any] = create_app(settings).openapi()
    return dict(document["components"]["schemas"])


def bounded_columns(table: str) -> dict[str, int]:
    return {
        column.name: column.type.length
        for column in Base.metadata.tables[table].columns
        if isinstance(column.type, String) and column.type.length is not None
    }


@pytest.mark.parametrize(("schema_name", "table"), WRITTEN.items())
def test_every_written_string_fits_its_column(
    schemas: dict[str, Any], schema_name: str, table: str
) -> None:
    properties = schemas[schema_name]["properties"]
    columns = bounded_columns(table)
    too_long = {}
    for name, length in columns.items():
        if name in properties and is_string(properties[name]):
            allowed = max_length(properties[name])
            if allowed is None or allowed > length:
                too_long[name] = (allowed, length)

    assert too_long == {}, "(contract maxLength, column length) of each field that does not fit"


def test_the_walk_covers_the_bounded_columns_it_should(schemas: dict[str, Any]) -> None:
    """The walk is not vacuous: slugs, names and titles of the main tables are among what it
    compares."""
    compared = {
        (table, name)
        for schema_name, table in WRITTEN.items()
        for name in schemas[schema_name]["properties"]
        if name in bounded_columns(table)
    }
    for expected in [
        ("source", "slug"),
        ("source", "name"),
        ("entity", "name"),
        ("entity_alias", "name"),
        ("event", "title"),
        ("dispute", "title"),
        ("article", "byline"),
    ]:
        assert expected in compared
