"""What the features share: problem details and their codes, request dependencies (the
session, API keys), lookups by id or slug, pagination and query parameters, ETags and
If-Match, idempotent creates, rows without ORM objects, evidence and point of view, and the
write helpers that put the seed loader's checks behind the API.

May import `api.settings`, `db`, `seeds` and libraries; never a feature, never `api.transport`."""
