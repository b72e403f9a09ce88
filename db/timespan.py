"""EDTF time values -> (earliest, latest, precision), the form range queries work on."""

import time
from dataclasses import dataclass
from datetime import date

from db.enums import TimePrecision

# Order matters: an interval's precision is that of its least precise endpoint.
_COARSENESS = list(TimePrecision)


class InvalidEDTF(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TimeSpan:
    edtf: str
    earliest: date | None
    latest: date | None
    precision: TimePrecision | None


def _to_date(value: time.struct_time | float) -> date | None:
    # edtf returns +/-inf for open ("..") and unknown ("") interval ends.
    if isinstance(value, float):
        return None
    return date(value.tm_year, value.tm_mon, value.tm_mday)


def _precision_of_span(earliest: date, latest: date) -> TimePrecision:
    days = (latest - earliest).days + 1
    if days == 1:
        return TimePrecision.DAY
    if earliest.year == latest.year:
        if earliest.month == latest.month and earliest.day == 1:
            return TimePrecision.MONTH
        if days <= 92 and earliest.day == 1:
            return TimePrecision.SEASON
        if (earliest.month, earliest.day, latest.month, latest.day) == (1, 1, 12, 31):
            return TimePrecision.YEAR
    if (earliest.month, earliest.day, latest.month, latest.day) == (1, 1, 12, 31):
        years = latest.year - earliest.year + 1
        if years == 10 and earliest.year % 10 == 0:
            return TimePrecision.DECADE
        if years == 100 and earliest.year % 100 == 0:
            return TimePrecision.CENTURY
    return TimePrecision.RANGE


def _precision(value: object) -> TimePrecision | None:
    lower = getattr(value, "lower", None)
    upper = getattr(value, "upper", None)
    if lower is not None and upper is not None and hasattr(value, "lower_strict"):
        # Open or unknown ends ("..", "") say nothing about precision.
        known = [p for p in (lower, upper) if type(p).__name__ != "UnspecifiedIntervalSection"]
        parts = [p for p in map(_precision, known) if p is not None]
        if not parts:
            return None
        return max(parts, key=_COARSENESS.index)
    try:
        earliest = _to_date(value.lower_strict())  # type: ignore[attr-defined]
        latest = _to_date(value.upper_strict())  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        return None
    if earliest is None or latest is None:
        return None
    return _precision_of_span(earliest, latest)


def parse(text: str) -> TimeSpan:
    """Parse an EDTF string; approximate values ("1945~") widen the bounds accordingly."""
    # Imported by the first parse, not with the module: the parser and pyparsing are 7 MB of a
    # serving worker's RSS, and reads never parse EDTF (bench/README.md).
    import edtf
    from edtf.parser.edtf_exceptions import EDTFParseException

    try:
        value = edtf.parse_edtf(text)
    except (EDTFParseException, ValueError, TypeError) as error:
        raise InvalidEDTF(f"not a valid EDTF date or interval: {text!r}") from error
    try:
        earliest = _to_date(value.lower_fuzzy())
        latest = _to_date(value.upper_fuzzy())
    except (ValueError, TypeError) as error:
        raise InvalidEDTF(f"EDTF value has no computable bounds: {text!r}") from error
    # "2021-10-04/" (unknown end) would otherwise get a made-up bound ten years out.
    if text.endswith(("/", "/..")):
        latest = None
    if text.startswith(("/", "../")):
        earliest = None
    if earliest is not None and latest is not None and earliest > latest:
        raise InvalidEDTF(f"EDTF interval ends before it starts: {text!r}")
    return TimeSpan(edtf=text, earliest=earliest, latest=latest, precision=_precision(value))
