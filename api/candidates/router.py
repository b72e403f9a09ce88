from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from api.candidates import service as candidate_service
from api.candidates.schemas import ACCEPT_EXAMPLES, CandidateAccept, CandidatePage
from api.shared.auth import WriteKey
from api.shared.candidates import CandidateRead, candidate_read, with_entities
from api.shared.concurrency import OPTIONAL_IF_MATCH, require_if_match
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.http_cache import json_with_etag
from api.shared.lookup import id_for_filter
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, page_response
from api.shared.params import Cursor, Limit, counted, list_parameters
from api.shared.routing import ApiRoute
from db.enums import CandidateKind, CandidateStatus
from db.models import Article, EntityCandidate

router = APIRouter(prefix="/candidates", tags=["candidates"], route_class=ApiRoute)


@router.get(
    "",
    response_model=CandidatePage,
    summary="List candidates",
    responses=problem_responses(400),
    openapi_extra=list_parameters(),
)
async def list_candidates(
    request: Request,
    session: SessionDep,
    article: Annotated[str | None, Query(description="Article id or slug.")] = None,
    kind: Annotated[CandidateKind | None, Query(description="The suggested kind.")] = None,
    status: Annotated[
        CandidateStatus | None, Query(description="`pending` for what is left to review.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """The proper names detection found in articles that no known entity matched: newest
    detection first, each article's in body order. Accept one to make it an entity (or another
    name of one) with a mention at every place the article names it; reject it so detection
    does not suggest it again for that article."""
    keyset = keyset_for(request, candidate_service.NEWEST_FIRST)
    after = keyset.start(cursor)
    article_id = await id_for_filter(session, Article, article, "article")
    rows, next_key, total = await candidate_service.list_candidates(
        session,
        keyset=keyset,
        after=after,
        limit=limit,
        article_id=article_id,
        kind=kind,
        status=status,
        count=counted(request),
    )
    return page_response(request, CandidatePage, with_entities(rows), keyset, next_key, total=total)


WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 413, 422)


async def _candidate_in_path(request: Request, session: SessionDep, key: str) -> EntityCandidate:
    row = await candidate_service.get_candidate(session, key)
    if request.headers.get("if-match") is not None:
        require_if_match(request, resource="candidate", version=row.version)
    return row


@router.post(
    "/{candidate}/accept",
    response_model=CandidateRead,
    dependencies=[OPTIONAL_IF_MATCH],
    summary="Accept a candidate",
    responses=WRITE_ERRORS,
)
async def accept_candidate(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    candidate: str,
    choice: Annotated[CandidateAccept, Body(openapi_examples=ACCEPT_EXAMPLES)],
) -> Response:
    """Make the name an entity: a new one (slug, kind and name as suggested unless sent), or,
    with `entity`, an existing one it is another name of. Each form the article writes it in
    that the entity lacks becomes an alias ("Blinken" a `short` one), and every span a
    `curated` mention of it; the entity and its aliases cite the article's words as evidence.
    Accepting again changes nothing (409 `candidate_settled` if it names another entity); a
    taken slug is a 409 `conflict`. `If-Match`, when sent, must
    carry the candidate's ETag as read (412 otherwise)."""
    row = await _candidate_in_path(request, session, candidate)
    row, entity = await candidate_service.accept(session, candidate=row, data=choice)
    read = candidate_read(row, entity)
    return json_with_etag(request, read, version=row.version)


@router.post(
    "/{candidate}/reject",
    response_model=CandidateRead,
    dependencies=[OPTIONAL_IF_MATCH],
    summary="Reject a candidate",
    responses=problem_responses(400, 401, 403, 404, 409, 412),
)
async def reject_candidate(
    request: Request, session: SessionDep, api_key: WriteKey, candidate: str
) -> Response:
    """Not a name worth an entity: detection will not suggest it again for this article.
    Rejecting again changes nothing; an accepted candidate cannot be rejected (409
    `candidate_settled`). `If-Match`, when sent, must carry the candidate's ETag as read."""
    row = await _candidate_in_path(request, session, candidate)
    row = await candidate_service.reject(session, candidate=row)
    return json_with_etag(request, candidate_read(row, None), version=row.version)
