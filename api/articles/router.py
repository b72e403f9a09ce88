import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.articles import aggregates
from api.articles import service as article_service
from api.articles import writes as article_writes
from api.articles.presenters import (
    article_read,
    article_read_model,
    article_read_value,
    article_summary_items,
    with_includes,
)
from api.articles.schemas import (
    CREATE_EXAMPLES,
    MENTION_UPDATE_EXAMPLES,
    UPDATE_EXAMPLES,
    ArticleCreate,
    ArticleInclude,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    MentionPage,
    MentionRead,
    MentionUpdate,
)
from api.shared import idempotency, plain_json
from api.shared import pov as point_of_view
from api.shared.auth import WriteKey
from api.shared.batch import refuse_other_parameters
from api.shared.concurrency import IF_MATCH, OPTIONAL_IF_MATCH, claim, require_if_match
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.facets import (
    DEFAULT_FACET_LIMIT,
    FIELD_DESCRIPTION,
    FacetLimit,
    Facets,
    apply_pov,
    fields_asked,
)
from api.shared.histogram import INTERVAL_DESCRIPTION, Histogram, Interval
from api.shared.http_cache import body_with_etag, json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.lookup import get_by_key, id_for_filter, ids_for_filter
from api.shared.openapi_links import created_links, updated_links
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, lookup_response, page_response
from api.shared.params import Cursor, FullText, Limit, counted, list_parameters, lookup_keys
from api.shared.pov import Pov
from api.shared.routing import ApiRoute
from api.shared.schemas import Timestamp
from db.models import Article, Dispute, Entity, Event, Source

router = APIRouter(prefix="/articles", tags=["articles"], route_class=ApiRoute)


async def _article_in_path(session: SessionDep, article: str) -> Article:
    return await get_by_key(session, Article, article, "article")


# For handlers with nothing else to check: api.shared.lookup says why.
ArticleInPath = Annotated[Article, Depends(_article_in_path)]


# The articles list's filters, declared once for the list, its histogram and its facets.
Search = Annotated[
    FullText | None,
    Query(min_length=1, max_length=500, description="Full-text search; ranks by relevance."),
]
FromSource = Annotated[str | None, Query(description="Source id or slug.")]
Entities = Annotated[
    list[str] | None,
    Query(max_length=20, description="Entity id or slug; repeat to require all of them."),
]
Reporting = Annotated[str | None, Query(description="Event id or slug: articles reporting it.")]
About = Annotated[str | None, Query(description="Dispute id or slug: articles about it.")]
Language = Annotated[
    str | None, Query(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", description="BCP 47.")
]
PublishedAfter = Annotated[Timestamp | None, Query(description="Inclusive, RFC 3339.")]
PublishedBefore = Annotated[Timestamp | None, Query(description="Exclusive, RFC 3339.")]


async def _filters(
    session: SessionDep,
    *,
    q: str | None,
    source: str | None,
    entity: list[str] | None,
    event: str | None,
    dispute: str | None,
    language: str | None,
    published_after: datetime | None,
    published_before: datetime | None,
) -> article_service.ArticleFilters:
    """The list's query parameters as filters, keys as ids (400 for a key naming nothing)."""
    return article_service.ArticleFilters(
        q=q,
        source_id=await id_for_filter(session, Source, source, "source"),
        entity_ids=tuple(await ids_for_filter(session, Entity, entity or [], "entity")),
        event_id=await id_for_filter(session, Event, event, "event"),
        dispute_id=await id_for_filter(session, Dispute, dispute, "dispute"),
        language=language,
        published_after=published_after,
        published_before=published_before,
    )


@router.get(
    "",
    response_model=ArticlePage,
    summary="List articles",
    responses=problem_responses(400),
    openapi_extra=list_parameters(lookup=True, csv=True),
)
async def list_articles(
    request: Request,
    session: SessionDep,
    q: Search = None,
    source: FromSource = None,
    entity: Entities = None,
    event: Reporting = None,
    dispute: About = None,
    language: Language = None,
    published_after: PublishedAfter = None,
    published_before: PublishedBefore = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Articles, newest first; with `q`, the best full-text matches first (headline weighs
    more than summary, summary more than body), ranked among the 1,000 newest articles that
    match every filter: a word found in most of the archive still answers in milliseconds
    (and `total` is at most 1,000). With `id`, exactly the articles named."""
    ids = lookup_keys(request)
    count = counted(request)
    if ids is not None:
        refuse_other_parameters(request)
        found, missing = await article_service.articles_by_keys(session, ids)
        items = article_summary_items(found)
        return lookup_response(request, ArticlePage, items, missing, count=count, csv=True)
    keyset = keyset_for(request, article_service.ordering(q))
    after = keyset.start(cursor)
    filters = await _filters(
        session,
        q=q,
        source=source,
        entity=entity,
        event=event,
        dispute=dispute,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    articles, next_key, total = await article_service.list_articles(
        session,
        after=after,
        limit=limit,
        count=count,
        q=filters.q,
        source_id=filters.source_id,
        entity_ids=filters.entity_ids,
        event_id=filters.event_id,
        dispute_id=filters.dispute_id,
        language=filters.language,
        published_after=filters.published_after,
        published_before=filters.published_before,
    )
    items = article_summary_items(articles)
    return page_response(request, ArticlePage, items, keyset, next_key, total=total, csv=True)


# Before `/{article}`, which would otherwise take `histogram` and `facets` for article slugs.
@router.get(
    "/histogram",
    response_model=Histogram,
    summary="Count articles by publication time",
    responses=problem_responses(400),
)
async def get_article_histogram(
    request: Request,
    session: SessionDep,
    interval: Annotated[Interval, Query(description=INTERVAL_DESCRIPTION)],
    q: Search = None,
    source: FromSource = None,
    entity: Entities = None,
    event: Reporting = None,
    dispute: About = None,
    language: Language = None,
    published_after: PublishedAfter = None,
    published_before: PublishedBefore = None,
) -> Response:
    """How many articles of the list (under the same filters) were published in each
    `interval`, by `published_at` and its precision: an article dated to the day counts in its
    bucket (the day in UTC); one known only to the month, season, year or decade counts in a
    bucket only if that whole period lies in it, and otherwise in `spanning` with the range of
    buckets it may fall in; an undated one in `undated`. `published_after` and
    `published_before` filter as in the list and bound the axis, which otherwise runs from the
    first bucket holding an article to the last, empty buckets with 0. `total` is the list's
    `count=exact` total for the same filters (with `q`: the 1,000 newest matches)."""
    filters = await _filters(
        session,
        q=q,
        source=source,
        entity=entity,
        event=event,
        dispute=dispute,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    histogram = await aggregates.article_histogram(session, filters, interval)
    return json_with_etag(request, histogram)


@router.get(
    "/facets",
    response_model=Facets,
    summary="Count articles by field value",
    responses=problem_responses(400),
)
async def get_article_facets(
    request: Request,
    session: SessionDep,
    field: Annotated[
        list[aggregates.ArticleFacetField] | None,
        Query(max_length=len(aggregates.ArticleFacetField), description=FIELD_DESCRIPTION),
    ] = None,
    limit: FacetLimit = DEFAULT_FACET_LIMIT,
    pov: Pov = None,
    q: Search = None,
    source: FromSource = None,
    entity: Entities = None,
    event: Reporting = None,
    dispute: About = None,
    language: Language = None,
    published_after: PublishedAfter = None,
    published_before: PublishedBefore = None,
) -> Response:
    """The values articles of the list hold most, per `field` (`source`, `language`,
    `entity`: the entities they name, `event`: the events they report, `dispute`: the
    disputes they are about), each with how many articles hold it.

    A facet counts under every filter but its own: `source`, `language`, `event` and `dispute`
    leave their own filter out, so their counts say what picking another value would give;
    `entity` keeps its own, since repeated entities must all be named: a count says how many
    of the current articles also name that entity. With `q`, among the 1,000 newest matches,
    as the list. With `pov`, entity names are that party's names."""
    filters = await _filters(
        session,
        q=q,
        source=source,
        entity=entity,
        event=event,
        dispute=dispute,
        language=language,
        published_after=published_after,
        published_before=published_before,
    )
    party = await point_of_view.find_party(session, pov)
    fields = fields_asked(field, list(aggregates.ArticleFacetField))
    facets, total = await aggregates.article_facets(session, filters, fields, limit)
    await apply_pov(session, party, facets, aggregates.ENTITY_FACETS)
    read = Facets(facets=facets, total=total, pov=point_of_view.party_ref(party))
    return json_with_etag(request, read)


@router.get(
    "/{article:key}",
    response_model=ArticleRead,
    summary="Get an article",
    responses=problem_responses(400, 404),
)
async def get_article(
    request: Request,
    session: SessionDep,
    article: str,
    include: Annotated[
        list[ArticleInclude] | None, Query(description="Related data to embed.")
    ] = None,
) -> Response:
    """One article with its body, by id or slug. `include` (repeatable) embeds `mentions` (the
    entities it names, with character offsets), `events` (those it reports) and `statements`
    (those it quotes or paraphrases)."""
    fields = await article_service.get_article(session, article)
    if not include:
        # Written from the row (api/shared/plain_json.py): an eighth of the read's CPU went
        # on validating the model and dumping it again (bench/README.md, ninth round).
        body = plain_json.dumps(article_read_value(fields))
        return body_with_etag(request, body, version=fields["version"])
    read = await with_includes(session, article_read_model(fields), include)
    return json_with_etag(request, read, exclude_unset=True, version=read.version)


@router.get(
    "/{article:key}/mentions",
    response_model=MentionPage,
    summary="Mentions in an article",
    responses=problem_responses(400, 404),
    openapi_extra=list_parameters(),
)
async def list_article_mentions(
    request: Request,
    row: ArticleInPath,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every entity the article names, in body order (start, then end offset), a page at a
    time: all of them, where `include=mentions` embeds the first 1,000."""
    count = counted(request)
    keyset = keyset_for(request, article_service.IN_BODY_ORDER)
    mentions, next_key, total = await article_service.list_mentions(
        session,
        article_id=row.id,
        keyset=keyset,
        after=keyset.start(cursor),
        limit=limit,
        count=count,
    )
    items = [MentionRead.model_validate(m) for m in mentions]
    return page_response(request, MentionPage, items, keyset, next_key, total=total)


WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428)
# What a create or a detection answers with: what was found.
DETECTED = [ArticleInclude.MENTIONS, ArticleInclude.CANDIDATES]


@router.post(
    "",
    response_model=ArticleRead,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Add an article",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        **created_links(
            "article",
            reads=["get_article", "detect_article_mentions"],
            writes=["update_article", "delete_article"],
        ),
    },
)
async def create_article(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    article: Annotated[ArticleCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """Store an article and, unless `detect_mentions` is false, every known entity name and
    alias found in its body (word boundaries respected, longest match first, case and
    accents ignored), returned as `mentions` with offsets and `method: gazetteer`; a name
    several entities share is one `ambiguous` mention listing them. The proper names no
    known entity matches come back as `candidates`, for an editor to accept or reject
    (`/v1/candidates`). The same URL or the same normalized text as a stored article is a 409
    naming it in `existing`. Send `Idempotency-Key` to make retries safe."""
    claim = await idempotency.begin(session, request, api_key, article)
    if isinstance(claim, Response):
        return claim
    row = await article_writes.create_article(session, data=article)
    read = await article_read(session, row, DETECTED)
    return await idempotency.created(
        session,
        request,
        claim,
        read,
        version=row.version,
        location=f"/v1/articles/{row.id}",
        exclude_unset=True,
    )


@router.patch(
    "/{article:key}",
    response_model=ArticleRead,
    dependencies=[IF_MATCH],
    summary="Update an article",
    responses={
        **WRITE_ERRORS,
        **updated_links(
            "article", reads=["get_article"], writes=["update_article", "delete_article"]
        ),
    },
)
async def update_article(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    article: str,
    changes: Annotated[ArticleUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Response:
    """Change the fields sent; `If-Match` is required. A new body re-runs mention detection,
    and is refused (409 `body_is_cited`) while evidence or curated mentions point into the
    old one."""
    row = await get_by_key(session, Article, article, "article")
    await claim(request, session, api_key, row, resource="article")
    row = await article_writes.update_article(session, article=row, data=changes)
    read = await article_read(session, row, [ArticleInclude.MENTIONS])
    return json_with_etag(request, read, exclude_unset=True, version=row.version)


@router.post(
    "/{article:key}/mentions/detect",
    response_model=ArticleRead,
    dependencies=[OPTIONAL_IF_MATCH],
    summary="Detect mentions again",
    responses=problem_responses(400, 401, 403, 404, 412),
)
async def detect_article_mentions(
    request: Request, session: SessionDep, api_key: WriteKey, row: ArticleInPath
) -> Response:
    """Scan the body again for every entity name and alias known now (after entities or
    aliases were added) and replace the article's gazetteer mentions and pending candidates;
    curated mentions, and candidates an editor accepted or rejected, stay."""
    if request.headers.get("if-match") is not None:
        require_if_match(request, resource="article", version=row.version)
    row = await article_writes.redetect_mentions(session, article=row)
    read = await article_read(session, row, DETECTED)
    return json_with_etag(request, read, exclude_unset=True, version=row.version)


@router.patch(
    # A UUID only: "/mentions/detect" is another operation's path.
    "/{article:key}/mentions/{mention:uuid}",
    response_model=MentionRead,
    dependencies=[IF_MATCH],
    summary="Resolve a mention",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 428),
)
async def update_article_mention(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    row: ArticleInPath,
    mention: uuid.UUID,
    changes: Annotated[MentionUpdate, Body(openapi_examples=MENTION_UPDATE_EXAMPLES)],
) -> Response:
    """Say which entity a mention names: resolves an `ambiguous` one (any entity may be
    chosen, not only one of `possible_entities`), or corrects one. `If-Match` takes the
    article's ETag (its mentions are part of it) and the answer carries the article's new one.
    The mention becomes `curated`, confidence 1: detection keeps it, and the article's body
    can no longer change while it points into it."""
    await claim(request, session, api_key, row, resource="article")
    found = await article_service.get_mention(session, article_id=row.id, mention_id=mention)
    found = await article_writes.resolve_mention(
        session, article=row, mention=found, entity_key=changes.entity
    )
    read = MentionRead.model_validate(found)
    return json_with_etag(request, read, version=row.version)


@router.delete(
    "/{article:key}",
    status_code=204,
    dependencies=[IF_MATCH],
    summary="Delete an article",
    responses=WRITE_ERRORS,
)
async def delete_article(
    request: Request,
    session: SessionDep,
    api_key: WriteKey,
    article: str,
    cascade: Annotated[
        bool, Query(description="Also delete the evidence that cites the article.")
    ] = False,
) -> Response:
    """Delete an article with its mentions; `If-Match` is required. Refused (409) while
    evidence for events, statements or other facts cites it, unless `cascade=true`."""
    row = await get_by_key(session, Article, article, "article")
    await claim(request, session, api_key, row, resource="article", cascade=cascade)
    await article_writes.delete_article(session, article=row, cascade=cascade)
    return Response(status_code=204)
