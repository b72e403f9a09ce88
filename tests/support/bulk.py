"""A corpus through `newsgraph import` and `newsgraph export`: the rows a corpus should give,
the rows a database holds, its content by natural keys, and NDJSON bytes in and out."""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from db.bulk import import_ndjson
from db.bulk.export import ExportReport, export_ndjson
from db.bulk.rows import TABLES
from tests.support.database import connect

# Which table each part of a record goes to.
PARTS = {
    "entity": {"aliases": "entity_alias"},
    "article": {"mentions": "mention"},
    "event": {"participants": "event_participant", "evidence": "evidence"},
    "dispute": {
        "parties": "dispute_party",
        "territories": "dispute_territory",
        "timeline": "dispute_event",
    },
}


def expected_rows(records: list[dict[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter(dict.fromkeys(TABLES, 0))
    for record in records:
        counts[record["type"]] += 1
        for part, table in PARTS.get(record["type"], {}).items():
            counts[table] += len(record[part])
    return dict(counts)


async def table_counts(connection: asyncpg.Connection) -> dict[str, int]:
    return {
        table: await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        for table in TABLES
    }


# One sorted text row per table row, by natural keys only: ids differ between databases.
CANONICAL = {
    "source": "SELECT (slug, name, kind, homepage_url)::text FROM source",
    "entity": "SELECT (slug, kind, name, description, external_ids)::text FROM entity",
    "entity_alias": (
        "SELECT (e.slug, al.name, al.language, al.kind, u.slug)::text FROM entity_alias al"
        " JOIN entity e ON e.id = al.entity_id LEFT JOIN entity u ON u.id = al.used_by_id"
    ),
    "article": (
        "SELECT (a.slug, s.slug, headline, byline, url, language, published_at,"
        " published_precision, body, summary, content_hash)::text"
        " FROM article a JOIN source s ON s.id = a.source_id"
    ),
    "mention": (
        "SELECT (a.slug, e.slug, start_offset, end_offset, surface, method, confidence)::text"
        " FROM mention m JOIN article a ON a.id = m.article_id JOIN entity e ON e.id = m.entity_id"
    ),
    "event": (
        "SELECT (slug, title, summary, event_type, mode, contexts, modality, time_edtf,"
        " time_earliest, time_latest, time_precision)::text FROM event"
    ),
    "event_participant": (
        "SELECT (v.slug, e.slug, role)::text FROM event_participant p"
        " JOIN event v ON v.id = p.event_id JOIN entity e ON e.id = p.entity_id"
    ),
    "evidence": (
        "SELECT (a.slug, start_offset, end_offset, quote, v.slug)::text FROM evidence x"
        " JOIN article a ON a.id = x.article_id JOIN event v ON v.id = x.event_id"
    ),
    "dispute": (
        "SELECT (slug, title, kind, status, summary, time_edtf, time_earliest, time_latest,"
        " time_precision)::text FROM dispute"
    ),
    "dispute_party": (
        "SELECT (d.slug, e.slug, role, position)::text FROM dispute_party p"
        " JOIN dispute d ON d.id = p.dispute_id JOIN entity e ON e.id = p.entity_id"
    ),
    "dispute_territory": (
        "SELECT (d.slug, e.slug, ad.slug, cl.slug)::text FROM dispute_territory t"
        " JOIN dispute d ON d.id = t.dispute_id JOIN entity e ON e.id = t.entity_id"
        " LEFT JOIN entity ad ON ad.id = t.administered_by_id"
        " LEFT JOIN entity cl ON cl.id = t.claimed_by_id"
    ),
    "dispute_event": (
        "SELECT (d.slug, v.slug, role, significance)::text FROM dispute_event x"
        " JOIN dispute d ON d.id = x.dispute_id JOIN event v ON v.id = x.event_id"
    ),
}


async def canonical_dump(url: str) -> dict[str, list[str]]:
    connection = await connect(url)
    try:
        return {
            table: sorted(row[0] for row in await connection.fetch(query))
            for table, query in CANONICAL.items()
        }
    finally:
        await connection.close()


async def export_bytes(url: str, **filters: Any) -> tuple[bytes, ExportReport]:
    chunks: list[bytes] = []
    connection = await connect(url)
    try:
        report = await export_ndjson(connection, chunks.append, batch_size=50, **filters)
    finally:
        await connection.close()
    return b"".join(chunks), report


async def import_bytes(url: str, path: Path, data: bytes) -> None:
    await asyncio.to_thread(path.write_bytes, data)
    connection = await connect(url)
    try:
        report = await import_ndjson(connection, path, batch_lines=100)
    finally:
        await connection.close()
    assert (report.rejected, report.rejections) == (0, [])
    assert report.imported_lines == data.count(b"\n")
