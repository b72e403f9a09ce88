"""CSV for researchers: the resource lists as RFC 4180 text, one row per item.

A list answers in CSV when asked with `format=csv` (a link a spreadsheet can open) or with
`Accept: text/csv`; otherwise in JSON, as before (`format=json` says so explicitly). The body
is UTF-8 with a header row and CRLF line ends; the filters, the paging (`Link` with the next
cursor), `count` and `id` are the JSON list's. A page's `next_cursor`, `total` and `missing`
have no row to live in: the next page is in `Link` only, and `total` and `missing` are not
given (ask the JSON list).

The columns are the item's fields, in the schema's order, flattened by one rule (README: CSV):

- a scalar is written as JSON would give it (booleans `true`/`false`), null as an empty field;
- a reference to another resource (an object with a `slug`) is its slug;
- any other object (a time) is one column per field, named `field.part` (`time.edtf`,
  `time.earliest`, `time.latest`, `time.precision`);
- a list is its elements joined by `;`, each flattened as above, a participant (an entity and
  its role) as `slug:role`;
- a free-form object (`external_ids`) is its JSON text.

The columns come from the item's schema, not from the rows, so an empty page still has its
header and every page of a list has the same columns.
"""

import csv
import io
import json
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from api.shared.errors import FieldError, ProblemError
from api.shared.problems import ProblemCode

CSV_MEDIA_TYPE = "text/csv"
FORMATS = ("json", "csv")
_JSON_TYPES = frozenset({"application/json", "application/*", "*/*"})

# The `openapi_extra` a CSV-capable list adds (api/shared/params.py: `list_parameters`).
FORMAT_PARAMETER = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "`csv`: the page as CSV (RFC 4180, UTF-8, a header row; README: CSV), "
    "as `Accept: text/csv` asks; `json` (the default): as JSON.",
    "schema": {"type": "string", "enum": list(FORMATS), "title": "Format"},
}
CSV_RESPONSE = {
    "200": {
        "content": {
            CSV_MEDIA_TYPE: {
                "schema": {
                    "type": "string",
                    "description": "The page's items, one row each, under a header row; "
                    "nested fields flattened (README: CSV). The next page is in `Link`.",
                }
            }
        }
    }
}

Flatten = Callable[[Any], str]


def wants_csv(request: Request) -> bool:
    """Whether a CSV-capable list is asked for CSV: `format` decides when given, else
    `Accept` naming `text/csv` (with a nonzero q) before any JSON type."""
    chosen = request.query_params.get("format")
    if chosen is not None:
        if chosen not in FORMATS:
            allowed = ", ".join(f"`{name}`" for name in FORMATS)
            raise ProblemError(
                ProblemCode.VALIDATION_ERROR,
                f"`format` must be one of {allowed}.",
                status=400,
                errors=[
                    FieldError(
                        location="query",
                        field="format",
                        message=f"must be one of {allowed}",
                        type="enum",
                    )
                ],
            )
        return chosen == "csv"
    return prefers_csv(request.headers.get("accept"))


def prefers_csv(accept: str | None, *, over: Collection[str] = _JSON_TYPES) -> bool:
    """Whether `Accept` names `text/csv` (with a nonzero q) before any of the types `over`
    (the resource's other media types, and the wildcards that match them)."""
    if accept is None or CSV_MEDIA_TYPE not in accept:
        return False
    best_csv = best_other = 0.0
    for entry in accept.split(","):
        media, *params = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media == CSV_MEDIA_TYPE:
            best_csv = max(best_csv, quality)
        elif media in over:
            best_other = max(best_other, quality)
    return best_csv > 0 and best_csv >= best_other


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation names (through `| None`), and whether it is a list of them."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _model_of(arg)
    if origin is list:
        inner, _ = _model_of(typing.get_args(annotation)[0])
        return inner, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _element(value: Any) -> str:
    """One element of a list: a reference by its slug, a participant as `slug:role` (its
    entity a reference, or a slug as in the export's records)."""
    if isinstance(value, dict):
        if "slug" in value:
            return str(value["slug"])
        entity = value.get("entity")
        if isinstance(entity, dict) and "role" in value:
            return f"{entity.get('slug')}:{value['role']}"
        if isinstance(entity, str) and "role" in value:
            return f"{entity}:{value['role']}"
        return _scalar(value)
    return _scalar(value)


def _joined(value: Any) -> str:
    return "" if value is None else ";".join(_element(each) for each in value)


def _slug(value: Any) -> str:
    return "" if value is None else str(value["slug"])


def _whole(field: str, flatten: Flatten) -> Flatten:
    def read(item: Any) -> str:
        return flatten(item.get(field))

    return read


def _part(field: str, part: str) -> Flatten:
    def read(item: Any) -> str:
        nested = item.get(field)
        return "" if nested is None else _scalar(nested.get(part))

    return read


@cache
def columns(model: type[BaseModel]) -> tuple[tuple[str, ...], tuple[Flatten, ...]]:
    """The header and the per-column readers of `model`'s rows (its JSON dump)."""
    names: list[str] = []
    readers: list[Flatten] = []
    for name, field in model.model_fields.items():
        key = field.serialization_alias or name
        nested, is_list = _model_of(field.annotation)
        if is_list:
            names.append(key)
            readers.append(_whole(key, _joined))
        elif nested is not None and "slug" in nested.model_fields:
            names.append(key)
            readers.append(_whole(key, _slug))
        elif nested is not None:
            for part in nested.model_fields:
                names.append(f"{key}.{part}")
                readers.append(_part(key, part))
        elif typing.get_origin(field.annotation) is list:
            names.append(key)
            readers.append(_whole(key, _joined))
        else:
            names.append(key)
            readers.append(_whole(key, _scalar))
    return tuple(names), tuple(readers)


def header(model: type[BaseModel]) -> bytes:
    """The header row of `model`'s CSV."""
    return _written([columns(model)[0]])


def rows(model: type[BaseModel], dumps: Iterable[Mapping[str, Any]]) -> bytes:
    """One row per item, given as its JSON dump (a stream writes its header once, then its
    rows a batch at a time)."""
    readers = columns(model)[1]
    return _written([read(dumped) for read in readers] for dumped in dumps)


def render(model: type[BaseModel], items: Sequence[BaseModel]) -> bytes:
    """The items as CSV: RFC 4180 (CRLF, fields quoted when they must be), UTF-8, a header."""
    return header(model) + rows(model, (item.model_dump(mode="json") for item in items))


def _written(lines: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode()
