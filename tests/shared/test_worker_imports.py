"""What a serving worker imports: the libraries only some requests or commands need are
imported by them, not by every worker (bench/README.md: 25 MB of each worker's RSS)."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.process

# Imported by migrations (alembic, and mako and pygments under it), by EDTF parsing on writes
# (edtf, pyparsing), by webhook deliveries (httpcore, trio) and by exports (db.bulk).
NOT_AT_START = ("alembic", "mako", "pygments", "edtf", "pyparsing", "httpcore", "trio", "db.bulk")

_PROGRAM = """
import json, sys
from api.main import create_app
from api.settings import Settings
app = create_app(Settings.model_validate({"DATABASE_URL": "postgresql://x@127.0.0.1:1/none"}))
print(json.dumps(sorted(sys.modules)))
"""


def test_a_worker_starts_without_the_libraries_of_migrations_writes_webhooks_and_exports() -> None:
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", _PROGRAM], capture_output=True, text=True, check=True
        ).stdout
    )

    assert "api.main" in loaded  # the program did build the app
    assert [
        name for name in loaded if name.split(".")[0] in NOT_AT_START or name.startswith("db.bulk")
    ] == []


def test_what_a_worker_defers_is_imported_by_what_needs_it() -> None:
    program = """
import json, sys
from db import migrate, timespan
migrate.alembic_config()
timespan.parse("2021-10")
from api.webhooks.sender import Sender
print(json.dumps(sorted(sys.modules)))
"""
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", program], capture_output=True, text=True, check=True
            ).stdout
        )
    )

    assert {"alembic", "edtf", "httpcore"} <= loaded
