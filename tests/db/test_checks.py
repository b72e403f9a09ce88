"""The pure checks in db/checks.py that the seed loader and the write API share."""

from datetime import date, timedelta

import pytest

from db.checks import (
    AmbiguousQuote,
    InvalidDuration,
    InvalidEDTF,
    QuoteNotFound,
    Span,
    SpanMismatch,
    SpanOutOfRange,
    article_content_hash,
    check_span,
    find_occurrences,
    locate_quote,
    parse_duration,
    parse_time,
)
from db.enums import TimePrecision

BODY = "Japan and Russia have a dispute. Japan calls them the Northern Territories."


def test_locate_quote_finds_a_unique_quote() -> None:
    span = locate_quote(BODY, "Northern Territories")

    assert span == Span(54, 74)
    assert BODY[span.start : span.end] == "Northern Territories"


def test_locate_quote_refuses_an_ambiguous_quote_and_lists_the_offsets() -> None:
    with pytest.raises(AmbiguousQuote) as raised:
        locate_quote(BODY, "Japan")

    assert raised.value.starts == [0, 33]
    assert "occurs 2 times (at offsets 0, 33)" in str(raised.value)


def test_locate_quote_picks_the_requested_occurrence() -> None:
    assert locate_quote(BODY, "Japan", occurrence=2) == Span(33, 38)


def test_locate_quote_reports_a_missing_quote_and_a_missing_occurrence() -> None:
    with pytest.raises(QuoteNotFound, match="'Southern Kurils' does not occur"):
        locate_quote(BODY, "Southern Kurils")
    with pytest.raises(QuoteNotFound, match="occurs 2 time\\(s\\); occurrence 3 does not exist"):
        locate_quote(BODY, "Japan", occurrence=3)


def test_find_occurrences_includes_overlapping_ones() -> None:
    assert find_occurrences("aaaa", "aa") == [0, 1, 2]
    assert find_occurrences("abc", "") == []


def test_check_span_accepts_the_exact_text() -> None:
    assert check_span(BODY, 10, 16, "Russia") == Span(10, 16)


def test_check_span_rejects_different_text() -> None:
    with pytest.raises(SpanMismatch, match="span \\[10, 16\\) covers 'Russia', not 'Russian'"):
        check_span(BODY, 10, 16, "Russian")


@pytest.mark.parametrize(("start", "end"), [(-1, 4), (5, 5), (70, 200), (9, 3)])
def test_check_span_rejects_offsets_outside_the_body(start: int, end: int) -> None:
    with pytest.raises(SpanOutOfRange, match=f"outside the body \\(length {len(BODY)}\\)"):
        check_span(BODY, start, end)


@pytest.mark.parametrize(
    ("edtf", "earliest", "latest", "precision"),
    [
        ("2021-10-07", date(2021, 10, 7), date(2021, 10, 7), TimePrecision.DAY),
        ("1945", date(1945, 1, 1), date(1945, 12, 31), TimePrecision.YEAR),
        ("197X/198X", date(1970, 1, 1), date(1989, 12, 31), TimePrecision.DECADE),
        ("2021-10-04/..", date(2021, 10, 4), None, TimePrecision.DAY),
    ],
)
def test_parse_time_gives_bounds_and_precision(
    edtf: str, earliest: date, latest: date | None, precision: TimePrecision
) -> None:
    span = parse_time(edtf)

    assert (span.edtf, span.earliest, span.latest, span.precision) == (
        edtf,
        earliest,
        latest,
        precision,
    )


def test_parse_time_rejects_bad_edtf() -> None:
    with pytest.raises(InvalidEDTF, match="not a valid EDTF date or interval: '2021-13-45'"):
        parse_time("2021-13-45")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT25M", timedelta(minutes=25)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P2DT3H", timedelta(days=2, hours=3)),
        ("P1W", timedelta(weeks=1)),
        ("PT0.5S", timedelta(milliseconds=500)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["25 minutes", "P1Y", "P1M", "PT", "P", "PT0M", "P1DT"])
def test_parse_duration_rejects_what_has_no_fixed_length(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


def test_content_hash_ignores_whitespace_layout_but_not_wording() -> None:
    wrapped = "Japan and Russia\nhave a dispute.  \n\nJapan calls them the Northern Territories.\n"

    assert article_content_hash(BODY) == article_content_hash(wrapped)
    assert article_content_hash(BODY) != article_content_hash(BODY.replace("Japan", "Tokyo"))
    assert len(article_content_hash(BODY)) == 64
