"""Local models added to the catalogue at runtime (`/admin/models`), kept in the database and
put back into the catalogue at start-up, where a model of the YAML settings with the same
name wins (the runtime one is then skipped, with a warning)."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select

from ..hub.download import PullError
from ..hub.store import PULLED, resolve_model_path
from ..protocol.errors import APIError
from ..providers.registry import ProviderRegistry
from ..settings import ChannelConfig, ModelConfig
from ..storage.db import Database
from ..storage.runtime_model_tables import RuntimeModel
from .catalogue import Catalogue

log = logging.getLogger("modelport")


@dataclass(frozen=True)
class RuntimeEntry:
    name: str
    model_path: str
    keep_alive: float | None
    created_at: datetime


def _entry(row: RuntimeModel) -> RuntimeEntry:
    return RuntimeEntry(row.name, row.model_path, row.keep_alive, row.created_at)


def model_config(name: str, model_path: str, keep_alive: float | None) -> ModelConfig:
    options = {} if keep_alive is None else {"keep_alive": keep_alive}
    channel = ChannelConfig(provider="local", model_path=model_path, options=options)
    return ModelConfig(name=name, owned_by="modelport", channels=[channel])


class RuntimeModels:
    def __init__(
        self, db: Database, catalogue: Catalogue, providers: ProviderRegistry, data_dir: Path
    ) -> None:
        self._db = db
        self._catalogue = catalogue
        self._providers = providers
        self._data_dir = data_dir
        self._names: set[str] = set()  # the runtime models now in the catalogue
        self._lock = asyncio.Lock()

    def models_dir(self) -> Path:
        explicit = os.environ.get("MODELPORT_MODELS_DIR")  # as `resolve_model_path` reads it
        return Path(explicit) if explicit else self._data_dir / "models"

    async def restore(self) -> None:
        """Put the stored models into the catalogue (the YAML one wins a name)."""
        for entry in await self.list():
            if entry.name in self._catalogue:
                log.warning(
                    "runtime model %r is also in the settings: the settings' one is served",
                    entry.name,
                )
                continue
            model = model_config(entry.name, self._file(entry.model_path), entry.keep_alive)
            self._catalogue.add(model)
            self._names.add(entry.name)

    async def list(self) -> list[RuntimeEntry]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(RuntimeModel).order_by(RuntimeModel.created_at))
            return [_entry(row) for row in rows]

    def _file(self, model_path: str) -> str:
        """What the channel names: `pulled:NAME` as it is, a path inside the models
        directory made absolute."""
        if model_path.startswith(PULLED) or Path(model_path).is_absolute():
            return model_path
        return str(self.models_dir() / model_path)

    def check_path(self, model_path: str) -> str:
        """The model's file: `pulled:NAME`, or a `.gguf` inside the models directory."""
        if model_path.startswith(PULLED):
            try:
                return resolve_model_path(model_path, self._data_dir)
            except (PullError, OSError, ValueError) as exc:
                raise APIError(
                    404, str(exc), param="model_path", code="model_file_not_found"
                ) from None
        store = self.models_dir().resolve()
        outside = APIError(
            400,
            f"model_path must be 'pulled:NAME' or a file inside the models directory ({store}).",
            param="model_path",
            code="model_path_outside_store",
        )
        try:
            path = Path(model_path)
            path = (path if path.is_absolute() else store / path).resolve()
            inside = path.is_relative_to(store) and path != store
            found = inside and path.is_file()
        except (OSError, ValueError):
            raise outside from None
        if not inside:
            raise outside
        if not found:
            raise APIError(
                404,
                f"No model file {model_path!r} in the models directory.",
                param="model_path",
                code="model_file_not_found",
            )
        return str(path)

    async def add(self, name: str, model_path: str, keep_alive: float | None) -> RuntimeEntry:
        from ..providers.local.gguf_meta import is_gguf

        async with self._lock:
            if name in self._catalogue:
                raise APIError(
                    409, f"The model {name!r} already exists.", param="name", code="model_exists"
                )
            file = await asyncio.to_thread(self.check_path, model_path)
            if not await asyncio.to_thread(is_gguf, Path(file)):
                raise APIError(
                    400, f"{model_path!r} is not a GGUF file.", param="model_path", code="not_gguf"
                )
            channel_path = model_path if model_path.startswith(PULLED) else file
            model = model_config(name, channel_path, keep_alive)
            self._providers.check([model])
            row = RuntimeModel(name=name, model_path=model_path, keep_alive=keep_alive)
            async with self._db.sessions() as session, session.begin():
                await session.execute(delete(RuntimeModel).where(RuntimeModel.name == name))
                session.add(row)
            self._catalogue.add(model)
            self._names.add(name)
            return _entry(row)

    async def remove(self, name: str) -> RuntimeEntry:
        async with self._lock:
            entry = next((e for e in await self.list() if e.name == name), None)
            if entry is None or name not in self._names:
                raise APIError(
                    404,
                    f"No model {name!r} was added at runtime (models of the settings are "
                    "changed in the settings).",
                    param="name",
                    code="model_not_found",
                )
            async with self._db.sessions() as session, session.begin():
                await session.execute(delete(RuntimeModel).where(RuntimeModel.name == name))
            model = self._catalogue.remove(name)
            self._names.discard(name)
            if model is not None:
                await self._retire(model)
            return entry

    async def _retire(self, model: ModelConfig) -> None:
        """Unload the removed model's engine (after its last request) unless another model
        of the catalogue is served from the same file."""
        provider = self._providers.created("local")
        if provider is None:
            return
        from ..providers.local.provider import LocalProvider

        if not isinstance(provider, LocalProvider):
            return
        channel = model.channels[0]
        try:
            path = provider.model_file(channel)
        except (OSError, ValueError, RuntimeError):
            return
        for other in self._catalogue.models():
            for c in other.channels:
                if c.provider == "local":
                    try:
                        if provider.model_file(c) == path:
                            return
                    except (OSError, ValueError, RuntimeError):
                        continue
        await provider.retire(channel)
