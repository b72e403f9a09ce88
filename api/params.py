"""Query parameters shared by every list endpoint."""

from typing import Annotated

from fastapi import Query

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
Cursor = Annotated[
    str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")
]
