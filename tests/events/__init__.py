"""/v1/events (api/events/): reads, then writes."""
