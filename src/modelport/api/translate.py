"""`POST /v1/translate`: a text or a batch, by a DeepL model or any chat model
(`translate/service.py` does the work; keys, quotas and the ledger apply as for chat)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..protocol.errors import ErrorResponse
from ..protocol.translate import TranslateRequest, TranslateResponse
from ..translate.service import translate
from .deps import KeyDep, ServicesDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429, 502, 503)
}


@router.post("/v1/translate", response_model=TranslateResponse, responses=_ERRORS)
async def create_translation(
    request: Request, body: TranslateRequest, key: KeyDep, services: ServicesDep
) -> TranslateResponse:
    return await translate(services, key, body, request.state.request_id)
