"""/v1/articles (api/articles/): reads, then writes."""
