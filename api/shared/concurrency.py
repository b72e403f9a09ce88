"""Optimistic concurrency: a resource's ETag carries its version, and PATCH and DELETE must
send it back in If-Match.

The ETag of a single resource is `"v<version>-<digest of the body>"`: strong (it changes
with every representation, e.g. with `pov`) while the version part lets If-Match accept the
ETag of any representation of the current version.
"""

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from api.shared.errors import ProblemError
from api.shared.problems import ProblemCode

# Versions are bigints; a longer run of digits is no version (and int() of thousands of digits
# raises), so it does not match.
_VERSION = re.compile(r'"v(\d{1,19})-')


def require_if_match(request: Request, *, resource: str, version: int) -> None:
    header = request.headers.get("if-match")
    if header is None:
        raise ProblemError(
            ProblemCode.PRECONDITION_REQUIRED,
            f"Send If-Match with the ETag of the {resource} you read, so a concurrent change "
            "is not overwritten.",
        )
    if header.strip() == "*":
        return
    if version not in {int(v) for v in _VERSION.findall(header)}:
        raise ProblemError(
            ProblemCode.PRECONDITION_FAILED,
            f"The {resource} has changed since you read it (it is now at version {version}); "
            "read it again and reapply your change.",
        )


async def _declare_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag of the resource as you read it (or `*`). Required.",
        ),
    ] = None,
) -> None:
    """Declares the header in the OpenAPI document so generated SDKs expose it; the check
    itself is require_if_match, which needs the row's current version."""


IF_MATCH = Depends(_declare_if_match)


def document_if_match(document: dict[str, Any]) -> dict[str, Any]:
    """Mark If-Match required in the OpenAPI document. The app declares it optional so that a
    request without it still reaches require_if_match and gets 428 Precondition Required
    (RFC 6585) rather than a generic 400; clients, and SDKs generated for them, must send it."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
                    parameter["required"] = True
    return document
