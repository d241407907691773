"""GET /metrics: Prometheus exposition (no key; keep it off the public listener)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from .deps import ServicesDep

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.render(), media_type=services.metrics.content_type)
