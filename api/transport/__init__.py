"""The HTTP layer around the features: what every request passes through before and after
its route (request id, request-line and body limits, media type, CORS, security headers, rate
limits, the access log and metrics) and the app's own non-API endpoints (/docs, /metrics).

May import `api.shared`, `api.settings` and libraries; never a feature. Features never import
from here: `api/main.py` puts the two together."""
