"""The application factory: one FastAPI application with every router of the service.

Each room of the service contributes one router (``router(ctx) -> APIRouter``); this module
only assembles them, mounts the static files, installs the JSON error handlers
(:mod:`ecard.service.errors`) and the HTTP security layer (:mod:`ecard.service.security`). Nothing here decides about a card.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.staticfiles import StaticFiles

from ecard import __version__
from ecard.service import api, errors, security
from ecard.service.context import ServiceContext
from ecard.service.pages import applicant, clerk, counter, wallet

#: The package's static files (CSS, the wallet's scripts, vendored libraries with licences).
STATIC = Path(__file__).parent / "static"


def create_app(ctx: ServiceContext) -> FastAPI:
    """The ASGI application serving ``ctx``."""
    app = FastAPI(
        title="ecard service",
        version=__version__,
        description="Electronic social security cards: apply, review, wallet, counter.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = ctx
    app.include_router(api.router(ctx))
    app.include_router(applicant.router(ctx))
    app.include_router(clerk.router(ctx))
    app.include_router(wallet.router(ctx))
    app.include_router(counter.router(ctx))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """No icon (browsers ask for one on every page): an empty answer, not a 404."""
        return Response(status_code=204)

    errors.install(app)
    security.install(app, ctx)
    return app


__all__ = ["STATIC", "create_app"]
