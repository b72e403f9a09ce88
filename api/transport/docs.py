"""Interactive docs served by the app itself, so /docs works without reaching a CDN.

The page carries its own Content-Security-Policy: scripts, styles and images from this
server only, plus the one inline script that starts Swagger UI, allowed by its hash.
"""

import base64
import hashlib
import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(page: str) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; "
        # Swagger UI sets style attributes on the elements it renders.
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    html = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
    page = bytes(html.body).decode()
    app.state.docs_page = page
    app.state.docs_headers = {"Content-Security-Policy": content_security_policy(page)}
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


# At module level (see api.transport.metrics.get_metrics): a closure per app would keep the
# app alive.
async def docs(request: Request) -> HTMLResponse:
    state = request.app.state
    return HTMLResponse(state.docs_page, headers=state.docs_headers)
