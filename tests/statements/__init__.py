"""/v1/statements (api/statements/): reads, then writes."""
