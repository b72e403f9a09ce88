"""Read-your-writes with read replicas: the `Consistency-Token` header.

A write that commits, on a deployment with read replicas, answers with the primary's WAL
position after its commit (`16/B374D848`, PostgreSQL's pg_lsn spelling), to be treated as
opaque. A read that sends it back in the same header is served by a replica only once that
replica has replayed the WAL up to it, else by the primary (db/replicas.py): it never sees
data older than the write. A malformed token is a 400 `invalid_consistency_token`. Without
replicas no token is sent and the header is not read: the primary is always current.
"""

from fastapi import Request

# The module, not its names: api.shared.errors imports the routing that imports this module.
from api.shared import errors
from api.shared.problems import ProblemCode
from db.replicas import parse_lsn

HEADER = "Consistency-Token"
_HEADER_KEY = HEADER.lower().encode("latin-1")


def token_of(request: Request) -> int | None:
    """The request's consistency token as a WAL position, None when it sends none."""
    sent = [value for name, value in request.scope["headers"] if name == _HEADER_KEY]
    if not sent:
        return None
    position = parse_lsn(sent[0].decode("latin-1").strip()) if len(sent) == 1 else None
    if position is None:
        raise errors.ProblemError(
            ProblemCode.INVALID_CONSISTENCY_TOKEN,
            f"The `{HEADER}` header must be sent once, as a write's answer gave it "
            "(such as `16/B374D848`).",
        )
    return position
