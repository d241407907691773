"""What the files and knowledge-base routers share: the service, its errors as envelopes, and
the key's knowledge-base allow-list (chat's 403 for a knowledge base off it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from ..accounting.gate import kb_not_allowed, kb_refused
from ..accounting.keys import KeyRecord
from ..knowledge.errors import (
    InvalidSplitConfig,
    KnowledgeError,
    ParseError,
    UnsupportedFileType,
)
from ..knowledge.service import KbNotAllowed, KnowledgeService, UnknownIds
from ..protocol.errors import APIError
from .deps import KeyDep, ServicesDep
from .errors import error_response


async def get_knowledge(services: ServicesDep) -> KnowledgeService:
    return services.knowledge


KnowledgeDep = Annotated[KnowledgeService, Depends(get_knowledge)]


async def kb_key(kb_id: str, key: KeyDep) -> KeyRecord:
    """The caller's key, if its allow-list (when it has one) names the path's `kb_id`; else
    the 403 chat gives, whether or not that knowledge base exists."""
    if key.allowed_kbs is not None and kb_id not in key.allowed_kbs:
        raise kb_not_allowed([kb_id])
    return key


KbKeyDep = Annotated[KeyRecord, Depends(kb_key)]


def knowledge_api_error(exc: KnowledgeError) -> APIError:
    if isinstance(exc, UnknownIds):
        code = "file_not_found" if exc.kind == "file" else "knowledge_base_not_found"
        return APIError(404, str(exc), code=code)
    if isinstance(exc, KbNotAllowed):
        return kb_refused(str(exc))
    if isinstance(exc, UnsupportedFileType):
        return APIError(400, str(exc), param="file", code="unsupported_file_type")
    if isinstance(exc, ParseError):
        return APIError(400, f"The file could not be parsed: {exc}", code="file_parse_error")
    if isinstance(exc, InvalidSplitConfig):
        return APIError(400, str(exc), param="split_config", code="invalid_value")
    return APIError(500, "The knowledge store failed.", type="server_error")


def install_knowledge_errors(app: FastAPI) -> None:
    async def on_knowledge_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KnowledgeError)
        return error_response(knowledge_api_error(exc))

    app.add_exception_handler(KnowledgeError, on_knowledge_error)
