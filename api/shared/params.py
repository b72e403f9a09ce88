"""Query parameters shared by every list endpoint."""

from typing import Annotated, Any

from fastapi import Query

from api.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
Cursor = Annotated[
    str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")
]


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
