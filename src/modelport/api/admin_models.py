"""`/admin/models`: local models added to the catalogue at runtime (admin keys only).

A model added here is served at once (loaded on its first request), listed by `/v1/models`,
stored in the database and put back into the catalogue when the server restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import ConfigDict, Field

from ..protocol.base import RequestModel, WireModel
from ..protocol.errors import APIError, ErrorResponse
from ..routing.runtime_models import RuntimeEntry, RuntimeModels
from .admin import require_admin
from .deps import ServicesDep

router = APIRouter(prefix="/admin/models", dependencies=[Depends(require_admin)])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
}


class RuntimeModelRequest(RequestModel):
    """A local model to add: its public name, its file (`pulled:NAME`, or a `.gguf` inside
    the models directory) and, optionally, its own keep_alive (seconds; -1 for ever)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    model_path: str = Field(min_length=1, max_length=1000)
    keep_alive: float | None = Field(default=None, ge=-1)


class RuntimeModelInfo(WireModel):
    object: Literal["model"] = "model"
    name: str
    model_path: str
    keep_alive: float | None
    created_at: int


class RuntimeModelList(WireModel):
    object: Literal["list"] = "list"
    data: list[RuntimeModelInfo]


def _info(entry: RuntimeEntry) -> RuntimeModelInfo:
    created: datetime = entry.created_at
    return RuntimeModelInfo(
        name=entry.name,
        model_path=entry.model_path,
        keep_alive=entry.keep_alive,
        created_at=int(created.timestamp()),
    )


def _runtime(services: ServicesDep) -> RuntimeModels:
    if services.runtime_models is None:
        raise APIError(503, "Runtime models are not available.", type="server_error")
    return services.runtime_models


@router.post("", status_code=201, responses=ERRORS)
async def add_model(body: RuntimeModelRequest, services: ServicesDep) -> RuntimeModelInfo:
    entry = await _runtime(services).add(body.name, body.model_path, body.keep_alive)
    return _info(entry)


@router.get("")
async def list_models(services: ServicesDep) -> RuntimeModelList:
    return RuntimeModelList(data=[_info(e) for e in await _runtime(services).list()])


@router.delete("/{name:path}", responses=ERRORS)
async def delete_model(name: str, services: ServicesDep) -> RuntimeModelInfo:
    """Removes a model added at runtime; its engine unloads once its last request ends."""
    return _info(await _runtime(services).remove(name))
