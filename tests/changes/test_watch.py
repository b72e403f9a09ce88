"""Writing transactions no longer notify (the migration `notify from one place`): the change feed
and the webhook outbox still record every write, and the downgrade brings the notices back."""

import asyncio
import uuid

import asyncpg

from db import migrate
from tests.support.database import connect, migrated_database, run_migration

BEFORE = "7d2c9e4a1f85"  # the revision before `notify from one place`: triggers notified
CHANNELS = ("newsgraph_changes", "newsgraph_webhooks")


async def _notifying_functions(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND p.prosrc LIKE '%pg_notify%' ORDER BY p.proname"
    )
    return [row["proname"] for row in rows]


async def _write_and_listen(url: str, slug: str) -> tuple[list[str], int, int]:
    """Insert a source (with a webhook for every type registered), listening on both channels:
    the channels that got a notice, and the change rows and deliveries the write left."""
    listener = await connect(url)
    writer = await connect(url)
    heard: list[str] = []
    try:
        for channel in CHANNELS:
            await listener.add_listener(channel, lambda _c, _p, channel, _m: heard.append(channel))
        async with writer.transaction():
            await writer.execute(
                "INSERT INTO source (id, slug, name, kind) VALUES ($1, $2, $2, 'other')",
                uuid.uuid4(),
                slug,
            )
        await asyncio.sleep(0.5)  # a notice arrives within milliseconds of the commit
        changes = await writer.fetchval("SELECT count(*) FROM change WHERE slug = $1", slug)
        deliveries = await writer.fetchval(
            "SELECT count(*) FROM webhook_delivery d JOIN change c ON c.id = d.change_id"
            " WHERE c.slug = $1",
            slug,
        )
    finally:
        await listener.close()
        await writer.close()
    return sorted(heard), changes, deliveries


async def test_writes_are_recorded_without_a_notice_and_the_downgrade_restores_them() -> None:
    url = await migrated_database("watch_migration")
    connection = await connect(url)
    try:
        await connection.execute(
            "INSERT INTO webhook (url, types, secret) VALUES ($1, '{}', $2)",
            "https://hooks.example.org/newsgraph",
            "whsec_" + "A" * 32,
        )
        at_head = await _notifying_functions(connection)
    finally:
        await connection.close()
    assert at_head == []
    assert await _write_and_listen(url, "at-head") == ([], 1, 1)

    await run_migration(migrate.downgrade, url, BEFORE)
    connection = await connect(url)
    try:
        before = await _notifying_functions(connection)
    finally:
        await connection.close()
    assert before == [
        "change_feed_article",
        "change_feed_dispute",
        "change_feed_entity",
        "change_feed_event",
        "change_feed_record",
        "change_feed_source",
        "change_feed_statement",
        "webhook_outbox",
    ]
    assert await _write_and_listen(url, "downgraded") == (list(CHANNELS), 1, 1)

    await run_migration(migrate.upgrade, url)
    assert await _write_and_listen(url, "upgraded-again") == ([], 1, 1)
