"""The database layer (db/): migrations, constraints, session settings, bulk import, the gazetteer,
EDTF time spans, the shared checks."""
