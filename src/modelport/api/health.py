"""GET /health: liveness plus what the engine is doing (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from .deps import ServicesDep

router = APIRouter()


@router.get("/health")
async def health(services: ServicesDep) -> dict[str, Any]:
    engines = [
        {
            "model": load.model_path,
            "active": load.active,
            "queued": load.queued,
            "expires_at": None if load.expires_at is None else int(load.expires_at),
            "size": load.size,
        }
        for load in services.engine_loads()
    ]
    return {
        "status": "ok",
        "models": [m.name for m in services.catalogue.models()],
        "engines": engines,
    }
