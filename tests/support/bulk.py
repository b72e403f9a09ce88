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

# Which table each record type and each part of a record goes to.
TABLE = {"relation": "entity_relation"}
PARTS = {
    "entity": {"aliases": "entity_alias"},
    "article": {"mentions": "mention"},
    "event": {"participants": "event_participant"},
    "dispute": {
        "parties": "dispute_party",
        "territories": "dispute_territory",
        "timeline": "dispute_event",
    },
}


def expected_rows(records: list[dict[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter(dict.fromkeys(TABLES, 0))
    for record in records:
        if record["type"] == "evidence":
            counts["evidence"] += len(record["items"])
            continue
        counts[TABLE.get(record["type"], record["type"])] += 1
        counts["evidence"] += len(record.get("evidence", []))
        for part, table in PARTS.get(record["type"], {}).items():
            counts[table] += len(record[part])
            counts["evidence"] += sum(len(item.get("evidence", [])) for item in record[part])
    return dict(counts)


async def table_counts(connection: asyncpg.Connection) -> dict[str, int]:
    return {
        table: await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        for table in TABLES
    }


# One sorted text row per table row, by natural keys only: ids differ between databases (and
# timestamps, versions and the columns the database computes are left out).
CANONICAL = {
    "source": "SELECT (slug, name, kind, homepage_url)::text FROM source",
    "entity": "SELECT (slug, kind, name, description, external_ids)::text FROM entity",
    "entity_alias": (
        "SELECT (e.slug, al.name, al.language, al.kind, u.slug)::text FROM entity_alias al"
        " JOIN entity e ON e.id = al.entity_id LEFT JOIN entity u ON u.id = al.used_by_id"
    ),
    "entity_relation": (
        "SELECT (s.slug, r.kind, o.slug, r.role, r.time_edtf, r.time_earliest, r.time_latest,"
        " r.time_precision)::text FROM entity_relation r"
        " JOIN entity s ON s.id = r.subject_id JOIN entity o ON o.id = r.object_id"
    ),
    "article": (
        "SELECT (a.slug, s.slug, headline, byline, url, language, published_at,"
        " published_precision, body, summary, content_hash)::text"
        " FROM article a JOIN source s ON s.id = a.source_id"
    ),
    "mention": (
        "SELECT (a.slug, e.slug, start_offset, end_offset, surface, method, confidence,"
        " ARRAY(SELECT p.slug FROM entity p WHERE p.id = ANY(m.possible_entity_ids)"
        " ORDER BY p.slug))::text"
        " FROM mention m JOIN article a ON a.id = m.article_id"
        " LEFT JOIN entity e ON e.id = m.entity_id"
    ),
    "event": (
        "SELECT (v.slug, v.title, v.summary, v.event_type, v.mode, v.contexts, v.modality,"
        " v.time_edtf, v.time_earliest, v.time_latest, v.time_precision, v.duration, l.slug,"
        " p.slug)::text FROM event v LEFT JOIN entity l ON l.id = v.location_id"
        " LEFT JOIN event p ON p.id = v.parent_id"
    ),
    "event_participant": (
        "SELECT (v.slug, e.slug, role)::text FROM event_participant p"
        " JOIN event v ON v.id = p.event_id JOIN entity e ON e.id = p.entity_id"
    ),
    "statement": (
        "SELECT (s.slug, sp.slug, s.kind, s.text, cb.slug, s.conveyed_by_description,"
        " v.slug)::text FROM statement s JOIN entity sp ON sp.id = s.speaker_id"
        " LEFT JOIN entity cb ON cb.id = s.conveyed_by_id LEFT JOIN event v ON v.id = s.event_id"
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

# What each kind of evidence subject is called by natural keys: its joins from the subject
# column (`x`) and the key as a row.
EVIDENCE_SUBJECTS = {
    "entity_id": ("JOIN entity x ON x.id = v.entity_id", "x.slug"),
    "entity_alias_id": (
        "JOIN entity_alias x ON x.id = v.entity_alias_id JOIN entity xe ON xe.id = x.entity_id",
        "(xe.slug, x.name, x.language)",
    ),
    "entity_relation_id": (
        "JOIN entity_relation x ON x.id = v.entity_relation_id"
        " JOIN entity xs ON xs.id = x.subject_id JOIN entity xo ON xo.id = x.object_id",
        "(xs.slug, x.kind, xo.slug, x.role, x.time_edtf)",
    ),
    "event_id": ("JOIN event x ON x.id = v.event_id", "x.slug"),
    "event_participant_id": (
        "JOIN event_participant x ON x.id = v.event_participant_id"
        " JOIN event xv ON xv.id = x.event_id JOIN entity xe ON xe.id = x.entity_id",
        "(xv.slug, xe.slug, x.role)",
    ),
    "statement_id": ("JOIN statement x ON x.id = v.statement_id", "x.slug"),
    "dispute_id": ("JOIN dispute x ON x.id = v.dispute_id", "x.slug"),
    "dispute_party_id": (
        "JOIN dispute_party x ON x.id = v.dispute_party_id"
        " JOIN dispute xd ON xd.id = x.dispute_id JOIN entity xe ON xe.id = x.entity_id",
        "(xd.slug, xe.slug)",
    ),
    "dispute_territory_id": (
        "JOIN dispute_territory x ON x.id = v.dispute_territory_id"
        " JOIN dispute xd ON xd.id = x.dispute_id JOIN entity xe ON xe.id = x.entity_id",
        "(xd.slug, xe.slug)",
    ),
    "dispute_event_id": (
        "JOIN dispute_event x ON x.id = v.dispute_event_id"
        " JOIN dispute xd ON xd.id = x.dispute_id JOIN event xv ON xv.id = x.event_id",
        "(xd.slug, xv.slug)",
    ),
    "subject_article_id": ("JOIN article x ON x.id = v.subject_article_id", "x.slug"),
}


def _evidence_query(column: str, joins: str, key: str) -> str:
    """Evidence as (subject kind, subject key, article, start, end, quote, editorial, note,
    field), for one subject column; put together from the constants above."""
    kind = column.removeprefix("subject_").removesuffix("_id")
    columns = "a.slug, v.start_offset, v.end_offset, v.quote, v.editorial, v.note, v.field"
    row = f"('{kind}', {key}::text, {columns})"
    return f"SELECT {row}::text FROM evidence v JOIN article a ON a.id = v.article_id {joins}"  # noqa: S608


CANONICAL["evidence"] = " UNION ALL ".join(
    _evidence_query(column, joins, key) for column, (joins, key) in EVIDENCE_SUBJECTS.items()
)


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
