"""Query parameters shared by every list endpoint."""

import re
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator

from api.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
Cursor = Annotated[
    str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")
]


# A run of minus signs, spaces between them or not: to websearch_to_tsquery each one is another
# NOT around the next word, and some forty of them overflow PostgreSQL's tsquery stack ("tsquery
# stack too small", an internal error, so a 500). Two NOTs cancel out: one is kept per odd run.
_NEGATIONS = re.compile(r"-(?:\s*-)+")


def _fewer_negations(run: re.Match[str]) -> str:
    return "-" if run.group().count("-") % 2 else " "


def full_text(value: str) -> str:
    """Search text for websearch_to_tsquery whose operators cannot nest without bound."""
    return _NEGATIONS.sub(_fewer_negations, value)


# `q` of the full-text searches: web-search syntax ("quoted phrases", or, -word).
FullText = Annotated[str, AfterValidator(full_text)]


def document_optional_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """A parameter left out is absent, never null: drop the `null` alternative pydantic writes
    for an `X | None` parameter, which SDKs would offer as a value and fuzzers would send. The
    parameter stays optional (`required: false`)."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                alternatives = schema.get("anyOf")
                if parameter.get("required") or not isinstance(alternatives, list):
                    continue
                others = [option for option in alternatives if option != {"type": "null"}]
                if len(alternatives) == 2 and len(others) == 1:
                    outer = {key: value for key, value in schema.items() if key != "anyOf"}
                    parameter["schema"] = others[0] | outer
    return document
