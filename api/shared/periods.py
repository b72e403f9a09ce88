"""`from` and `to`: a period by year, month or day, as the events and statements lists (and
their histograms and facets) take it."""

import calendar
from datetime import date
from typing import Annotated

from fastapi import Query

from api.shared.errors import FieldError, ProblemError
from api.shared.problems import ProblemCode

# A year, a month or a day: a researcher asks for "events in 1956" as often as for a date.
PERIOD_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def _bad_query_value(parameter: str, message: str) -> ProblemError:
    return ProblemError(
        ProblemCode.VALIDATION_ERROR,
        f"Invalid request: {parameter}.",
        status=400,
        errors=[FieldError(location="query", field=parameter, message=message, type="value_error")],
    )


def _period_bound(value: str, parameter: str, *, last: bool) -> date:
    """The first day of the year, month or day `value` names, or its `last` day."""
    year, *rest = (int(part) for part in value.split("-"))
    try:
        if not rest:
            return date(year, 12, 31) if last else date(year, 1, 1)
        month = rest[0]
        first = date(year, month, 1)
        if len(rest) == 1:
            return first.replace(day=calendar.monthrange(year, month)[1]) if last else first
        return date(year, month, rest[1])
    except ValueError as error:
        raise _bad_query_value(parameter, f"not a calendar date: {value}") from error


def period_days(time_from: str | None, time_to: str | None) -> tuple[date | None, date | None]:
    """The first day of `from` and the last of `to` (400 for a day that does not exist, or
    `from` after `to`)."""
    earliest = _period_bound(time_from, "from", last=False) if time_from else None
    latest = _period_bound(time_to, "to", last=True) if time_to else None
    if earliest is not None and latest is not None and earliest > latest:
        raise _bad_query_value("from", "must not be after `to`")
    return earliest, latest


def _period_query(alias: str, items: str, edge: str, examples: list[str]) -> object:
    return Query(
        alias=alias,
        pattern=PERIOD_PATTERN,
        description=f"`YYYY`, `YYYY-MM` or `YYYY-MM-DD`: {items} may have happened on or "
        f"{edge} day.",
        examples=examples,
    )


# The events' own, and the statements' (placed at their events' time).
EventsFrom = Annotated[
    str | None, _period_query("from", "events that", "after its first", ["1945", "2021-10-07"])
]
EventsTo = Annotated[
    str | None, _period_query("to", "events that", "before its last", ["1956", "2021-10"])
]
StatementsFrom = Annotated[
    str | None,
    _period_query("from", "statements whose event", "after its first", ["1945", "2021-10-07"]),
]
StatementsTo = Annotated[
    str | None,
    _period_query("to", "statements whose event", "before its last", ["1956", "2021-10"]),
]
