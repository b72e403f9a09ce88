"""GET /v1/export and `newsgraph export` (api/export/, db/bulk/export)."""
