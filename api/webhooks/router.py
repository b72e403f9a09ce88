import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from api.shared import idempotency
from api.shared.auth import AdminKey
from api.shared.deps import SessionDep
from api.shared.errors import problem_responses
from api.shared.http_cache import WRITE_CACHE_CONTROL, json_with_etag
from api.shared.idempotency import IDEMPOTENCY_KEY
from api.shared.openapi_links import links_to
from api.shared.pagination import DEFAULT_LIMIT, keyset_for, page_response
from api.shared.params import Cursor, Limit
from api.shared.routing import ApiRoute
from api.webhooks import service as webhook_service
from api.webhooks.schemas import (
    CREATE_EXAMPLES,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookPayload,
    WebhookRead,
)
from db.enums import DeliveryStatus

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=ApiRoute)

# What the API sends to webhooks, for the OpenAPI document's `webhooks` section.
deliveries = APIRouter()


def _unshared(response: Response) -> Response:
    """Admin reads are for their client alone, and change as deliveries are made: no cache
    keeps them (the public reads' `Cache-Control` would let a shared cache)."""
    if response.status_code != 304:
        response.headers["Cache-Control"] = WRITE_CACHE_CONTROL
    return response


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=201,
    dependencies=[IDEMPOTENCY_KEY],
    summary="Create a webhook",
    responses={
        **problem_responses(400, 401, 403, 409, 413, 422),
        201: {
            "description": "Created",
            "links": links_to(
                "webhook", reads=["get_webhook", "list_webhook_deliveries", "delete_webhook"]
            ),
        },
    },
)
async def create_webhook(
    request: Request,
    session: SessionDep,
    api_key: AdminKey,
    webhook: Annotated[WebhookCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> Response:
    """A receiver for changes: every change committed from now on, of the `types` asked for,
    is POSTed to `url` (the `change` webhook below), signed as the Standard Webhooks
    specification says, at least once, retried with exponential backoff for the server's
    retry period (24 hours by default). Needs the `admin` scope.

    The answer holds the signing `secret`, which no read shows again: store it. Send
    `Idempotency-Key` to make retries safe (a retry gets the same answer, secret included).

    The URL must be http or https, and its host must resolve to public addresses only:
    loopback, private, link-local, multicast, reserved and cloud metadata addresses are
    refused (422) unless the server's `NEWSGRAPH_WEBHOOK_ALLOWED_HOSTS` allows them; every
    delivery checks again the addresses it connects to. Redirects are not followed."""
    claim = await idempotency.begin(session, request, api_key, webhook)
    if isinstance(claim, Response):
        return claim
    row = await webhook_service.create_webhook(
        session, data=webhook, targets=request.app.state.webhook_targets
    )
    response = json_with_etag(
        request,
        WebhookCreated.model_validate(row),
        status_code=201,
        headers={"Location": f"/v1/webhooks/{row.id}"},
    )
    return await idempotency.finish(session, claim, response)


@router.get(
    "",
    response_model=WebhookPage,
    summary="List webhooks",
    responses=problem_responses(400, 401, 403),
)
async def list_webhooks(
    request: Request,
    session: SessionDep,
    api_key: AdminKey,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every webhook, oldest first (never their secrets). Needs the `admin` scope."""
    keyset = keyset_for(request, webhook_service.CREATED_ORDER)
    rows, next_key = await webhook_service.list_webhooks(
        session, keyset=keyset, after=keyset.start(cursor), limit=limit
    )
    items = [WebhookRead.model_validate(row) for row in rows]
    return _unshared(page_response(request, WebhookPage, items, keyset, next_key))


@router.get(
    "/{webhook}",
    response_model=WebhookRead,
    summary="Get a webhook",
    responses=problem_responses(400, 401, 403, 404),
)
async def get_webhook(
    request: Request, session: SessionDep, api_key: AdminKey, webhook: uuid.UUID
) -> Response:
    """One webhook by id (without its secret). Needs the `admin` scope."""
    row = await webhook_service.get_webhook(session, webhook)
    return _unshared(json_with_etag(request, WebhookRead.model_validate(row)))


@router.delete(
    "/{webhook}",
    status_code=204,
    summary="Delete a webhook",
    responses=problem_responses(400, 401, 403, 404),
)
async def delete_webhook(session: SessionDep, api_key: AdminKey, webhook: uuid.UUID) -> Response:
    """Delete a webhook and its deliveries: nothing more is sent to it (an attempt already
    under way still arrives). Needs the `admin` scope."""
    await webhook_service.delete_webhook(session, webhook)
    return Response(status_code=204)


@router.get(
    "/{webhook}/deliveries",
    response_model=DeliveryPage,
    summary="List a webhook's deliveries",
    responses=problem_responses(400, 401, 403, 404),
)
async def list_webhook_deliveries(
    request: Request,
    session: SessionDep,
    api_key: AdminKey,
    webhook: uuid.UUID,
    status: DeliveryStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """What was sent to the webhook, newest change first: each delivery (its id is the
    `webhook-id` header) with its state and its attempts, each with the status the receiver
    answered or why there was none, and its latency. Deliveries are kept as long as the
    change feed keeps their change. Needs the `admin` scope."""
    await webhook_service.get_webhook(session, webhook)
    keyset = keyset_for(request, webhook_service.DELIVERY_ORDER)
    items, next_key = await webhook_service.list_deliveries(
        session,
        webhook_id=webhook,
        keyset=keyset,
        after=keyset.start(cursor),
        limit=limit,
        status=status,
    )
    return _unshared(page_response(request, DeliveryPage, items, keyset, next_key))


@deliveries.post(
    "change",
    operation_id="change",
    summary="A change, delivered to a webhook",
    responses={
        200: {
            "description": "Any 2xx delivers it; any other status, or no answer within the "
            "timeout, is an attempt that failed, retried later.",
            "content": None,
        }
    },
)
async def change(payload: WebhookPayload) -> None:
    """Sent to each webhook for every change of the types it asked for: a POST of this JSON
    body with the Standard Webhooks headers `webhook-id` (the delivery's id: the same on
    every retry, so deduplicate on it), `webhook-timestamp` and `webhook-signature`. Verify
    the signature with any Standard Webhooks library and the secret the webhook was created
    with. Answer with a 2xx within the server's timeout (10 s by default); anything else is
    retried. Deliveries are not ordered: use the change's `version`."""
