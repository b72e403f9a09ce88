"""Histograms over partial times: how many items fall in each year, quarter, month, ISO week or
day, counted by their time bounds and never by a guess.

    an item whose earliest and latest bound truncate to one bucket    counts in that bucket
    one whose bounds truncate to different buckets, or open on a side  counts in `spanning`, and
      (`1945` at `month`, `197X/198X` at `year`, `1945/..`)              its bucket range in
                                                                         `spanning_ranges`
    one with no time                                                    counts in `undated`

so `sum(buckets) + spanning + undated` is the number of items the matching list holds under the
same filters (its `count=exact` total). Buckets run from the first to the last bucket holding an
item, or from `from`/`to` where given, with empty buckets present as zero (`generate_series`).

A resource gives `histogram_statement` the statement of its list's filtered items with three
columns (`dated`, `earliest`, `latest`: dates, NULL for an open side); one statement groups them
by bucket range and fills the axis.
"""

from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    TIMESTAMP,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import INTERVAL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnElement

from api.shared.errors import FieldError, ProblemError
from api.shared.problems import ProblemCode
from api.shared.rows import fetch_rows

# How many buckets one histogram may hold: days over 27 years, weeks over 190.
MAX_BUCKETS = 10_000
# How many distinct bucket ranges of spanning items a histogram lists (the largest first).
MAX_SPANNING_RANGES = 100


class Interval(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


# date_trunc's field and generate_series' step for each interval; date_trunc('week') starts an
# ISO week (Monday).
_STEPS = {
    Interval.YEAR: (1, "years"),
    Interval.QUARTER: (3, "months"),
    Interval.MONTH: (1, "months"),
    Interval.WEEK: (1, "weeks"),
    Interval.DAY: (1, "days"),
}


def _interval(interval: Interval, steps: int) -> ColumnElement[Any]:
    amount, unit = _STEPS[interval]
    return literal_column(f"interval '{amount * steps} {unit}'", INTERVAL)


INTERVAL_DESCRIPTION = (
    "Bucket size: `year`, `quarter`, `month`, `week` (ISO, starting on Monday) or `day`."
)


class HistogramBucket(BaseModel):
    start: date = Field(description="The first day of the bucket.", examples=["1956-01-01"])
    count: int = Field(description="Items whose every possible day falls in it.", examples=[1])


class SpanningRange(BaseModel):
    """Items whose time bounds lie in more than one bucket, grouped by the buckets they span: a
    chart draws them as a band over those buckets."""

    first: date | None = Field(
        description="The first bucket (its first day) the items may fall in; null when their "
        "time is open at the start.",
        examples=["1945-01-01"],
    )
    last: date | None = Field(
        description="The last bucket (its first day) they may fall in; null when open at the end.",
        examples=["1945-12-01"],
    )
    count: int = Field(examples=[1])


class Histogram(BaseModel):
    """Counts by time bucket, by time bounds: `sum(buckets.count) + spanning + undated` is the
    list's `total` under the same filters."""

    interval: Interval = Field(examples=["year"])
    buckets: list[HistogramBucket] = Field(
        description="From the first bucket holding an item to the last (or from `from` to "
        "`to`), every bucket present, empty ones with 0."
    )
    spanning: int = Field(
        description="Items whose bounds lie in more than one bucket (or are open on a side): "
        "counted here, never placed in a bucket.",
        examples=[2],
    )
    spanning_ranges: list[SpanningRange] = Field(
        description=f"The spanning items grouped by the buckets they span, the "
        f"{MAX_SPANNING_RANGES} largest groups, by their first bucket."
    )
    spanning_ranges_complete: bool = Field(
        description="False when more ranges exist than `spanning_ranges` lists (their items are "
        "still counted in `spanning`)."
    )
    undated: int = Field(description="Items with no time at all.", examples=[0])
    total: int = Field(
        description="Every item counted: the buckets, `spanning` and `undated`.", examples=[5]
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "interval": "year",
                    "buckets": [
                        {"start": "1945-01-01", "count": 1},
                        {"start": "1946-01-01", "count": 0},
                    ],
                    "spanning": 1,
                    "spanning_ranges": [{"first": "1970-01-01", "last": "1989-01-01", "count": 1}],
                    "spanning_ranges_complete": True,
                    "undated": 0,
                    "total": 2,
                }
            ]
        }
    }


def _truncated(interval: Interval, day: Any) -> ColumnElement[Any]:
    # On a timestamp without time zone, so that the session's TimeZone plays no part.
    field: ColumnElement[Any] = literal_column(f"'{interval.value}'")
    return cast(func.date_trunc(field, cast(day, TIMESTAMP())), Date)


def histogram_statement(items: Select[*tuple[Any, ...]], interval: Interval) -> Select[Any]:
    """One statement for the histogram of `items` (a select of `dated`, `earliest`, `latest`,
    and optionally `n`, how many items the row stands for, else one):
    rows of (`kind`, `first`, `last`, `count`), `kind` 'bucket' for each bucket of the axis
    (at most MAX_BUCKETS + 1 of them: one more says the axis is too long), 'spanning' for
    each group of items whose bounds lie in several buckets (`first` and `last` the buckets
    of their bounds, NULL where open) and 'undated' for the items with no time. Parameters:
    `axis_from` and `axis_to`, the first days of the axis' end buckets, or NULL."""
    found = items.subquery("items")
    step = _interval(interval, 1)
    first = _truncated(interval, found.c.earliest).label("first")
    last = _truncated(interval, found.c.latest).label("last")
    counted = func.sum(found.c.n) if "n" in found.c else func.count()
    grouped = (
        select(found.c.dated, first, last, counted.label("count"))
        .group_by(found.c.dated, first, last)
        .cte("grouped")
    )
    in_one = and_(grouped.c.dated, grouped.c.first == grouped.c.last)
    axis_from = bindparam("axis_from", type_=Date)
    axis_to = bindparam("axis_to", type_=Date)
    start = func.coalesce(axis_from, func.min(grouped.c.first))
    end = func.coalesce(axis_to, func.max(grouped.c.first))
    # The series stops one step past MAX_BUCKETS however far apart the ends are: the caller
    # refuses such an axis, and generate_series materializes what it yields.
    bounded_end = case(
        (end.is_(None), None),
        else_=func.least(end, cast(start + _interval(interval, MAX_BUCKETS), Date)),
    )
    axis = (
        # Over timestamps without time zone, like the truncation: no TimeZone, no DST.
        select(
            cast(
                func.generate_series(
                    cast(start, TIMESTAMP()), cast(bounded_end, TIMESTAMP()), step
                ),
                Date,
            ).label("start")
        )
        .where(in_one)
        .subquery("axis")
    )
    buckets = (
        select(
            literal("bucket").label("kind"),
            axis.c.start.label("first"),
            axis.c.start.label("last"),
            func.coalesce(func.sum(grouped.c.count), 0).cast(Integer).label("count"),
        )
        .select_from(axis.outerjoin(grouped, and_(in_one, grouped.c.first == axis.c.start)))
        .group_by(axis.c.start)
    )
    others = select(
        case((grouped.c.dated, literal("spanning")), else_=literal("undated")).label("kind"),
        grouped.c.first,
        grouped.c.last,
        cast(grouped.c.count, Integer).label("count"),
    ).where(not_(func.coalesce(in_one, False)))
    statement = union_all(buckets, others).subquery("histogram")
    return select(statement).order_by(statement.c.kind, statement.c.first)


def _too_many_buckets(interval: Interval) -> ProblemError:
    return ProblemError(
        ProblemCode.TOO_MANY_BUCKETS,
        f"The histogram would have more than {MAX_BUCKETS:,} `{interval.value}` buckets: choose "
        "a longer `interval`, or narrow the range with `from` and `to` or a filter.",
        errors=[
            FieldError(
                location="query",
                field="interval",
                message=f"more than {MAX_BUCKETS} buckets",
                type="too_many_buckets",
            )
        ],
    )


async def fetch_histogram(
    session: AsyncSession,
    statement: Select[Any],
    parameters: dict[str, Any],
    *,
    interval: Interval,
    axis_from: date | None,
    axis_to: date | None,
    built_once: bool = True,
) -> Histogram:
    """The histogram a `histogram_statement` answers under the list's `parameters`, its axis
    from `axis_from` to `axis_to` (any day of the first and last bucket) where given."""
    rows = await fetch_rows(
        session,
        statement,
        {
            **parameters,
            "axis_from": _bucket_of(axis_from, interval),
            "axis_to": _bucket_of(axis_to, interval),
        },
        built_once=built_once,
    )
    buckets = [
        HistogramBucket(start=row["first"], count=row["count"])
        for row in rows
        if row["kind"] == "bucket"
    ]
    if len(buckets) > MAX_BUCKETS:
        raise _too_many_buckets(interval)
    ranges: Counter[tuple[date | None, date | None]] = Counter()
    undated = 0
    for row in rows:
        if row["kind"] == "spanning":
            ranges[(row["first"], row["last"])] += row["count"]
        elif row["kind"] == "undated":
            undated += row["count"]
    largest = sorted(ranges.items(), key=lambda item: (-item[1], _order(item[0])))
    listed = sorted(largest[:MAX_SPANNING_RANGES], key=lambda item: _order(item[0]))
    spanning = sum(ranges.values())
    return Histogram(
        interval=interval,
        buckets=buckets,
        spanning=spanning,
        spanning_ranges=[
            SpanningRange(first=first, last=last, count=count) for (first, last), count in listed
        ],
        spanning_ranges_complete=len(ranges) <= MAX_SPANNING_RANGES,
        undated=undated,
        total=sum(bucket.count for bucket in buckets) + spanning + undated,
    )


def _order(bounds: tuple[date | None, date | None]) -> tuple[date, date]:
    first, last = bounds
    return (first or date.min, last or date.max)


def _bucket_of(day: date | None, interval: Interval) -> date | None:
    """The first day of the bucket holding `day`."""
    if day is None:
        return None
    if interval is Interval.YEAR:
        return day.replace(month=1, day=1)
    if interval is Interval.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if interval is Interval.MONTH:
        return day.replace(day=1)
    if interval is Interval.WEEK:
        return date.fromordinal(day.toordinal() - day.weekday())
    return day
