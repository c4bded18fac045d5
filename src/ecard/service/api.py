"""The JSON API (OpenAPI at ``/api/openapi.json``): verification, the workflow operations an
app needs, list publication. Error bodies carry the library's stable codes."""

from __future__ import annotations

from fastapi import APIRouter

from ecard import __version__
from ecard.service.context import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    """The API routes."""
    r = APIRouter(prefix="/api", tags=["api"])

    @r.get("/health")
    def health() -> dict[str, object]:
        """Liveness probe: the version and whether this is the demo issuer."""
        return {"ok": True, "version": __version__, "demo": ctx.demo is not None}

    return r


__all__ = ["router"]
