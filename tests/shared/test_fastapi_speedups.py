"""The memo of FastAPI's per-request parameter check (api/shared/fastapi_speedups.py) is in
place once an app is made, and answers what FastAPI's own function answers."""

from typing import Annotated, Any

import pytest
from fastapi import Query
from fastapi._compat import field_annotation_is_sequence as computed
from fastapi.dependencies import utils as dependency_utils

from api.main import create_app
from api.settings import Settings
from api.shared import fastapi_speedups
from db.enums import EntityKind


def _current() -> Any:
    """FastAPI's function as its dependency code calls it now (patched or not)."""
    return vars(dependency_utils)["field_annotation_is_sequence"]


@pytest.mark.parametrize(
    "annotation",
    [
        str,
        int,
        str | None,
        list[str],
        list[EntityKind] | None,
        tuple[int, ...],
        Annotated[list[str] | None, Query()],
        dict[str, Any],
        bytes,
    ],
)
def test_the_memo_answers_as_fastapi_does(annotation: Any) -> None:
    create_app(Settings.model_validate({"DATABASE_URL": "postgresql://nobody@localhost/x"}))

    assert fastapi_speedups.installed()
    memoized = _current()
    assert memoized(annotation) is computed(annotation)
    assert memoized(annotation) is computed(annotation)  # from the memo, the second time


def test_an_unhashable_annotation_is_answered_without_the_memo() -> None:
    fastapi_speedups.install()

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    assert _current()(Unhashable()) is False
