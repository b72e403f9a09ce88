from datetime import date

import pytest

from db.enums import TimePrecision
from db.timespan import InvalidEDTF, TimeSpan, parse


@pytest.mark.parametrize(
    ("edtf", "earliest", "latest", "precision"),
    [
        ("2021-10-07", date(2021, 10, 7), date(2021, 10, 7), TimePrecision.DAY),
        ("2021-10", date(2021, 10, 1), date(2021, 10, 31), TimePrecision.MONTH),
        ("1945", date(1945, 1, 1), date(1945, 12, 31), TimePrecision.YEAR),
        ("197X/198X", date(1970, 1, 1), date(1989, 12, 31), TimePrecision.DECADE),
        ("19XX", date(1900, 1, 1), date(1999, 12, 31), TimePrecision.CENTURY),
        ("2021-10-04/..", date(2021, 10, 4), None, TimePrecision.DAY),
        ("../1956", None, date(1956, 12, 31), TimePrecision.YEAR),
        ("1945~", date(1944, 1, 1), date(1946, 12, 31), TimePrecision.YEAR),
        ("2021-21", date(2021, 3, 1), date(2021, 5, 31), TimePrecision.SEASON),
    ],
)
def test_edtf_values_get_bounds_and_precision(
    edtf: str, earliest: date | None, latest: date | None, precision: TimePrecision
) -> None:
    assert parse(edtf) == TimeSpan(edtf, earliest, latest, precision)


@pytest.mark.parametrize("edtf", ["", "Thursday", "2021-13-01", "1956/1945", "2021-02-30"])
def test_invalid_edtf_is_rejected(edtf: str) -> None:
    with pytest.raises(InvalidEDTF):
        parse(edtf)
