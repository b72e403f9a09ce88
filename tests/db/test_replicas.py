"""The pieces of db/replicas.py that need no server: WAL positions as the consistency token
spells them, how a replica is named where operators see it, and how the setting is read."""

import pytest
from pydantic import ValidationError

from api.settings import Settings
from db.replicas import format_lsn, parse_lsn, replica_name


@pytest.mark.parametrize(
    ("text", "position"),
    [("0/0", 0), ("0/3020B18", 0x3020B18), ("16/B374D848", (0x16 << 32) | 0xB374D848)],
)
def test_wal_positions_read_and_write_as_postgresql_spells_them(text: str, position: int) -> None:
    assert parse_lsn(text) == position
    assert format_lsn(position) == text
    assert parse_lsn(text.lower()) == position


@pytest.mark.parametrize(
    "text", ["", "0", "0/", "/1", "1/2/3", "G/1", "123456789/1", "0/1 ", "0/1\n", "-1/2", "0x1/2"]
)
def test_anything_else_is_not_a_position(text: str) -> None:
    assert parse_lsn(text) is None


def test_a_replica_is_named_without_its_credentials() -> None:
    name = replica_name("postgresql://reader:s3cret-pass@replica-1.internal:5433/newsgraph")

    assert name == "replica-1.internal:5433/newsgraph"
    assert "s3cret" not in name
    assert "reader" not in name
    assert replica_name("postgres://replica-2/newsgraph") == "replica-2:5432/newsgraph"


def test_replica_urls_are_comma_separated_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "NEWSGRAPH_REPLICA_URLS", "postgresql://a@r1:5432/n, postgresql://a@r2:5432/n,"
    )
    assert Settings().replica_urls == ["postgresql://a@r1:5432/n", "postgresql://a@r2:5432/n"]
    monkeypatch.setenv("NEWSGRAPH_REPLICA_URLS", "")
    assert Settings().replica_urls == []
    monkeypatch.setenv("NEWSGRAPH_REPLICA_URLS", "mysql://r1/n")
    with pytest.raises(ValidationError, match="postgresql:// URL"):
        Settings()
