"""What the features share (api/shared/): problem details, the write conventions (keys, If-Match,
Idempotency-Key, body limits), deny-by-default routes, points of view, query counts of list
endpoints."""
