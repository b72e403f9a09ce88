"""Bulk import of an NDJSON corpus (bench/README.md) with COPY: `newsgraph import`."""

from db.bulk.importer import ImportReport, Progress, Rejection, import_ndjson

__all__ = ["ImportReport", "Progress", "Rejection", "import_ndjson"]
