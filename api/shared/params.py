"""Query parameters shared by every list endpoint."""

import copy
import re
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, ValidationError

from api.shared.csv_format import CSV_RESPONSE, FORMAT_PARAMETER
from api.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from db.fields import SLUG_MAX_LENGTH

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
Cursor = Annotated[
    str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")
]

# `count` and `id` ---------------------------------------------------------------------------
# Every list takes `count` (its total), the resource lists `id` (a batch lookup), and almost no
# request carries either. FastAPI resolves each parameter a handler declares on every request,
# present or not (some 7 µs apiece, absent), so these two are not declared: a handler reads
# them with `counted` and `lookup_keys`, which look further only when the name is in the
# query, and its route documents them (`openapi_extra=list_parameters(...)`), which is also
# what the unknown-parameter check accepts (api/transport/query.py). Their values are checked
# as FastAPI checks the declared ones: the same 400 `validation_error`, in the same words.

Checked = TypeVar("Checked")

# How many items one batch lookup (`id`) may name.
MAX_IDS = 100
_COUNT_MODES = ("exact",)
_COUNT: TypeAdapter[str] = TypeAdapter(Literal["exact"])
_KEYS: TypeAdapter[list[str]] = TypeAdapter(
    Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=SLUG_MAX_LENGTH)]],
        Field(max_length=MAX_IDS),
    ]
)
_COUNT_PARAMETER = {
    "name": "count",
    "in": "query",
    "required": False,
    "description": "`exact`: the page also says how many items the list holds under its "
    "filters, over all its pages (`total`), at the cost of counting them; a cursor works "
    "with or without it. Without it, nothing is counted.",
    "schema": {"type": "string", "enum": list(_COUNT_MODES), "title": "Count"},
}
_ID_PARAMETER = {
    "name": "id",
    "in": "query",
    "required": False,
    "description": f"Ids or slugs (repeat, up to {MAX_IDS}): exactly these items, in the order "
    "asked, each once; those that name nothing are listed in `missing`. Takes no cursor, "
    "limit or filter (400); `count` is allowed.",
    "schema": {**_KEYS.json_schema(), "title": "Id"},
}


def list_parameters(*, lookup: bool = False, csv: bool = False) -> dict[str, Any]:
    """The `openapi_extra` of a list route: its `count` parameter, `id` with `lookup`, and
    with `csv` its `format` parameter and the CSV form of its 200 (api/shared/csv_format.py)."""
    parameters = [_ID_PARAMETER, _COUNT_PARAMETER] if lookup else [_COUNT_PARAMETER]
    if csv:
        parameters = [*parameters, FORMAT_PARAMETER]
    # Copies: the document's post-processing may change what it is given.
    extra: dict[str, Any] = {"parameters": copy.deepcopy(parameters)}
    if csv:
        extra["responses"] = copy.deepcopy(CSV_RESPONSE)
    return extra


def counted(request: Request) -> bool:
    """Whether the request asks for the list's total (`count=exact`)."""
    if "count" not in request.query_params:
        return False
    _checked(_COUNT, request.query_params["count"], "count")
    return True


def lookup_keys(request: Request) -> list[str] | None:
    """The ids and slugs of a batch lookup (`id`), or None when the request is no lookup."""
    if "id" not in request.query_params:
        return None
    return _checked(_KEYS, request.query_params.getlist("id"), "id")


def _checked(adapter: TypeAdapter[Checked], value: Any, name: str) -> Checked:
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("query", name, *item["loc"])} for item in error.errors()]
        ) from error


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
