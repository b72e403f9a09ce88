"""/healthz and /readyz (api/health/)."""
