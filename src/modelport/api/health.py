"""GET /health: liveness plus what the engine is doing (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from .deps import ServicesDep

router = APIRouter()


@router.get("/health")
async def health(services: ServicesDep) -> dict[str, Any]:
    engines = [
        {"model": e.model.path, "active": e.scheduler.active, "queued": e.scheduler.queued}
        for e in services.local_engines()
    ]
    return {
        "status": "ok",
        "models": [m.name for m in services.catalogue.models()],
        "engines": engines,
    }
