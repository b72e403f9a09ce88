"""The explorer at /explore: a page that shows the data (disputes, entities, events, articles)
to a person, built on the public API as any browser application would be.

Its files are in api/explore/ and ship in the package, so the page needs no CDN and no build
step: plain ES modules and one stylesheet, served as they are. The modules' JSDoc types come
from the contract and `make check` type-checks them (explorer/ holds that tooling, not shipped).

The page carries its own Content-Security-Policy: scripts, styles and fetches from this server
only, no inline script or style at all.
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PAGE = "/explore"
ASSETS = "/explore/assets"
FILES = Path(__file__).resolve().parent.parent / "explore"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=FILES / "assets"), name="explore-assets")
    app.state.explore_page = (FILES / "index.html").read_text(encoding="utf-8")
    app.add_api_route(PAGE, explore, methods=["GET"], include_in_schema=False)


# At module level (see api.transport.docs.docs): a closure per app would keep the app alive.
async def explore(request: Request) -> HTMLResponse:
    return HTMLResponse(
        request.app.state.explore_page,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            # The page is small and changes with the package: always revalidated.
            "Cache-Control": "no-cache",
        },
    )
