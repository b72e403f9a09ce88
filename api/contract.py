"""The OpenAPI contract (openapi/openapi.json, served at /openapi.json): FastAPI's document of
the app's routes, completed into what the API really answers. Built once per app.

FastAPI derives paths, parameters, bodies and schemas from the routes. What it cannot see is
documented by the module that does it (parameters left out: api.shared.params; If-Match and
when `admin` is needed: api.shared.concurrency; problem details: api.shared.errors; 429:
api.transport.ratelimit), and here, in one place:

- the document's own parts: version (the package's), licence, contact, servers, tags;
- an item's key in a path is not one of its collection's aggregate names (`facets`);
- security: the bearer scheme on writes with the scope each needs, `security: []` on the
  public reads, or the scheme on them too when the deployment requires a key for reads;
- 503 on every operation that reaches the database;
- every response header the app sends, declared per operation and status: `HEADERS` holds
  them all and `document_headers` says where each goes (tests/contract/test_headers.py calls
  every operation and fails on a header sent but not declared there, or declared required
  but not sent);
- schema names an SDK can use: the seed-file models that request bodies share (`AliasSeed`,
  `EvidenceSeed`, ...) are named as the API's (`AliasWrite`, `EvidenceWrite`, ...).
"""

from copy import deepcopy
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute

from api.settings import Settings
from api.shared import concurrency, consistency, errors, params
from api.shared.auth import bearer
from api.shared.errors import PROBLEM_MEDIA_TYPE, REQUEST_ID_HEADER
from api.shared.routing import AGGREGATE_PATHS, ItemKeyConvertor
from api.transport.ratelimit import EXEMPT_PATHS, document_rate_limits

TITLE = "Newsgraph"
SUMMARY = "A REST API for structured news metadata."
VERSION = version("newsgraph")
DESCRIPTION = """\
Structured news metadata: articles, the entities they mention, the events they report and
the disputes those events belong to, each fact tied to the words of the article that support it.

Reads are public, with no key. Writes need an API key (`Authorization: Bearer <key>`,
made with `newsgraph apikey create`) with the scope each operation names; a deployment can
require a key for reads as well (`NEWSGRAPH_REQUIRE_KEY_FOR_READS`), and its own
`/openapi.json` then says so on every read.

Reads carry a strong `ETag` (send it in `If-None-Match` for a 304) and `Cache-Control`; lists
page by cursor and link the next page in `Link`; PATCH and DELETE need the `ETag` you read in
`If-Match`; a POST with an `Idempotency-Key` can be retried safely. Every response carries
`X-Request-ID`, and, while rate limiting is on, `RateLimit` and `RateLimit-Policy`. On a
deployment with read replicas a write answers with a `Consistency-Token`: send it back in the
same header on a read to be sure the answer includes that write.

Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
CONTACT = {"name": "Newsgraph", "url": "https://newsgraph.dev/"}
# Relative: the server that serves this document (`make run`: http://127.0.0.1:8000).
SERVERS = [{"url": "/", "description": "The server this document is served from."}]
# Every tag an operation uses, with what it covers, in the order the document lists them.
TAG_DESCRIPTIONS = {
    "articles": "News articles, with their body and the entities they mention (character offsets).",
    "candidates": "Proper names in articles that no known entity matches yet, for an editor "
    "to accept (as a new entity, or another name of one) or reject.",
    "disputes": "Disputes between parties, over territory and more: parties and their "
    "positions, territories, a timeline of events, each party's names for things.",
    "entities": "People, countries, organizations, places and territories: names and aliases "
    "(and whose name each is), relations, and the articles, events and entities they appear "
    "with.",
    "events": "Who did what to whom, when and where, typed with the PLOVER ontology, with "
    "participants and the article words behind each.",
    "sources": "Publishers of the articles.",
    "statements": "What was said, by whom, quoted or paraphrased, and who conveyed it.",
    "search": "One ranked list across entities, events, disputes and articles.",
    "export": "The data as the NDJSON corpus `newsgraph import` loads.",
    "changes": "What changed since a position: every committed create, update and delete, "
    "polled or pushed as Server-Sent Events, never skipped or repeated.",
    "webhooks": "Signed pushes of every change to the URLs an operator registers (admin).",
    "health": "Liveness and readiness probes for orchestrators.",
}
TAGS = [{"name": name, "description": text} for name, text in TAG_DESCRIPTIONS.items()]

# Operations that never touch the database: no 503.
_DATABASE_FREE = frozenset({"/healthz"})
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_JSON = "application/json"

# Every response header the app sends, as components.headers; `document_headers` places them.
# Transport headers (Content-Type, Content-Length, Date, Server, Vary, CORS) and the security
# headers every response carries alike (api/transport/security_headers.py; README: Security
# headers) are not declared per operation.
HEADERS: dict[str, dict[str, Any]] = {
    REQUEST_ID_HEADER: {
        "description": "The request's id, as the access log and every problem's `request_id` "
        "give it: the `X-Request-ID` the request sent when that is 1 to 128 letters, digits "
        "or `._:-`, else a new one.",
        "required": True,
        "schema": {"type": "string", "maxLength": 128, "examples": ["3f0c9a1e8d2b4c7a"]},
    },
    "ETag": {
        "description": "A strong validator of this representation: send it in "
        "`If-None-Match` for a 304 while it is current. A single resource's "
        '(`"v<version>-<digest>"`) goes in `If-Match` to change or delete it.',
        "required": True,
        "schema": {"type": "string", "examples": ['"v1-4f2d9b0c6e1a8d37"']},
    },
    "Cache-Control": {
        "description": "`public, max-age=30, must-revalidate` on a read (`private, ...` "
        "when reads need an API key); `no-store` on the answer to a write.",
        "required": True,
        "schema": {"type": "string", "examples": ["public, max-age=30, must-revalidate"]},
    },
    "Link": {
        "description": 'The next page (RFC 8288), `<url>; rel="next"`: the same query with '
        "the next `cursor`. Absent on the last page.",
        "required": False,
        "schema": {"type": "string"},
    },
    "Allow": {
        "description": "The methods the path takes (RFC 9110), e.g. `GET, HEAD`.",
        "required": True,
        "schema": {"type": "string", "examples": ["GET, HEAD"]},
    },
    "Location": {
        "description": "The path of the resource created: `/v1/<resources>/<id>`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key`: nothing was created now. Absent otherwise.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
    "RateLimit": {
        "description": 'Where the client stands, e.g. `"address";r=12;t=31`: r requests '
        "left, t seconds until at least one more (draft-ietf-httpapi-ratelimit-headers-10). "
        "Sent while rate limiting is on (the default) and its storage answers.",
        "required": False,
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'The budget, e.g. `"address";q=300;w=60`: q requests per w seconds, '
        "per client address (`address`) or API key (`key`). Sent with `RateLimit`.",
        "required": False,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before the request can succeed.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {
        "description": 'The scheme to authenticate with: `Bearer realm="newsgraph"`.',
        "required": True,
        "schema": {"type": "string"},
    },
    consistency.HEADER: {
        "description": "Sent on a deployment with read replicas: the database position this "
        "write reached (opaque, such as `16/B374D848`). Send it back in `Consistency-Token` on "
        "a read to be sure the answer includes this write.",
        "required": False,
        "schema": {"type": "string", "examples": ["16/B374D848"]},
    },
    "Accept-Post": {
        "description": "`application/json`: the media type the operation takes.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Accept-Patch": {
        "description": "`application/json`: the media type the operation takes.",
        "required": True,
        "schema": {"type": "string"},
    },
}

IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of the representation you hold: while it is current the "
    "answer is 304 Not Modified, without a body (`*` matches any).",
    "schema": {"type": "string"},
}


CONSISTENCY_TOKEN = {
    "name": consistency.HEADER,
    "in": "header",
    "required": False,
    "description": "The `Consistency-Token` a write answered with: on a deployment with read "
    "replicas, the answer then includes that write (a replica that has not caught up leaves "
    "the read to the primary). Ignored where there are no replicas, and by the change feed, "
    "which is always read from the primary.",
    # No pattern or length here: a deployment without replicas ignores the header, so no
    # value is refused by every deployment (with replicas a malformed one is a 400).
    "schema": {"type": "string", "examples": ["16/B374D848"]},
}
_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built on first use and kept."""
    if app.openapi_schema is None:
        settings: Settings = app.state.settings
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
            tags=TAGS,
            servers=SERVERS,
            contact=CONTACT,
            license_info=LICENSE,
        )
        document = document_item_keys(document, app.routes)
        document = params.document_optional_parameters(document)
        document = document_security(document, reads_need_key=settings.require_key_for_reads)
        document = concurrency.document_if_match(document)
        document = document_rate_limits(errors.document_problems(document))
        document = document_unavailable(document)
        document = document_headers(document)
        app.openapi_schema = api_schema_names(document)
    return app.openapi_schema


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def document_item_keys(document: dict[str, Any], routes: list[BaseRoute]) -> dict[str, Any]:
    """An item's key in a path (`{event:key}`, api.shared.routing.ItemKeyConvertor) is any
    segment but the collection's aggregate names: `/v1/events/facets` is the facets, never
    the event slugged `facets`. The parameter's schema says so with the convertor's pattern.
    A write given such a name as its key reaches the aggregate's path, which only reads: 405,
    documented where the collection has that path."""
    paths = document.get("paths", {})
    # The app's routes include its routers as a whole; iter_route_contexts walks into them.
    for route in iter_route_contexts(routes):
        path = route.path_format
        if path is None or path not in paths or not route.methods:
            continue
        keys = {
            name
            for name, convertor in route.param_convertors.items()
            if isinstance(convertor, ItemKeyConvertor)
        }
        # The collection's aggregate paths this item path's key can name.
        aggregates = [
            paths[named]
            for key in keys
            for name in AGGREGATE_PATHS
            if (named := path.replace("{" + key + "}", name)) in paths
        ]
        for method in route.methods:
            operation = paths[path].get(method.lower(), {})
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in keys:
                    parameter["schema"]["pattern"] = ItemKeyConvertor.pattern
            if any(method.lower() not in item for item in aggregates):
                entry = errors.problem_responses(405)[405]
                operation.setdefault("responses", {}).setdefault(
                    "405", {"description": entry["description"], "content": entry["content"]}
                )
    return document


def document_security(document: dict[str, Any], *, reads_need_key: bool) -> dict[str, Any]:
    """Writes declare the bearer scheme, and the scope they need (api.shared.auth.require) in
    words; the rest get `security: []`, public, or, when the deployment requires a key for
    reads, the scheme too on every /v1 read (api.shared.auth.read_access), with 401.

    FastAPI lists the scope as a role in the security requirement, which OpenAPI 3.1 allows
    for any scheme; Spectral's `oas` rules read it as an OAuth scope that the scheme lacks,
    and generators ignore it: the requirement is left without roles."""
    scheme = bearer.scheme_name
    for path, _, operation in _operations(document):
        requirements = operation.get("security")
        if requirements:
            scopes = [scope for requirement in requirements for scope in requirement[scheme]]
            operation["security"] = [{scheme: []}]
            named = " or ".join(f"`{scope}`" for scope in scopes)
            operation["description"] = (
                f"{operation.get('description', '').rstrip()}\n\n"
                f"Needs an API key with the {named} scope (`Authorization: Bearer <key>`): "
                "401 `unauthorized` without a valid one, 403 `insufficient_scope` when it "
                "lacks the scope."
            ).lstrip()
        elif reads_need_key and path.startswith("/v1/"):
            operation["security"] = [{scheme: []}]
            entry = errors.problem_responses(401)[401]
            operation["responses"].setdefault(
                "401", {"description": entry["description"], "content": entry["content"]}
            )
        else:
            operation["security"] = []
    # What Newsgraph sends to webhooks: the receiver checks the signature, not a key of ours.
    for item in document.get("webhooks", {}).values():
        for operation in item.values():
            operation["security"] = []
    return document


def document_unavailable(document: dict[str, Any]) -> dict[str, Any]:
    """503 with Retry-After on every operation that reaches the database (api.shared.errors:
    unreachable, pool exhausted, statement timeout, a conflict still lost after the retries)."""
    for path, _, operation in _operations(document):
        if path in _DATABASE_FREE:
            continue
        operation["responses"].setdefault(
            "503",
            {
                "description": "Service Unavailable: the database cannot be reached, is busy "
                "or timed out, or the request kept colliding with others (nothing changed); "
                "retry after `Retry-After` seconds.",
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        )
    return document


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _is_resource(path: str, status: str, response: dict[str, Any]) -> bool:
    """A /v1 answer with a JSON body: every one is made by api.shared.http_cache.json_with_etag,
    with ETag and Cache-Control."""
    return (
        path.startswith("/v1/")
        and status in {"200", "201"}
        and _JSON in response.get("content", {})
    )


def _headers_of(
    path: str, method: str, status: str, operation: dict[str, Any], response: dict[str, Any]
) -> dict[str, Any]:
    """The headers a response of `operation` with `status` carries (beyond transport and
    security headers), by the rules of the code that sends each."""
    headers: dict[str, Any] = {}
    paged = any(p.get("name") == "cursor" for p in operation.get("parameters", []))
    if _is_resource(path, status, response) or status == "304":
        headers["ETag"] = _ref("ETag")
        headers["Cache-Control"] = _ref("Cache-Control")
        if paged and status in {"200", "304"}:
            headers["Link"] = _ref("Link")
    if path.startswith("/v1/") and method in _WRITE_METHODS and status.startswith("2"):
        headers[consistency.HEADER] = _ref(consistency.HEADER)
    if status == "201":
        headers["Location"] = _ref("Location")
        headers["Idempotent-Replayed"] = _ref("Idempotent-Replayed")
    if status in {"429", "503"}:
        headers["Retry-After"] = _ref("Retry-After")
    if status == "405":
        headers["Allow"] = _ref("Allow")
    if status == "401":
        headers["WWW-Authenticate"] = _ref("WWW-Authenticate")
    if status == "415" and method in {"post", "patch"}:
        name = f"Accept-{method.capitalize()}"
        headers[name] = _ref(name)
    # The limiter runs inside the request-line check, which refuses a 414 before it.
    if path not in EXEMPT_PATHS and status != "414":
        if status == "429":  # the refusal always says where the client stands
            headers["RateLimit"] = HEADERS["RateLimit"] | {"required": True}
            headers["RateLimit-Policy"] = HEADERS["RateLimit-Policy"] | {"required": True}
        else:
            headers["RateLimit"] = _ref("RateLimit")
            headers["RateLimit-Policy"] = _ref("RateLimit-Policy")
    headers[REQUEST_ID_HEADER] = _ref(REQUEST_ID_HEADER)  # api.transport.request_id: all
    return headers


def document_headers(document: dict[str, Any]) -> dict[str, Any]:
    """Declare every header the app sends, on each operation and status that sends it; a read
    with an ETag takes `If-None-Match` and may answer 304. Responses are listed by status."""
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        if method == "get" and path.startswith("/v1/"):
            operation.setdefault("parameters", []).append(deepcopy(CONSISTENCY_TOKEN))
        if method == "get" and _is_resource(path, "200", responses.get("200", {})):
            operation.setdefault("parameters", []).append(deepcopy(IF_NONE_MATCH))
            responses["304"] = {
                "description": "Not Modified: the representation `If-None-Match` names is "
                "current; no body."
            }
        for status, response in responses.items():
            headers = _headers_of(path, method, status, operation, response)
            response["headers"] = response.get("headers", {}) | headers
        operation["responses"] = dict(sorted(responses.items()))
    document.setdefault("components", {})["headers"] = deepcopy(HEADERS)
    return document


_SEED_SUFFIX = "Seed"
_API_SUFFIX = "Write"


def api_schema_names(document: dict[str, Any]) -> dict[str, Any]:
    """Request bodies share the seed-file models (seeds/schema.py: `EvidenceSeed`, ...): the
    seed format is the write format. In the contract they are named as the API's write
    models, `EvidenceWrite`, ..., beside the `...Read` models an SDK reads."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renames = {
        name: name.removesuffix(_SEED_SUFFIX) + _API_SUFFIX
        for name in schemas
        if name.endswith(_SEED_SUFFIX)
    }
    clashes = sorted(set(renames.values()) & set(schemas))
    if clashes:
        raise RuntimeError(f"schema names {clashes} are taken: rename the seed models' API names")
    if not renames:
        return document
    refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: refs.get(value, value)
                if key == "$ref" and isinstance(value, str)
                else rename(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    renamed: dict[str, Any] = rename(document)
    renamed["components"]["schemas"] = {
        renames.get(name, name): (schema | {"title": renames[name]} if name in renames else schema)
        for name, schema in renamed["components"]["schemas"].items()
    }
    return renamed
