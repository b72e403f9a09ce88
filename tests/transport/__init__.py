"""What every request passes through (api/transport/): CORS, security headers, rate limits, logs
and metrics, the docs page."""
