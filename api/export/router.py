from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.export.stream import DRIVER_ERRORS, NDJSON, ExportResponse, ExportSlots
from api.shared.errors import FieldError, ProblemError, problem_responses
from api.shared.problems import ProblemCode
from api.shared.routing import ApiRoute
from api.shared.schemas import Timestamp

if TYPE_CHECKING:
    from db.bulk.export import UnknownReference

router = APIRouter(prefix="/export", tags=["export"], route_class=ApiRoute)


@router.get(
    "",
    summary="Export as NDJSON",
    operation_id="export_ndjson",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The corpus, one JSON record a line.",
            "content": {NDJSON: {"schema": {"type": "string"}}},
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
) -> StreamingResponse:
    """The data as the NDJSON corpus `newsgraph import` loads (bench/README.md), streamed from
    one consistent snapshot: sources, entities with aliases, articles with mentions, the
    evidence of entities, aliases and articles, relations, events with participants,
    statements, disputes with parties, territories and timeline; every fact with all its
    evidence (cited spans and editorial notes, with the field each supports).

    The filters select articles as they do for `GET /v1/articles`; a filtered export holds
    only the evidence of those articles, the relations, statements and events it supports
    (with the events those statements and events need), the sources and entities all of
    them refer to, and no disputes.

    Each export runs on a database connection of its own, a few at a time (503 `export_busy`
    with `Retry-After` beyond); one whose client reads nothing for 30 s is cut off."""
    # Imported by the first export, not with the app: the bulk import and export modules are
    # 2.4 MB of every serving worker's RSS (bench/README.md).
    from db.bulk.export import UnknownReference, export_chunks, resolve_filter

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
        chunks = export_chunks(slot.driver, article_filter)
    except BaseException:
        slot.terminate()
        raise
    return ExportResponse(chunks, slot)


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
