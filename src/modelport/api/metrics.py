"""GET /metrics: Prometheus exposition, behind `metrics_token` when one is configured (else
open: keep it off the public listener)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from ..protocol.errors import APIError
from .deps import ServicesDep

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: ServicesDep) -> Response:
    token = services.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").encode()
        expected = f"Bearer {token.get_secret_value()}".encode()
        if not hmac.compare_digest(given, expected):
            raise APIError(
                401,
                "GET /metrics wants 'Authorization: Bearer <metrics token>'.",
                code="invalid_metrics_token",
            )
    return Response(services.metrics.render(), media_type=services.metrics.content_type)
