"""Optimistic concurrency: a resource's ETag carries its version, and PATCH and DELETE must
send it back in If-Match; `claim` is the one step every PATCH and DELETE takes before it
changes a row (If-Match, the admin scope where it is needed, the row locked at that version).

The ETag of a single resource is `"v<version>-<digest of the body>"`: strong (it changes
with every representation, e.g. with `pov`) while the version part lets If-Match accept the
ETag of any representation of the current version.
"""

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.shared.auth import has_scope
from api.shared.errors import NotFound, ProblemError
from api.shared.problems import ProblemCode
from db.enums import ApiKeyScope
from db.models import ApiKey

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


async def claim(
    request: Request,
    session: AsyncSession,
    api_key: ApiKey,
    row: Any,
    *,
    resource: str,
    cascade: bool = False,
) -> None:
    """Before a PATCH or DELETE changes `row` (a versioned, slugged model):

    1. If-Match is required (428) and must name the current version or be `*` (412);
    2. a write key may not do what only an admin may (403 `insufficient_scope`): `If-Match: *`
       (a change to whatever version is current), `cascade=true` (deleting what refers to the
       row as well), or changing a row the seed files own (the curated story, with its
       evidence: the next `newsgraph seed` would write it back);
    3. the row is locked at that version for the rest of the transaction. A concurrent writer
       that committed since it was read makes this 412 (404 when it deleted the row), so a
       DELETE carrying an old ETag never deletes a newer version.
    """
    require_if_match(request, resource=resource, version=row.version)
    any_version = request.headers.get("if-match", "").strip() == "*"
    admin_only = []
    if any_version:
        admin_only.append("`If-Match: *`")
    if cascade:
        admin_only.append("`cascade=true`")
    if await seed_owned(session, row):
        article = "an" if resource[0] in "aeiou" else "a"
        admin_only.append(f"changing {article} {resource} the seed files own")
    if admin_only and not has_scope(api_key, ApiKeyScope.ADMIN):
        raise ProblemError(
            ProblemCode.INSUFFICIENT_SCOPE,
            f"This API key lacks the `admin` scope, which {' and '.join(admin_only)} needs.",
        )
    model = type(row)
    current = await session.scalar(
        select(model.version).where(model.id == row.id).with_for_update()
    )
    if current is None:
        raise NotFound(resource, row.slug)
    if not any_version and current != row.version:
        raise ProblemError(
            ProblemCode.PRECONDITION_FAILED,
            f"The {resource} was changed by a concurrent request (it is now at version "
            f"{current}); read it again and reapply your change.",
        )


_SEED_OWNED = text("SELECT EXISTS (SELECT 1 FROM seed_file WHERE owned -> :table ? :id)")


async def seed_owned(session: AsyncSession, row: Any) -> bool:
    """Whether a seed file owns `row` (db/models/seed.py: `owned` maps tables to ids)."""
    owned = await session.scalar(_SEED_OWNED, {"table": row.__tablename__, "id": str(row.id)})
    return bool(owned)


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


async def _declare_optional_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag of the resource as you read it: when sent, the request is "
            "refused (412) if the resource has changed since.",
        ),
    ] = None,
) -> None:
    """Declares an If-Match the operation checks only when it is sent."""


OPTIONAL_IF_MATCH = Depends(_declare_optional_if_match)


def document_if_match(document: dict[str, Any]) -> dict[str, Any]:
    """Mark If-Match required in the OpenAPI document where it is (the operations that answer
    428: every PATCH and DELETE, through `claim`), and say there what needs the `admin` scope.
    The app declares it optional so that a request without it still reaches
    require_if_match and gets 428 Precondition Required (RFC 6585) rather than a generic 400;
    clients, and SDKs generated for them, must send it."""
    for path in document.get("paths", {}).values():
        for method, operation in path.items():
            if "428" not in operation.get("responses", {}):
                continue
            names = set()
            for parameter in operation.get("parameters", []):
                names.add(parameter.get("name"))
                if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
                    parameter["required"] = True
            admin_only = ["`If-Match: *`"]
            if "cascade" in names:
                admin_only.append("`cascade=true`")
            verb = "deleting" if method == "delete" else "changing"
            admin_only.append(f"{verb} a resource the seed files own")
            operation["description"] = (
                f"{operation.get('description', '').rstrip()}\n\n"
                f"{', '.join(admin_only[:-1])} and {admin_only[-1]} need the `admin` scope "
                "(403 `insufficient_scope` with a `write` key)."
            ).lstrip()
    return document
