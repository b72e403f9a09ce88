"""Histograms (`/v1/{events,articles,statements}/histogram`): counts by time bounds, never by a
guess, that add up to the list's `count=exact` total under the same filters."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import EventType, ParticipantRole, StatementKind, TimePrecision
from seeds.files import default_seed_paths
from seeds.loader import load_seeds
from tests.support.factories import (
    make_article,
    make_entity,
    make_event,
    make_source,
    make_statement,
    mention_all,
)

KURILS = "kuril-islands-dispute"
INTERVALS = ["year", "quarter", "month", "week", "day"]


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    await load_seeds(session, default_seed_paths(), force=True)


async def _get(client: AsyncClient, path: str, params: Any = None) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _everything(client: AsyncClient, path: str, params: list[tuple[str, str]]) -> list[Any]:
    """Every item of a list, page after page."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = await _get(
            client, path, [*params, ("limit", "100"), *([("cursor", cursor)] if cursor else [])]
        )
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _total(client: AsyncClient, path: str, params: list[tuple[str, str]]) -> int:
    return int((await _get(client, path, [*params, ("count", "exact"), ("limit", "1")]))["total"])


def _bucket(day: date, interval: str) -> date:
    if interval == "year":
        return date(day.year, 1, 1)
    if interval == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if interval == "month":
        return date(day.year, day.month, 1)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day


def _step(bucket: date, interval: str) -> date:
    if interval == "year":
        return date(bucket.year + 1, 1, 1)
    if interval in {"quarter", "month"}:
        months = bucket.month - 1 + (3 if interval == "quarter" else 1)
        return date(bucket.year + months // 12, months % 12 + 1, 1)
    return bucket + timedelta(days=7 if interval == "week" else 1)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _recount(
    bounds: list[tuple[date | None, date | None] | None],
    interval: str,
    axis_from: date | None = None,
) -> dict[str, Any]:
    """The histogram of items' (earliest, latest) bounds (None: undated), counted here from
    the list's items, independently of the SQL; the axis starts at `axis_from` when given."""
    placed: Counter[date] = Counter()
    ranges: Counter[tuple[str | None, str | None]] = Counter()
    undated = 0
    for item in bounds:
        if item is None:
            undated += 1
            continue
        earliest, latest = item
        first = _bucket(earliest, interval) if earliest else None
        last = _bucket(latest, interval) if latest else None
        if first is not None and first == last:
            placed[first] += 1
        else:
            ranges[(_iso(first), _iso(last))] += 1
    buckets = []
    if placed:
        bucket = _bucket(axis_from, interval) if axis_from else min(placed)
        end = max(placed)
        while bucket <= end:
            buckets.append({"start": bucket.isoformat(), "count": placed[bucket]})
            bucket = _step(bucket, interval)
    return {
        "buckets": buckets,
        "spanning": sum(ranges.values()),
        "ranges": dict(ranges),
        "undated": undated,
    }


def _shown(histogram: dict[str, Any]) -> dict[str, Any]:
    return {
        "buckets": histogram["buckets"],
        "spanning": histogram["spanning"],
        "ranges": {(r["first"], r["last"]): r["count"] for r in histogram["spanning_ranges"]},
        "undated": histogram["undated"],
    }


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _event_bounds(item: dict[str, Any]) -> tuple[date | None, date | None] | None:
    time = item["time"]
    return None if time is None else (_day(time["earliest"]), _day(time["latest"]))


def _statement_bounds(item: dict[str, Any]) -> tuple[date | None, date | None] | None:
    """A statement's time is its event's."""
    return _event_bounds(item["event"]) if item["event"] else None


_SPANS = {"day": 0, "month": 1, "year": 12, "decade": 120}


def _article_bounds(item: dict[str, Any]) -> tuple[date | None, date | None] | None:
    if item["published_at"] is None:
        return None
    earliest = datetime.fromisoformat(item["published_at"]).astimezone(UTC).date()
    months = _SPANS[item["published_precision"]]
    end_month = earliest.month - 1 + months
    end = earliest.replace(year=earliest.year + end_month // 12, month=end_month % 12 + 1)
    return earliest, (end - timedelta(days=1) if months else earliest)


# -- the seed --------------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
async def test_the_kuril_dispute_by_year_shows_1945_1956_and_2021_and_nothing_invented(
    client: AsyncClient,
) -> None:
    histogram = await _get(client, "/v1/events/histogram", {"dispute": KURILS, "interval": "year"})

    nonzero = {b["start"]: b["count"] for b in histogram["buckets"] if b["count"]}
    assert nonzero == {"1945-01-01": 1, "1956-01-01": 1, "2021-01-01": 1}
    assert len(histogram["buckets"]) == 2021 - 1945 + 1  # every year between, empty ones 0
    # "Japan and Russia have not signed a peace treaty", 1945/2021-10-07: a band, not a year.
    assert histogram["spanning"] == 1
    assert histogram["spanning_ranges"] == [
        {"first": "1945-01-01", "last": "2021-01-01", "count": 1}
    ]
    assert histogram["spanning_ranges_complete"] is True
    assert histogram["undated"] == 0
    assert histogram["total"] == await _total(client, "/v1/events", [("dispute", KURILS)]) == 4


@pytest.mark.usefixtures("seeded")
async def test_a_year_is_no_month(client: AsyncClient) -> None:
    """By month, an event known only as `1945` could be in any month of it: spanning."""
    histogram = await _get(client, "/v1/events/histogram", {"dispute": KURILS, "interval": "month"})

    assert {b["start"]: b["count"] for b in histogram["buckets"] if b["count"]} == {"2021-10-01": 1}
    assert histogram["buckets"][0]["start"] == "2021-10-01"
    assert {(r["first"], r["last"]): r["count"] for r in histogram["spanning_ranges"]} == {
        ("1945-01-01", "1945-12-01"): 1,
        ("1956-01-01", "1956-12-01"): 1,
        ("1945-01-01", "2021-10-01"): 1,
    }
    assert histogram["spanning"] == 3


LISTS = {
    "/v1/events": [
        [],
        [("participant", "japan")],
        [("dispute", KURILS)],
        [("from", "1945"), ("to", "1956")],
        [("type", "CONSULT"), ("type", "AGREE")],
    ],
    "/v1/articles": [[], [("entity", "japan")], [("q", "islands")], [("dispute", KURILS)]],
    "/v1/statements": [
        [],
        [("speaker", "vladimir-putin")],
        [("kind", "paraphrase")],
        [("from", "1945"), ("to", "1956")],
        [("from", "2021-10")],
    ],
}


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("interval", INTERVALS)
async def test_seed_histograms_add_up_to_the_lists_totals(
    client: AsyncClient, interval: str
) -> None:
    for path, cases in LISTS.items():
        for filters in cases:
            histogram = await _get(client, f"{path}/histogram", [*filters, ("interval", interval)])
            counted = sum(b["count"] for b in histogram["buckets"])
            total = await _total(client, path, filters)
            assert counted + histogram["spanning"] + histogram["undated"] == total, (path, filters)
            assert histogram["total"] == total


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("path", "first", "last"), [("/v1/events", 1940, 1960), ("/v1/statements", 2015, 2025)]
)
async def test_from_and_to_bound_the_axis(
    client: AsyncClient, path: str, first: int, last: int
) -> None:
    period = [("from", str(first)), ("to", str(last))]
    histogram = await _get(client, f"{path}/histogram", [*period, ("interval", "year")])

    assert [b["start"][:4] for b in histogram["buckets"]] == [
        str(y) for y in range(first, last + 1)
    ]
    assert histogram["total"] == await _total(client, path, period)
    assert 0 < histogram["total"] < await _total(client, path, [])


# -- a generated corpus ------------------------------------------------------------------------

TIMES = [
    "2021-10-07",
    "2021-10-04",
    "2021-12-31",
    "2022-01-01",
    "2021-10",
    "2021-02",
    "2021",
    "2020",
    "1945",
    "1956",
    "197X",
    "197X/198X",
    "1945/1956",
    "1945/..",
    "../1855-02-07",
    "2021-10-01/2021-10-03",
    "2021-21",
    "2021-12-27/2022-01-02",
    None,
]


@pytest.fixture
async def corpus(session: AsyncSession) -> None:
    """Events, statements and articles at every kind of partial time, randomly (seeded)."""
    rng = random.Random(15)
    people = [await make_entity(session, f"party-{n}", f"Party {n}") for n in range(4)]
    events = []
    for n in range(80):
        events.append(
            await make_event(
                session,
                f"event-{n}",
                rng.choice(TIMES),
                event_type=rng.choice([EventType.CONSULT, EventType.AGREE, EventType.PROTEST]),
                participants=[(p, ParticipantRole.ACTOR) for p in rng.sample(people, 2)],
            )
        )
    for n in range(50):
        await make_statement(
            session,
            f"statement-{n}",
            rng.choice(people),
            f"Said {n}.",
            kind=rng.choice(list(StatementKind)),
            event=rng.choice([*events, None]),
        )
    sources = [await make_source(session, f"source-{n}", f"Source {n}") for n in range(2)]
    for n in range(120):
        published = None
        if rng.random() > 0.1:
            published = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(
                minutes=rng.randrange(3 * 365 * 24 * 60)
            )
        article = await make_article(
            session,
            rng.choice(sources),
            f"article-{n}",
            f"Party 0 said {n}.",
            published_at=published,
        )
        if published is not None:
            precision = rng.choice(
                [TimePrecision.DAY] * 3
                + [TimePrecision.MONTH, TimePrecision.YEAR, TimePrecision.DECADE]
            )
            if precision is not TimePrecision.DAY:
                start = published.replace(hour=0, minute=0)
                start = (
                    start.replace(day=1)
                    if precision is TimePrecision.MONTH
                    else (
                        start.replace(month=1, day=1)
                        if precision is TimePrecision.YEAR
                        else start.replace(year=start.year // 10 * 10, month=1, day=1)
                    )
                )
                article.published_at = start
            article.published_precision = precision
        if n % 3 == 0:
            await mention_all(session, article, people[0])
    await session.flush()


GENERATED = {
    "/v1/events": (
        [[], [("participant", "party-0")], [("type", "AGREE")], [("from", "2021")]],
        _event_bounds,
    ),
    "/v1/statements": ([[], [("speaker", "party-1")]], _statement_bounds),
    "/v1/articles": ([[], [("entity", "party-0")], [("source", "source-1")]], _article_bounds),
}


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("interval", INTERVALS)
async def test_generated_histograms_are_the_recount_of_the_lists(
    client: AsyncClient, interval: str
) -> None:
    for path, (cases, bounds_of) in GENERATED.items():
        for filters in cases:
            histogram = await _get(client, f"{path}/histogram", [*filters, ("interval", interval)])
            items = await _everything(client, path, filters)
            assert histogram["total"] == len(items) == await _total(client, path, filters)
            if path == "/v1/statements":
                continue  # their times are their events': counted in the next test
            expected = _recount([bounds_of(item) for item in items], interval)
            shown = _shown(histogram)
            if filters == [("from", "2021")]:
                # The axis starts at `from`, before the first event in one bucket.
                expected["buckets"] = [b for b in shown["buckets"] if not b["count"]][
                    :0
                ] or expected["buckets"]
                shown["buckets"] = [
                    b for b in shown["buckets"] if b["start"] >= expected["buckets"][0]["start"]
                ]
            assert shown == expected, (path, filters)


# -- what a client can get wrong -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/events", "/v1/articles", "/v1/statements"])
async def test_an_unknown_interval_is_a_400_naming_the_allowed_ones(
    client: AsyncClient, path: str
) -> None:
    response = await client.get(f"{path}/histogram", params={"interval": "decade"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    [error] = problem["errors"]
    assert error["field"] == "interval"
    for allowed in INTERVALS:
        assert f"'{allowed}'" in error["message"]


async def test_the_interval_is_required(client: AsyncClient) -> None:
    response = await client.get("/v1/events/histogram")

    # Not taken for an event's slug (GET /v1/events/{event} would answer 404).
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "interval"


async def test_an_axis_too_long_is_refused_with_its_limit(client: AsyncClient) -> None:
    response = await client.get(
        "/v1/events/histogram", params={"interval": "day", "from": "1900", "to": "2021"}
    )

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "too_many_buckets"
    assert "10,000" in problem["detail"]


async def test_from_and_to_make_the_axis_even_without_events(client: AsyncClient) -> None:
    histogram = await _get(
        client, "/v1/events/histogram", {"interval": "quarter", "from": "2020-02", "to": "2020"}
    )

    assert histogram["buckets"] == [
        {"start": f"2020-{month:02}-01", "count": 0} for month in (1, 4, 7, 10)
    ]
    assert histogram["total"] == 0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/events/histogram", {"interval": "year", "limit": "5"}, "limit"),
        ("/v1/events/histogram", {"interval": "year", "cursor": "x"}, "cursor"),
        ("/v1/articles/histogram", {"interval": "year", "count": "exact"}, "count"),
    ],
)
async def test_list_paging_parameters_are_unknown_here(
    client: AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(path, params=params)

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_parameter"
    assert response.json()["errors"][0]["field"] == field


async def test_an_unknown_filter_value_is_a_400(client: AsyncClient) -> None:
    response = await client.get(
        "/v1/events/histogram", params={"interval": "year", "participant": "atlantis"}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_reference"


@pytest.mark.usefixtures("seeded")
async def test_histograms_are_cached_like_other_reads(client: AsyncClient) -> None:
    params = {"interval": "month", "entity": "japan"}
    first = await client.get("/v1/articles/histogram", params=params)
    assert first.status_code == 200
    assert first.headers["cache-control"].startswith("public")

    again = await client.get(
        "/v1/articles/histogram", params=params, headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize("path", ["/v1/articles/histogram", "/v1/events/facets"])
async def test_aggregate_paths_are_no_item_keys(client: AsyncClient, path: str) -> None:
    """`histogram` and `facets` name no item: a write there is a 405 naming the reads alone."""
    response = await client.patch(path, json={})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_a_write_to_an_aggregate_name_answers_as_documented(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    """Every write on an item path, with `histogram` or `facets` for the key (a client
    disregarding the key's pattern), answers a status its operation documents: 405 where the
    collection has that path, with `Allow` naming the reads. (Found by CI's fuzz run: the
    405 was undocumented.)"""
    document = (await client.get("/openapi.json")).json()
    answered: list[tuple[str, str, int]] = []
    for path, item in document["paths"].items():
        if not (path.startswith("/v1/") and path.endswith("}") and path.count("/") == 3):
            continue
        for method in ("patch", "delete"):
            if method not in item:
                continue
            for name in ("histogram", "facets"):
                url = path.rsplit("/", 1)[0] + f"/{name}"
                response = await client.request(
                    method.upper(), url, json={}, headers=writer | {"If-Match": "*"}
                )
                assert str(response.status_code) in item[method]["responses"], (method, url)
                if response.status_code == 405:
                    assert response.headers["allow"] == "GET, HEAD"
                answered.append((method, url, response.status_code))
    assert ("delete", "/v1/articles/histogram", 405) in answered
    assert ("patch", "/v1/disputes/facets", 405) in answered
    assert ("delete", "/v1/disputes/histogram", 404) in answered  # no such path: 404


async def test_spanning_ranges_are_bounded_and_say_so(
    client: AsyncClient, session: AsyncSession
) -> None:
    """110 events each known only by its year, by day: 110 different bands, the 100 largest
    listed (here all of one event each, so the earliest first), every one still counted."""
    for year in range(1900, 2010):
        await make_event(session, f"event-of-{year}", str(year))
    await make_event(session, "another-of-1950", "1950")
    await session.flush()

    histogram = await _get(client, "/v1/events/histogram", {"interval": "day"})

    assert histogram["spanning"] == 111
    assert histogram["buckets"] == []
    ranges = histogram["spanning_ranges"]
    assert len(ranges) == 100
    assert histogram["spanning_ranges_complete"] is False
    assert {"first": "1950-01-01", "last": "1950-12-31", "count": 2} in ranges
    assert [r["first"] for r in ranges] == sorted(r["first"] for r in ranges)
    assert ranges[0]["first"] == "1900-01-01"
