"""The app's long-lived parts, built once in the lifespan and shared by the routers."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

import httpx

from .accounting.keys import KeyStore, ensure_bootstrap_admin
from .accounting.usage import UsageLedger
from .chat.service import ChatService
from .providers.base import ProviderDeps
from .providers.registry import ProviderRegistry
from .routing.catalogue import Catalogue
from .routing.router import ChannelRouter
from .settings import Settings
from .storage.db import Database

log = logging.getLogger("modelport")


@dataclass
class Services:
    settings: Settings
    db: Database
    keys: KeyStore
    ledger: UsageLedger
    catalogue: Catalogue
    providers: ProviderRegistry
    chat: ChatService
    http: httpx.AsyncClient

    def local_engines(self) -> list[Any]:
        """Engines of in-process providers (those that expose `engines()`), for health/metrics."""
        engines: list[Any] = []
        for provider in self.providers.instances():
            lister = getattr(provider, "engines", None)
            if lister is not None:
                engines.extend(lister())
        return engines

    async def aclose(self) -> None:
        await self.providers.aclose()
        await self.http.aclose()
        await self.db.dispose()


async def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url())
    await db.migrate()
    keys = KeyStore(db)
    if settings.bootstrap_admin_key:
        raw = await ensure_bootstrap_admin(keys, settings.data_dir)
        if raw is not None:
            # Shown once so `make serve` is usable at once; it is also in a 0600 file.
            print(
                f"modelport: created the first admin API key (saved to "
                f"{settings.data_dir / 'admin_key'}):\n  {raw}",
                file=sys.stderr,
                flush=True,
            )
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=512, max_keepalive_connections=64))
    providers = ProviderRegistry(ProviderDeps(settings=settings, http=http))
    catalogue = Catalogue(settings.models)
    for model in catalogue.models():
        for channel in model.channels:
            prepare = getattr(providers.get(channel.provider), "prepare", None)
            if prepare is not None:
                await prepare(channel)
    ledger = UsageLedger(db)
    chat = ChatService(catalogue, providers, ledger, ChannelRouter(settings=settings.routing))
    return Services(settings, db, keys, ledger, catalogue, providers, chat, http)
