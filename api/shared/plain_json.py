"""JSON bytes straight from plain values (orjson), for the lists whose pages carry many items
and for an article read by id.

A list's JSON is the same bytes either way: pydantic's `model_dump_json` of its page model, or
`dumps` of plain values already in the schema's shape (field order, an ISO `time`, nested
dicts), built by the resource's presenter from the statement's rows. On the events list the
plain path costs a fifth of validating twenty models and dumping them again (bench/README.md,
seventh round). The models stay the contract: the presenter's values are held to the models'
bytes by tests/shared/test_plain_json.py, on generated rows and on the database's own.
"""

import uuid
from typing import Any

import orjson
from pydantic import TypeAdapter

# Timestamps as pydantic writes them ("…T10:54:16.938161Z"), not "+00:00".
_OPTIONS = orjson.OPT_UTC_Z


def _default(value: Any) -> str:
    """asyncpg's UUID, which orjson does not take for a `uuid.UUID`: its canonical text, as
    pydantic writes it. Nothing else: a value of another type is a presenter's mistake."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=_OPTIONS)


# A value typed `Any`, as a model's field of that type writes it.
_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def json_value(value: Any) -> Any:
    """A value of a field typed `Any` (a JSON column's, such as an entity's `external_ids`) as
    pydantic writes it: as is when it is a JSON object of strings, which both write alike (and
    which nearly every such value is); else pydantic's own bytes, which orjson embeds unchanged.
    orjson does not write every JSON number pydantic does: an integer beyond 64 bits."""
    if type(value) is dict and all(type(item) is str for item in value.values()):
        return value
    return orjson.Fragment(_ANY.dump_json(value))


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
