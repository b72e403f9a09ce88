"""A memo for a pure function FastAPI recomputes on every request.

FastAPI (0.165) works out, for every query, header and cookie parameter of every request,
whether the parameter's annotation is a sequence (`field_annotation_is_sequence`, up to twice
a parameter, recursing through unions). The answer depends on the annotation alone, a type
object that never changes, yet the recomputation was 6% of a by-id read's CPU and 16% of the
article list's (eleven query parameters). `install` memoizes it; an annotation that cannot be
hashed is answered as before. If FastAPI drops or renames the function, nothing is patched
(tests/shared/test_fastapi_speedups.py then fails, so the loss is noticed).
"""

import functools
from collections.abc import Callable
from typing import Any

from fastapi.dependencies import utils as dependency_utils

_NAME = "field_annotation_is_sequence"
_MARK = "_newsgraph_memoized"


def install() -> None:
    computed: Callable[[Any], bool] | None = getattr(dependency_utils, _NAME, None)
    if computed is None or getattr(computed, _MARK, False):
        return
    remembered = functools.lru_cache(maxsize=4096)(computed)

    def memoized(annotation: Any) -> bool:
        try:
            return remembered(annotation)
        except TypeError:  # unhashable
            return computed(annotation)

    setattr(memoized, _MARK, True)
    setattr(dependency_utils, _NAME, memoized)


def installed() -> bool:
    return bool(getattr(getattr(dependency_utils, _NAME, None), _MARK, False))
