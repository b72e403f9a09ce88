"""/v1/search (api/search/)."""
