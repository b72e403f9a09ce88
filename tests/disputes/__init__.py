"""/v1/disputes (api/disputes/): reads, then writes."""
