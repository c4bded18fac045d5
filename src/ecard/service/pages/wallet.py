"""The wallet pages (being built: see docs/service.md)."""

from __future__ import annotations

from fastapi import APIRouter

from ecard.service.context import ServiceContext


def router(ctx: ServiceContext) -> APIRouter:
    """The wallet routes."""
    return APIRouter()


__all__ = ["router"]
