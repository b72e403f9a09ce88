"""notify from one place: the change feed and outbox triggers no longer call pg_notify

A transaction that has called pg_notify takes a lock global to the cluster at commit and holds
it through its WAL flush, so the triggers' notices made every writing transaction commit one
after another: 32 concurrent writers committed no faster than one. The readers that listened
(change streams, the webhook worker) now poll the feed's newest id, one query per process per
interval (api/shared/change_watch.py). The functions are the change feed and webhook
migrations' own, less their pg_notify calls; the downgrade puts those back.

Revision ID: 4d7a2c9e1b58
Revises: 5e0b7f3a9c28
Create Date: 2026-12-06 19:00:00.000000

"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "4d7a2c9e1b58"
down_revision: str | None = "5e0b7f3a9c28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _migration(file_name: str) -> ModuleType:
    """An earlier migration of this directory, for the function bodies it created."""
    path = Path(__file__).with_name(file_name)
    spec = importlib.util.spec_from_file_location(f"_newsgraph_{path.stem[16:]}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replaced(definition: str, notice: str) -> str:
    """`definition` (a CREATE FUNCTION) as CREATE OR REPLACE, less the statement `notice`."""
    assert definition.count(notice) == 1, notice
    return definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        notice, ""
    )


def _definitions(*, notifying: bool) -> list[str]:
    """Every function that notified: as created (`notifying`), or without its notice."""
    feed = _migration("2026-12-06-1500_change_feed.py")
    webhooks = _migration("2026-12-06-1600_webhooks.py")
    changes = f"    PERFORM pg_notify('{feed.CHANNEL}', '');\n"
    deliveries = (
        f"    IF FOUND THEN\n        PERFORM pg_notify('{webhooks.CHANNEL}', '');\n    END IF;\n"
    )
    pairs = [
        (feed._RECORD, changes),
        *((feed._resource_function(table), f"    {changes}") for table in feed.RESOURCES),
        (webhooks._OUTBOX, deliveries),
    ]
    return [
        definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        if notifying
        else _replaced(definition, notice)
        for definition, notice in pairs
    ]


def upgrade() -> None:
    for definition in _definitions(notifying=False):
        op.execute(definition)


def downgrade() -> None:
    for definition in _definitions(notifying=True):
        op.execute(definition)
