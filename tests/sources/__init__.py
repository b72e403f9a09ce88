"""/v1/sources (api/sources/); their writes exercise the write conventions in tests/shared/."""
