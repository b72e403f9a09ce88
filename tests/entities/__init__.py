"""/v1/entities (api/entities/): reads, then writes."""
