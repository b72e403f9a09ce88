"""Every header the app sends is in the contract, and every header the contract declares is
sent: each operation of the app's OpenAPI document is called, on the seed data, for its
answers (a read, a conditional read, a create with a write key and its replay, an update,
a delete, and the refusals: 400, 401, 403, 404, 409, 412, 413, 414, 415, 422, 428, 429,
503), and each response's headers are compared with those the document declares for that
operation and status: a header sent but not declared fails, so does a required one not sent,
and so does a header declared somewhere that no response ever carried.

Left out of the comparison, as the contract leaves them out of each operation (api/contract.py):
transport headers (Content-Type, Content-Length, Date, Server, Vary, Transfer-Encoding), CORS
headers, and the security headers every response carries alike
(api/transport/security_headers.py, README: Security headers).
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI, Request
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.main import create_app
from api.settings import Settings
from api.shared.deps import get_session
from api.transport.security_headers import security_headers
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.clients import client_for

TRANSPORT = {"content-type", "content-length", "date", "server", "vary", "transfer-encoding"}
SECURITY = {name.decode() for name, _ in security_headers(hsts_seconds=1)} | {
    "content-security-policy"
}
# Seed rows to put in each path parameter.
PATH_VALUES = {
    "article": "kyodo-2021-10-07-kishida-putin-phone-call",
    "dispute": "kuril-islands-dispute",
    "entity": "japan",
    "event": "kishida-putin-phone-call-2021-10-07",
    "source": "kyodo",
    "statement": "kishida-account-of-phone-call",
    # No seed rows: the walk of other writes makes its own (`discoveries`).
    "candidate": "00000000-0000-4000-8000-000000000000",
    "mention": "00000000-0000-4000-8000-000000000000",
}
# An article with a known name (a mention to resolve) and unknown ones (candidates).
DISCOVERIES = (
    "Foreign Minister Yoshimasa Hayashi met Secretary of State Antony Blinken in Japan to "
    "discuss the Senkaku Islands."
)
REQUIRED_QUERY = {"q": "japan", "interval": "year"}
STALE = '"v999999-0000000000000000"'
FORGED_KEY = "ng_" + "A" * 43  # shaped like a key, in no database


def not_compared(name: str) -> bool:
    name = name.lower()
    return name in TRANSPORT or name in SECURITY or name.startswith("access-control-")


@dataclass(frozen=True)
class Sample:
    """One response of one operation, and the document of the app that answered it."""

    method: str
    template: str
    response: Response
    document: Mapping[str, Any]


class Walk:
    """Calls operations by their path template and keeps every answer."""

    def __init__(
        self,
        client: AsyncClient,
        document: Mapping[str, Any],
        session: AsyncSession | None = None,
    ) -> None:
        self.client = client
        self.document = document
        self.samples: list[Sample] = []
        # The test's session, shared by every request: a refused write leaves it to be rolled
        # back, as each request's own session is when it ends.
        self.session = session

    async def call(
        self, method: str, template: str, values: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Response:
        path = template.format(**(PATH_VALUES | dict(values or {})))
        response = await self.client.request(method.upper(), path, **kwargs)
        self.samples.append(Sample(method, template, response, self.document))
        if self.session is not None and response.status_code >= 400:
            await self.session.rollback()
        return response


# Admin-only, with no slug, no PATCH and an SSRF check on their body's URL: the walks below
# (create, replay, 409 on a duplicate, update, delete with If-Match) do not fit them, and
# tests/webhooks/ calls each of them. Left out here, so their headers are not compared yet.
ADMIN_ONLY = "/v1/webhooks"


def operations(document: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, template, operation)
        for template, item in document["paths"].items()
        if not template.startswith(ADMIN_ONLY)
        for method, operation in item.items()
    ]


def declared(sample: Sample) -> dict[str, bool]:
    """The headers the document declares for the sample's operation and status: name (lower
    case) -> required."""
    operation = sample.document["paths"][sample.template][sample.method]
    response = operation["responses"].get(str(sample.response.status_code))
    assert response is not None, (
        f"{sample.method.upper()} {sample.template} answered {sample.response.status_code}, "
        f"which the contract does not declare: {sample.response.text[:300]}"
    )
    headers = {}
    for name, header in response.get("headers", {}).items():
        if "$ref" in header:
            header = sample.document["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]
        headers[name.lower()] = bool(header.get("required"))
    return headers


def mismatches(samples: list[Sample]) -> list[str]:
    found = []
    for sample in samples:
        headers = declared(sample)
        sent = {name for name in sample.response.headers if not not_compared(name)}
        where = f"{sample.method.upper()} {sample.template} {sample.response.status_code}"
        found += [f"{where}: sends {name}, not declared" for name in sorted(sent - set(headers))]
        found += [
            f"{where}: declares {name} required, not sent"
            for name, required in sorted(headers.items())
            if required and name not in sent
        ]
    return list(dict.fromkeys(found))


def first_example(operation: Mapping[str, Any]) -> Any:
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    return next(iter(examples.values()))["value"]


async def _test_session(request: Request) -> AsyncIterator[AsyncSession]:
    session: AsyncSession = request.app.state.test_session
    yield session
    await session.commit()


@pytest.fixture
def limited(settings: Settings, session: AsyncSession) -> FastAPI:
    """The app on the test's session, with rate limiting on (as by default) and a budget no
    walk spends, so every answer carries RateLimit and RateLimit-Policy, and with a read
    replica, so every write carries Consistency-Token."""
    app = create_app(
        settings.model_copy(
            update={
                "rate_limit_enabled": True,
                "rate_limit_per_address": "100000/hour",
                # A read replica, so that writes answer with their Consistency-Token: the
                # test's own database, which as a primary is never chosen for a read (no
                # lifespan probes it here, and a probe would find it `not_standby`).
                "replica_urls": [settings.database_url],
            }
        )
    )
    app.state.test_session = session
    app.dependency_overrides[get_session] = _test_session
    return app


async def walk_reads(walk: Walk) -> None:
    """Every GET: its answer, the conditional read (304), a page link, and refusals."""
    for method, template, operation in operations(walk.document):
        if method != "get":
            continue
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        required = {
            parameter["name"]: REQUIRED_QUERY[parameter["name"]]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query" and parameter.get("required")
        }
        query = required | ({"limit": 1} if "limit" in names else {})
        read = await walk.call(method, template, params=query)
        assert read.status_code == 200, (template, read.text)
        if "304" in operation["responses"]:
            again = await walk.call(
                method, template, params=query, headers={"If-None-Match": read.headers["etag"]}
            )
            assert again.status_code == 304, template
        if read.headers["content-type"] == "application/json" and read.json().get("next_cursor"):
            assert read.headers["link"].endswith('; rel="next"'), template
        if not template.startswith("/v1/"):
            continue
        unknown = await walk.call(method, template, params=query | {"nope": "1"})
        assert unknown.status_code == 400, template
        too_long = await walk.call(method, template, params=query | {"q": "x" * 9000})
        assert too_long.status_code == 414, template
        if "{" in template:
            missing = await walk.call(
                method, template, dict.fromkeys(PATH_VALUES, "no-such-thing"), params=query
            )
            assert missing.status_code == 404, template


async def walk_writes(walk: Walk, writer: Mapping[str, str], reader: Mapping[str, str]) -> None:
    """Every create with its example body: 201, the replay, and the refusals; then the update
    (with each example body) and delete of what it made, and their refusals."""
    for method, template, operation in operations(walk.document):
        if method != "post" or "{" in template:
            continue
        body = first_example(operation)
        retry = {**writer, "Idempotency-Key": f"headers-{template}"}
        created = await walk.call(method, template, json=body, headers=retry)
        assert created.status_code == 201, (template, created.text)
        replayed = await walk.call(method, template, json=body, headers=retry)
        assert replayed.headers["idempotent-replayed"] == "true", template
        refusals = {
            401: await walk.call(method, template, json=body),
            403: await walk.call(method, template, json=body, headers=reader),
            409: await walk.call(method, template, json=body, headers=writer),
            413: await walk.call(
                method,
                template,
                content=b"[" + b"0," * 600_000 + b"0]",
                headers={**writer, "Content-Type": "application/json"},
            ),
            415: await walk.call(
                method, template, content=b"x", headers={**writer, "Content-Type": "text/plain"}
            ),
            422: await walk.call(method, template, json={}, headers=writer),
        }
        for status, response in refusals.items():
            assert response.status_code == status, (template, status, response.text)
        await walk_update_and_delete(walk, template, created, writer)


async def walk_update_and_delete(
    walk: Walk, collection: str, created: Response, writer: Mapping[str, str]
) -> None:
    parameter = next(
        template[len(collection) + 2 : -1]
        for template in walk.document["paths"]
        if template.startswith(collection + "/{") and template.count("/") == 3
    )
    item = f"{collection}/{{{parameter}}}"
    own = {parameter: created.json()["id"]}
    body = first_example(walk.document["paths"][item]["patch"])
    etag = created.headers["etag"]
    refusals = {
        428: await walk.call("patch", item, own, json=body, headers=writer),
        412: await walk.call("patch", item, own, json=body, headers={**writer, "If-Match": STALE}),
        415: await walk.call(
            "patch",
            item,
            own,
            content=b"x",
            headers={**writer, "If-Match": etag, "Content-Type": "text/plain"},
        ),
        404: await walk.call(
            "patch",
            item,
            {parameter: "no-such-thing"},
            json=body,
            headers={**writer, "If-Match": etag},
        ),
    }
    for status, response in refusals.items():
        assert response.status_code == status, (item, status, response.text)
    # Every update example in turn, each with the ETag the one before gave.
    for example in walk.document["paths"][item]["patch"]["requestBody"]["content"][
        "application/json"
    ]["examples"].values():
        updated = await walk.call(
            "patch", item, own, json=example["value"], headers={**writer, "If-Match": etag}
        )
        assert updated.status_code == 200, (item, example, updated.text)
        etag = updated.headers["etag"]
    assert (await walk.call("delete", item, own, headers=writer)).status_code == 428
    deleted = await walk.call("delete", item, own, headers={**writer, "If-Match": etag})
    assert deleted.status_code == 204, (item, deleted.text)


async def discoveries(walk: Walk, writer: Mapping[str, str]) -> dict[str, str]:
    """An article of the walk's own, not the seed's (which only an admin may change), with a
    mention and pending candidates: the path values of the writes on those."""
    created = await walk.call(
        "post",
        "/v1/articles",
        json={"source": "kyodo", "language": "en", "body": DISCOVERIES},
        headers=writer,
    )
    assert created.status_code == 201, created.text
    return {"article": created.json()["id"], "mention": created.json()["mentions"][0]["id"]}


async def pending_candidate(walk: Walk, article: str) -> str:
    listed = await walk.call(
        "get", "/v1/candidates", params={"article": article, "status": "pending", "limit": 1}
    )
    return str(listed.json()["items"][0]["id"])


async def walk_other_writes(walk: Walk, writer: Mapping[str, str]) -> None:
    """Writes on what an article holds: the mention rescan, accepting and rejecting a
    candidate (each a pending one), resolving a mention (with its refusals)."""
    own = await discoveries(walk, writer)
    for method, template, operation in operations(walk.document):
        if method == "post" and "{" in template:
            values = dict(own)
            if "{candidate}" in template:
                values["candidate"] = await pending_candidate(walk, own["article"])
            values_body = {"json": first_example(operation)} if "requestBody" in operation else {}
            done = await walk.call(method, template, values, headers=writer, **values_body)
            assert done.status_code == 200, (template, done.text)
            stale = await walk.call(
                method, template, values, headers={**writer, "If-Match": STALE}, **values_body
            )
            assert stale.status_code == 412, template
        elif method == "patch" and "{mention}" in template:
            body = first_example(operation)
            # Detection (walked above) made the mentions again, with new ids.
            article = await walk.call(
                "get", "/v1/articles/{article}", own, params={"include": "mentions"}
            )
            own["mention"] = article.json()["mentions"][0]["id"]
            refusals = {
                428: await walk.call(method, template, own, json=body, headers=writer),
                412: await walk.call(
                    method, template, own, json=body, headers={**writer, "If-Match": STALE}
                ),
            }
            for status, response in refusals.items():
                assert response.status_code == status, (template, status, response.text)
            done = await walk.call(
                method,
                template,
                own,
                json=body,
                headers={**writer, "If-Match": article.headers["etag"]},
            )
            assert done.status_code == 200, (template, done.text)


async def walk_every_operation(walk: Walk, status: int, *, skip: frozenset[str]) -> None:
    """Every operation (but those in `skip`) with a forged key, its example body and `If-Match:
    *`, expecting `status` from all of them."""
    for method, template, operation in operations(walk.document):
        if template in skip:
            continue
        kwargs: dict[str, Any] = {
            "headers": {"Authorization": f"Bearer {FORGED_KEY}", "If-Match": "*"},
            "params": {
                parameter["name"]: REQUIRED_QUERY[parameter["name"]]
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query" and parameter.get("required")
            },
        }
        if "requestBody" in operation:
            kwargs["json"] = first_example(operation)
        response = await walk.call(method, template, **kwargs)
        assert response.status_code == status, (method, template, response.text)


def settings_with(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


async def test_every_header_sent_is_declared_and_every_declared_header_is_sent(
    limited: FastAPI,
    session: AsyncSession,
    settings: Settings,
    writer: dict[str, str],
    reader: dict[str, str],
) -> None:
    await load_seeds(session, default_seed_paths(), force=True)
    samples: list[Sample] = []
    async with client_for(limited) as client:
        walk = Walk(client, limited.openapi(), session)
        await walk_reads(walk)
        await walk_writes(walk, writer, reader)
        await walk_other_writes(walk, writer)
        samples += walk.samples
    # A spent budget: every operation but the exempt probes answers 429.
    spent = create_app(
        settings_with(settings, rate_limit_enabled=True, rate_limit_per_address="1/hour")
    )
    async with client_for(spent) as client:
        walk = Walk(client, spent.openapi())
        await walk.call("get", "/v1/sources")
        await walk_every_operation(walk, 429, skip=frozenset({"/healthz", "/readyz"}))
        samples += walk.samples[1:]
    # No database: every operation that needs one answers 503.
    down = create_app(
        settings_with(
            settings,
            database_url="postgresql://postgres@127.0.0.1:1/unreachable",
            rate_limit_enabled=True,
            rate_limit_per_address="100000/hour",
        )
    )
    async with client_for(down) as client:
        walk = Walk(client, down.openapi())
        await walk_every_operation(walk, 503, skip=frozenset({"/healthz"}))
        samples += walk.samples
    # Reads that need a key: every /v1 read without one answers 401.
    private = create_app(settings_with(settings, require_key_for_reads=True))
    async with client_for(private) as client:
        walk = Walk(client, private.openapi())
        for method, template, _ in operations(walk.document):
            if method == "get" and template.startswith("/v1/"):
                assert (await walk.call(method, template)).status_code == 401, template
        samples += walk.samples

    assert mismatches(samples) == []
    # Every operation was answered with success, and every conditional read with 304.
    document = limited.openapi()
    answered = {(s.method, s.template, s.response.status_code) for s in samples}
    for method, template, operation in operations(document):
        success = {int(status) for status in operation["responses"] if status.startswith("2")}
        assert any((method, template, status) in answered for status in success), template
        if "304" in operation["responses"]:
            assert (method, template, 304) in answered, template
    # Every header the documents declare was sent by some response.
    sent = {name.lower() for s in samples for name in s.response.headers}
    declared_anywhere = {name.lower() for s in samples for name in declared(s)}
    assert declared_anywhere - sent == set()
    assert {"etag", "link", "location", "idempotent-replayed", "retry-after"} <= sent
