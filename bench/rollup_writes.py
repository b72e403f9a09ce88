"""What the entity article rollup costs concurrent writes: `python -m bench.rollup_writes
DATABASE_URL` (the bench corpus, loaded: it adds `bench-rollup-*` articles and deletes them).

N connections each insert, for a few seconds, one article after another with mentions of the
same two most named entities, one transaction each: so every write updates the same counts.
Three ways, alternating, several runs each: the rollup refreshed at commit (the default), at
each statement (`SET CONSTRAINTS rollup_flush IMMEDIATE`) and not at all (`SET LOCAL
newsgraph.article_rollup = 'deferred'`, as the bulk import writes before its own refresh);
`--work-ms` of other work in the transaction after its last write stands for what an API
write does before it commits. Commits per second, min and median.
"""

import argparse
import asyncio
import hashlib
import statistics
import time
import uuid

import asyncpg

MODES = {
    "at commit": None,
    "at each statement": "SET CONSTRAINTS rollup_flush IMMEDIATE",
    "none": "SET LOCAL newsgraph.article_rollup = 'deferred'",
}
INSERT_ARTICLE = (
    "INSERT INTO article (slug, source_id, language, body, content_hash, published_at, "
    "published_precision) VALUES ($1, $2, 'en', $3, $4, now(), 'day') RETURNING id"
)
INSERT_MENTION = (
    "INSERT INTO mention (article_id, entity_id, start_offset, end_offset, surface, method) "
    "VALUES ($1, $2, $3, $4, $5, 'curated')"
)


async def _run(
    pool: asyncpg.Pool,
    entities: list[uuid.UUID],
    source: uuid.UUID,
    *,
    writers: int,
    seconds: float,
    setting: str | None,
    work_ms: float,
) -> float:
    committed = 0
    stop = time.monotonic() + seconds

    async def write() -> None:
        nonlocal committed
        async with pool.acquire() as connection:
            while time.monotonic() < stop:
                body = f"Alpha and Beta {uuid.uuid4()}"
                async with connection.transaction():
                    if setting is not None:
                        await connection.execute(setting)
                    article = await connection.fetchval(
                        INSERT_ARTICLE,
                        f"bench-rollup-{uuid.uuid4().hex}",
                        source,
                        body,
                        hashlib.sha256(body.encode()).hexdigest(),
                    )
                    await connection.executemany(
                        INSERT_MENTION,
                        [
                            (article, entities[0], 0, 5, "Alpha"),
                            (article, entities[1], 10, 14, "Beta"),
                        ],
                    )
                    if work_ms:
                        await asyncio.sleep(work_ms / 1000)
                committed += 1

    await asyncio.gather(*(write() for _ in range(writers)))
    return committed / seconds


async def main(
    url: str, *, writers: list[int], seconds: float, runs: int, work: list[float]
) -> None:
    pool = await asyncpg.create_pool(url, min_size=max(writers), max_size=max(writers))
    try:
        entities = [
            row["entity_id"]
            for row in await pool.fetch(
                "SELECT entity_id FROM mention WHERE entity_id IS NOT NULL "
                "GROUP BY entity_id ORDER BY count(*) DESC LIMIT 2"
            )
        ]
        source = await pool.fetchval("SELECT id FROM source ORDER BY slug LIMIT 1")
        if len(entities) < 2 or source is None:
            raise SystemExit("load the bench corpus first (make bench, or newsgraph import)")
        print("| work ms | writers | " + " | ".join(MODES) + " |")
        print("|---:|---:|" + "---:|" * len(MODES))
        for work_ms in work:
            for count in writers:
                rates: dict[str, list[float]] = {mode: [] for mode in MODES}
                for _ in range(runs):
                    for mode, setting in MODES.items():
                        rates[mode].append(
                            await _run(
                                pool,
                                entities,
                                source,
                                writers=count,
                                seconds=seconds,
                                setting=setting,
                                work_ms=work_ms,
                            )
                        )
                cells = " | ".join(
                    f"{min(r):,.0f} / {statistics.median(r):,.0f}" for r in rates.values()
                )
                print(f"| {work_ms:g} | {count} | {cells} |", flush=True)
    finally:
        await pool.execute("DELETE FROM article WHERE slug LIKE 'bench-rollup-%'")
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the bench corpus' database (postgresql://...)")
    parser.add_argument("--writers", type=int, action="append", help="repeatable; 1, 8, 32")
    parser.add_argument("--work-ms", type=float, action="append", help="repeatable; 0, 2")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.url,
            writers=arguments.writers or [1, 8, 32],
            seconds=arguments.seconds,
            runs=arguments.runs,
            work=arguments.work_ms or [0, 2],
        )
    )
