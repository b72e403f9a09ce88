"""The rules for the fields every way in shares: the API's request bodies
(`api/shared/schemas.py`), the seed files (`seeds/schema.py`) and the bulk import
(`db/bulk/records.py`) validate slugs, names and EDTF times with these types, and the tables
(`db/base.py`, `db/models/`) take their column lengths and slug check from the same constants,
so the three ways in accept and refuse the same values, with the same messages.

Validators raise PydanticCustomError rather than ValueError, so the message is the rule's own,
word for word, wherever a model is validated (pydantic would prefix a ValueError's message with
"Value error, ").
"""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from db.checks import parse_time

# Lower-case words of letters and digits joined by single hyphens: `kuril-islands`.
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 120
# Names and titles (entities, aliases, events, disputes, bylines).
NAME_MAX_LENGTH = 300
# A source's name: its column holds 200 characters.
SOURCE_NAME_MAX_LENGTH = 200

# Holds a character that is not white space, spelled out: `\S` means different things to
# pydantic's Rust regexes and to the ECMA-262 ones of JSON Schema tools (U+0085, U+FEFF).
VISIBLE = r"[^\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
BLANK = "must not be blank"


def blank_message(error: Mapping[str, Any]) -> str | None:
    """`BLANK` for a pydantic error that is `VISIBLE` not matching: the pattern's own message
    lists every white space character, which tells a client nothing."""
    pattern = (error.get("ctx") or {}).get("pattern")
    return BLANK if error.get("type") == "string_pattern_mismatch" and pattern == VISIBLE else None


def no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as a client error rather than have the
    # database fail.
    if "\x00" in value:
        raise PydanticCustomError("nul", "must not contain NUL characters")
    return value


def _scalar_to_str(value: Any) -> Any:
    # YAML reads `time: 1945` as an int; an EDTF year is still text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _edtf(value: str) -> str:
    try:
        parse_time(value)
    except ValueError as error:
        raise PydanticCustomError("edtf", str(error)) from error
    return value


Slug = Annotated[
    str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=SLUG_MAX_LENGTH)
]

# The names of a collection's aggregate paths (`/v1/events/histogram`, `/v1/events/facets`).
# An article, event, statement or dispute cannot take one as its slug: the path with that slug
# names the aggregate, not the item (`db.base.slug_not_reserved` in the tables).
RESERVED_SLUGS = ("histogram", "facets")


def _not_reserved(value: str) -> str:
    if value in RESERVED_SLUGS:
        raise PydanticCustomError(
            "slug_reserved",
            "'{slug}' is the name of the collection's {slug} path, so no item can have it as "
            "its slug: choose another",
            {"slug": value},
        )
    return value


class _NotReservedInSchema:
    """Says in a type's JSON Schema (what a client's or a fuzzer's generator reads) that the
    reserved slugs are refused: `not: {enum: [...]}` beside the slug's own rules."""

    @staticmethod
    def __get_pydantic_json_schema__(
        core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(core_schema) | {"not": {"enum": list(RESERVED_SLUGS)}}


# The slug of an item of a collection with aggregate paths: a `Slug` that is not one of their
# names.
ItemSlug = Annotated[Slug, AfterValidator(_not_reserved), _NotReservedInSchema()]


# Names and titles: visible text, without NUL, as long as their columns hold.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH, pattern=VISIBLE),
    AfterValidator(no_nul),
]
SourceName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SOURCE_NAME_MAX_LENGTH, pattern=VISIBLE),
    AfterValidator(no_nul),
]
# An article's body: visible text, without NUL, within the bound a request body allows.
ARTICLE_BODY_MAX_LENGTH = 500_000
ArticleBody = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ARTICLE_BODY_MAX_LENGTH, pattern=VISIBLE),
    AfterValidator(no_nul),
]
# An EDTF time as stated (`2021-10-07`, `1945`, `197X/198X`, `2021-10-04/..`): one the
# database's bounds can be computed from.
EdtfText = Annotated[str, BeforeValidator(_scalar_to_str), AfterValidator(_edtf)]
