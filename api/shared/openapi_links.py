"""OpenAPI links: how one operation's answer feeds the next. A created (or updated) resource's
`id` goes into the path of its read, update and delete operations, and its `ETag` into their
`If-Match`, so generated clients can follow them and a stateful fuzzer can chain
create → read → update → delete on the resource it just made."""

from collections.abc import Sequence
from typing import Any

RESPONSE_ID = "$response.body#/id"
RESPONSE_ETAG = "$response.header.ETag"


def links_to(
    parameter: str, *, reads: Sequence[str] = (), writes: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Links, named after their target operation, passing the resource's id as the path
    `parameter`; `writes` also get its ETag as If-Match."""
    links: dict[str, dict[str, Any]] = {}
    for operation in reads:
        links[operation] = {
            "operationId": operation,
            "parameters": {f"path.{parameter}": RESPONSE_ID},
        }
    for operation in writes:
        links[operation] = {
            "operationId": operation,
            "parameters": {f"path.{parameter}": RESPONSE_ID, "header.If-Match": RESPONSE_ETAG},
        }
    return links


def create_with(operation: str, field: str, *, value: str = "slug") -> dict[str, dict[str, Any]]:
    """A link to `operation`, a create whose body names the resource just made in `field`
    (a runtime expression inside the body: evaluated by Schemathesis, a hint to readers)."""
    return {
        operation: {
            "operationId": operation,
            "requestBody": {field: f"$response.body#/{value}"},
        }
    }


def created_links(
    parameter: str,
    *,
    reads: Sequence[str],
    writes: Sequence[str],
    creates: dict[str, dict[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry adding links to a create operation's 201; `creates` (from
    create_with) adds creates of resources that refer to the new one."""
    links = links_to(parameter, reads=reads, writes=writes) | (creates or {})
    return {201: {"description": "Created", "links": links}}


def updated_links(
    parameter: str, *, reads: Sequence[str], writes: Sequence[str]
) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry adding links to an update operation's 200."""
    return {
        200: {
            "description": "Successful Response",
            "links": links_to(parameter, reads=reads, writes=writes),
        }
    }
