"""Security headers on every response.

The API answers JSON, which no browser should render, frame or sniff into something else,
so the default Content-Security-Policy allows nothing at all. A page that needs more (the
Swagger UI at /docs) sends its own policy, and it is left as it is.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def security_headers(*, hsts_seconds: int) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-resource-policy", b"same-origin"),
    ]
    if hsts_seconds:
        # Browsers ignore it over plain HTTP; sent only when the deployment says it is HTTPS.
        headers.append((b"strict-transport-security", f"max-age={hsts_seconds}".encode()))
    return headers


class SecurityHeadersMiddleware:
    """Pure ASGI; the header list is built once."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.headers = security_headers(hsts_seconds=hsts_seconds)
        self.default_policy = (b"content-security-policy", STRICT_POLICY.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name == b"content-security-policy" for name, _ in headers):
                    headers.append(self.default_policy)
                headers.extend(self.headers)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
