from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.export.stream import DRIVER_ERRORS, NDJSON, ExportResponse, ExportSlots
from api.shared import csv_format
from api.shared.errors import FieldError, ProblemError, problem_responses
from api.shared.problems import ProblemCode
from api.shared.routing import ApiRoute
from api.shared.schemas import Timestamp

if TYPE_CHECKING:
    from db.bulk.export import UnknownReference

# db.bulk.export's RECORD_TYPES (a test holds them equal), here so the app need not import it.
RecordType = Literal[
    "source", "entity", "article", "evidence", "relation", "event", "statement", "dispute"
]
RECORD_TYPES: tuple[str, ...] = get_args(RecordType)
ExportFormat = Literal["ndjson", "csv"]

CSV = f"{csv_format.CSV_MEDIA_TYPE}; charset=utf-8; header=present"
# What an `Accept` may prefer over CSV for the export: NDJSON, and the wildcards matching it.
_NDJSON_TYPES = frozenset({NDJSON, "application/*", "*/*"})
_TYPES_TEXT = ", ".join(f"`{record_type}`" for record_type in RECORD_TYPES)

router = APIRouter(prefix="/export", tags=["export"], route_class=ApiRoute)


@router.get(
    "",
    summary="Export as NDJSON or CSV",
    operation_id="export_ndjson",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The corpus, one JSON record a line; or, in CSV, the records of one "
            "`type`, one row each under a header row.",
            "content": {
                NDJSON: {"schema": {"type": "string"}},
                csv_format.CSV_MEDIA_TYPE: {
                    "schema": {
                        "type": "string",
                        "description": "The records of the one `type` asked for, one row each "
                        "under a header row; nested fields flattened (README: CSV).",
                    }
                },
            },
        },
        **problem_responses(400, 503),
    },
)
async def export_ndjson(
    request: Request,
    source: Annotated[str | None, Query(description="Source id or slug.")] = None,
    entity: Annotated[
        list[str] | None,
        Query(max_length=20, description="Entity id or slug; repeat to require all of them."),
    ] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", description="BCP 47.")
    ] = None,
    published_after: Annotated[Timestamp | None, Query(description="Inclusive, RFC 3339.")] = None,
    published_before: Annotated[Timestamp | None, Query(description="Exclusive, RFC 3339.")] = None,
    record_type: Annotated[
        list[RecordType] | None,
        Query(
            alias="type",
            max_length=len(RECORD_TYPES),
            description="Only the records of this type; repeat for several (NDJSON). CSV is "
            "one table: it needs exactly one.",
        ),
    ] = None,
    export_format: Annotated[
        ExportFormat | None,
        Query(
            alias="format",
            description="`csv`: the records of one `type` as CSV (RFC 4180, UTF-8, a header "
            "row; README: CSV), as `Accept: text/csv` asks; `ndjson` (the default): NDJSON.",
        ),
    ] = None,
) -> StreamingResponse:
    """The data as the NDJSON corpus `newsgraph import` loads (bench/README.md), streamed from
    one consistent snapshot: sources, entities with aliases, articles with mentions, the
    evidence of entities, aliases and articles, relations, events with participants,
    statements, disputes with parties, territories and timeline; every fact with all its
    evidence (cited spans and editorial notes, with the field each supports).

    The filters select articles as they do for `GET /v1/articles`; a filtered export holds
    only the evidence of those articles, the relations, statements and events it supports
    (with the events those statements and events need), the sources and entities all of
    them refer to, and no disputes. `type` keeps only the records of the types named (each as
    it is in the whole export; a file of some types only may name records it leaves out).

    In CSV (`format=csv` or `Accept: text/csv`) the export is one table: the records of the
    one `type` asked for (400 `validation_error` without exactly one), one row each, their
    columns the record's fields flattened as the lists' CSV is (README: CSV).

    Each export runs on a database connection of its own, a few at a time (503 `export_busy`
    with `Retry-After` beyond); one whose client reads nothing for 30 s is cut off."""
    as_csv = (
        export_format == "csv"
        if export_format is not None
        else csv_format.prefers_csv(request.headers.get("accept"), over=_NDJSON_TYPES)
    )
    types = tuple(dict.fromkeys(record_type)) if record_type else RECORD_TYPES
    if as_csv and len(types) != 1:
        raise _one_type_for_csv(given=bool(record_type))
    # Imported by the first export, not with the app: the bulk import and export modules are
    # 2.4 MB of every serving worker's RSS (bench/README.md).
    from db.bulk.export import UnknownReference, export_chunks, export_records, resolve_filter
    from db.bulk.records import RECORD_MODELS

    slots: ExportSlots = request.app.state.export_slots
    slot = await slots.take()
    try:
        try:
            article_filter = await resolve_filter(
                slot.driver,
                source=source,
                entity=entity or [],
                language=language,
                published_after=published_after,
                published_before=published_before,
            )
        except UnknownReference as error:
            raise _unknown_reference(error) from error
        except DRIVER_ERRORS as error:
            raise slots.unavailable(error) from error
        if as_csv:
            chunks = _csv_chunks(
                export_records(slot.driver, article_filter, types=types),
                RECORD_MODELS[types[0]],
            )
        else:
            chunks = export_chunks(slot.driver, article_filter, types=types)
    except BaseException:
        slot.terminate()
        raise
    response = ExportResponse(chunks, slot, media_type=CSV if as_csv else NDJSON)
    # The answer depends on Accept: a shared cache must keep the two apart.
    response.headers["Vary"] = "Accept"
    return response


async def _csv_chunks(
    batches: AsyncGenerator[list[dict[str, Any]]], model: type[BaseModel]
) -> AsyncGenerator[bytes]:
    """The header row, then each batch's rows (api/shared/csv_format.py)."""
    try:
        yield csv_format.header(model)
        async for records in batches:
            yield csv_format.rows(model, records)
    finally:
        await batches.aclose()


def _one_type_for_csv(*, given: bool) -> ProblemError:
    message = (
        f"CSV is one table: give `type` exactly once, one of {_TYPES_TEXT}"
        if given
        else f"CSV is one table: name the records to export with `type`, one of {_TYPES_TEXT}"
    )
    return ProblemError(
        ProblemCode.VALIDATION_ERROR,
        f"{message}.",
        status=400,
        errors=[
            FieldError(
                location="query",
                field="type",
                message=f"exactly one of {_TYPES_TEXT} for CSV",
                type="conflicting_parameter",
            )
        ],
    )


def _unknown_reference(error: "UnknownReference") -> ProblemError:
    return ProblemError(
        ProblemCode.UNKNOWN_REFERENCE,
        f"{error}.",
        status=400,
        errors=[
            FieldError(
                location="query", field=error.parameter, message=f"unknown: {key}", type="unknown"
            )
            for key in error.keys
        ],
    )
