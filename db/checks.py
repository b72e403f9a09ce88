"""Pure checks shared by the seed loader and the write API: no I/O, no database.

SpanError (ValueError)
├── SpanOutOfRange    offsets outside the body, or start >= end
├── SpanMismatch      body[start:end] is not the cited text
├── QuoteNotFound     the text does not occur in the body
└── AmbiguousQuote    the text occurs more than once and no occurrence was chosen
InvalidDuration (ValueError)
InvalidEDTF (ValueError, from db.timespan)
"""

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from db.timespan import InvalidEDTF, TimeSpan
from db.timespan import parse as parse_edtf

__all__ = [
    "AmbiguousQuote",
    "InvalidDuration",
    "InvalidEDTF",
    "QuoteNotFound",
    "Span",
    "SpanError",
    "SpanMismatch",
    "SpanOutOfRange",
    "TimeSpan",
    "article_content_hash",
    "check_span",
    "find_occurrences",
    "format_duration",
    "locate_quote",
    "parse_duration",
    "parse_time",
]


class SpanError(ValueError):
    pass


class SpanOutOfRange(SpanError):
    pass


class SpanMismatch(SpanError):
    pass


class QuoteNotFound(SpanError):
    pass


class AmbiguousQuote(SpanError):
    def __init__(self, message: str, *, starts: list[int]) -> None:
        super().__init__(message)
        self.starts = starts


class InvalidDuration(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) in Python str indices (code points) of an article body."""

    start: int
    end: int


def _preview(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# An ambiguous quote's message lists this many of its offsets: a one-letter quote in a 500,000
# character body occurs hundreds of thousands of times, and listing them all made a 78 MB error.
LISTED_OCCURRENCES = 10


def find_occurrences(body: str, text: str, limit: int | None = None) -> list[int]:
    """Start offsets of every occurrence of `text` (the first `limit`, when given), overlapping
    ones included."""
    if not text:
        return []
    starts: list[int] = []
    position = body.find(text)
    while position != -1 and (limit is None or len(starts) < limit):
        starts.append(position)
        position = body.find(text, position + 1)
    return starts


def _count(starts: list[int], limit: int) -> str:
    """How many occurrences were found, when the search stopped at `limit`."""
    return f"at least {len(starts)}" if len(starts) >= limit else str(len(starts))


def check_span(body: str, start: int, end: int, text: str | None = None) -> Span:
    """The span must lie inside the body and, when `text` is given, cover exactly that text."""
    if not 0 <= start < end <= len(body):
        raise SpanOutOfRange(
            f"span [{start}, {end}) is outside the body (length {len(body)}) or empty"
        )
    if text is not None and body[start:end] != text:
        raise SpanMismatch(
            f"span [{start}, {end}) covers {_preview(body[start:end])}, not {_preview(text)}"
        )
    return Span(start, end)


def locate_quote(body: str, quote: str, *, occurrence: int | None = None) -> Span:
    """Find `quote` in the body; `occurrence` (1-based) picks one when it occurs more than once."""
    # Enough occurrences to pick the one asked for, or to list a few when none was.
    wanted = max(occurrence or 0, LISTED_OCCURRENCES + 1)
    starts = find_occurrences(body, quote, limit=wanted)
    if not starts:
        raise QuoteNotFound(f"{_preview(quote)} does not occur in the article body")
    if occurrence is not None:
        if not 1 <= occurrence <= len(starts):
            raise QuoteNotFound(
                f"{_preview(quote)} occurs {_count(starts, wanted)} time(s); "
                f"occurrence {occurrence} does not exist"
            )
        start = starts[occurrence - 1]
    elif len(starts) > 1:
        listed = starts[:LISTED_OCCURRENCES]
        more = ", …" if len(starts) > LISTED_OCCURRENCES else ""
        raise AmbiguousQuote(
            f"{_preview(quote)} occurs {_count(starts, wanted)} times (at offsets "
            f"{', '.join(map(str, listed))}{more}); add `occurrence:` or `start`/`end`",
            starts=listed,
        )
    else:
        start = starts[0]
    return Span(start, start + len(quote))


@functools.lru_cache(maxsize=4096)
def parse_time(text: str) -> TimeSpan:
    """EDTF text -> bounds and precision (raises InvalidEDTF).

    Cached: the edtf parser takes 10-20 ms a value, and the same few values recur.
    """
    return parse_edtf(text)


# ISO 8601 durations of fixed length only: years and months have no fixed number of days.
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?)"
)


def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration such as "PT25M" or "P2DT3H" -> timedelta (no years or months)."""
    match = _DURATION.fullmatch(text)
    if match is None or text in {"P", "PT"} or text.endswith("T"):
        raise InvalidDuration(
            f"not an ISO 8601 duration of weeks, days, hours, minutes or seconds: {text!r}"
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise InvalidDuration(f"duration must be positive: {text!r}")
    return duration


def format_duration(duration: timedelta) -> str:
    """timedelta -> ISO 8601 in days, hours, minutes and seconds ("PT25M", "P1DT2H"), which
    parse_duration reads back to the same value."""
    hours, rest = divmod(duration.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    days = f"{duration.days}D" if duration.days else ""
    clock = "".join(f"{amount}{unit}" for amount, unit in ((hours, "H"), (minutes, "M")) if amount)
    if duration.microseconds:
        clock += f"{seconds}.{duration.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    if not days and not clock:
        return "PT0S"
    return f"P{days}" + (f"T{clock}" if clock else "")


def article_content_hash(body: str) -> str:
    """sha256 of the body with Unicode (NFC) and whitespace normalized.

    The same story pasted twice, with different line wrapping or trailing blanks, gets the
    same hash; any change of wording gives a different one.
    """
    normalized = " ".join(unicodedata.normalize("NFC", body).split())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
