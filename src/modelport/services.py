"""The app's long-lived parts, built once in the lifespan and shared by the routers."""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from .accounting.console_auth import ConsoleAuth, build_signin_limiter
from .accounting.console_sessions import ConsoleSessions
from .accounting.gate import Gate
from .accounting.groups import GroupStore
from .accounting.keys import KeyStore, ensure_bootstrap_admin
from .accounting.ledger_buffer import BufferedLedger
from .accounting.ledger_journal import LedgerJournal
from .accounting.oidc import OidcClient
from .accounting.passwords import Passwords
from .accounting.ratelimit import build_rate_limiter
from .accounting.redeem import RedemptionCodes
from .accounting.reservations import Reservations
from .accounting.usage import NullLedger, UsageLedger
from .accounting.users import UserStore
from .channels.admin import ChannelAdmin
from .channels.checks import ChannelChecks
from .channels.store import ChannelStore
from .channels.sync import ChannelSync
from .chat.kb_grounding import KnowledgeGrounding
from .chat.service import ChatService
from .chat.web_grounding import build_web_grounding
from .images.store import load_secret
from .knowledge.limits import ParseLimits
from .knowledge.service import KnowledgeService, build_knowledge
from .midjourney.midjourney import Midjourney
from .observability.metrics import Metrics
from .providers.base import EngineLoad, ProviderDeps
from .providers.http_client import UpstreamHTTP, default_tls_context
from .providers.registry import ProviderRegistry
from .routing.catalogue import Catalogue
from .routing.router import ChannelRouter
from .routing.runtime_models import RuntimeModels
from .settings import Settings
from .storage.data_dir import secure_data_dir
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
    upstream: UpstreamHTTP  # every vendor adapter's HTTP client
    http: httpx.AsyncClient  # web search's
    codes: RedemptionCodes
    metrics: Metrics
    knowledge: KnowledgeService  # files, knowledge bases, their ingestion
    gate: Gate | None = None  # None with `accounting: false` (benchmarks only)
    midjourney: Midjourney | None = None  # with `midjourney.channels` configured
    runtime_models: RuntimeModels | None = None  # local models added by `/admin/models`
    channels: ChannelAdmin | None = None  # runtime channels (`/admin/channels`)
    channel_checks: ChannelChecks | None = None  # their tests, balances and probe
    console_auth: ConsoleAuth | None = None  # console sign-in and its session cookies

    def engine_loads(self) -> list[EngineLoad]:
        """What the in-process engines are doing, for /health and the metrics."""
        return self.providers.loads()

    async def aclose(self) -> None:
        if self.console_auth is not None:
            await self.console_auth.aclose()
        if self.channel_checks is not None:
            await self.channel_checks.aclose()
        if self.channels is not None:
            await self.channels.aclose()
        if self.midjourney is not None:
            await self.midjourney.aclose()
        await self.knowledge.aclose()
        if self.gate is not None:
            await self.gate.aclose()
        await self.providers.aclose()
        await self.upstream.aclose()
        await self.http.aclose()
        await self.ledger.aclose()  # writes what is still buffered
        await self.db.dispose()


def announce_bootstrap_key(raw: str, path: Path) -> None:
    """Show the first admin key once to the person at the terminal; never into a log file.

    When stderr is not a terminal (a service manager, a redirected log) only the file holding
    the key is named: logs are not the place for a secret.
    """
    where = f"saved to {path} (mode 0600)"
    if sys.stderr.isatty():
        print(f"modelport: created the first admin API key ({where}):\n  {raw}", file=sys.stderr)
    else:
        print(f"modelport: created the first admin API key; it is {where}", file=sys.stderr)
    sys.stderr.flush()


async def start_channels(
    settings: Settings,
    db: Database,
    catalogue: Catalogue,
    providers: ProviderRegistry,
    chat: ChatService,
    upstream: UpstreamHTTP,
) -> tuple[ChannelAdmin, ChannelChecks]:
    """The runtime channels: loaded into the catalogue, watched for changes, and switched
    off by the router when their upstream refuses them."""
    sync = ChannelSync(
        ChannelStore(db),
        catalogue,
        poll_seconds=settings.channels.poll_seconds,
        redis_url=settings.redis_url,
    )
    admin = ChannelAdmin(sync.store, sync, providers)
    await sync.start()
    chat.router.refusals = admin
    checks = ChannelChecks(
        admin,
        providers,
        upstream,
        probe_seconds=settings.channels.probe_seconds,
        timeout=settings.channels.probe_model_timeout,
    )
    checks.start()
    return admin, checks


def build_console_auth(
    settings: Settings, db: Database, keys: KeyStore, http: httpx.AsyncClient
) -> ConsoleAuth:
    accounts = settings.accounts
    oidc = None
    if accounts.oidc is not None:
        # The flow cookie's key: from the client secret when there is one, so that replicas
        # with data directories of their own agree on it.
        secret = accounts.oidc.client_secret
        seed = secret.get_secret_value().encode() if secret else load_secret(settings.data_dir)
        flow_key = hashlib.sha256(b"modelport-oidc-flow:" + seed).digest()
        oidc = OidcClient(accounts.oidc, http, flow_key)
    return ConsoleAuth(
        UserStore(db),
        ConsoleSessions(db, accounts.session_ttl_seconds),
        keys,
        Passwords(),
        build_signin_limiter(settings.redis_url),
        per_user=accounts.signin_per_minute_user,
        per_ip=accounts.signin_per_minute_ip,
        oidc=oidc,
    )


async def build_services(settings: Settings, metrics: Metrics | None = None) -> Services:
    secure_data_dir(settings.data_dir)
    db = Database(settings.resolved_database_url())
    await db.migrate()
    await GroupStore(db).ensure_default()  # a new database is made from the ORM, not 0012
    keys = KeyStore(db)
    if settings.bootstrap_admin_key:
        raw = await ensure_bootstrap_admin(keys, settings.data_dir)
        if raw is not None:
            announce_bootstrap_key(raw, settings.data_dir / "admin_key")
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=64)
    http = httpx.AsyncClient(limits=limits, verify=default_tls_context())
    upstream = UpstreamHTTP(settings.upstream)
    providers = ProviderRegistry(ProviderDeps(settings=settings, http=upstream))
    catalogue = Catalogue(settings.models)
    providers.check(catalogue.models())
    await providers.prepare(catalogue.models())
    runtime_models = RuntimeModels(db, catalogue, providers, settings.data_dir)
    await runtime_models.restore()  # after the settings' models: theirs win a clash
    ledger: UsageLedger = NullLedger(db)
    gate = None
    if settings.accounting:
        journal = LedgerJournal(settings.data_dir / "ledger-journal")
        buffered = BufferedLedger(db, interval=settings.ledger_flush_seconds, journal=journal)
        await buffered.recover()  # usage of requests answered just before a crash
        ledger = buffered
        reservations = Reservations(db, ttl=settings.quota_hold_seconds)
        gate = Gate(reservations, build_rate_limiter(settings.redis_url))
    metrics = metrics or Metrics()
    knowledge = build_knowledge(
        db,
        settings.data_dir,
        ingest=settings.knowledge.ingest,
        embed_threads=settings.knowledge.embed_threads,
        milvus_uri=settings.milvus_uri,
        milvus_token=settings.milvus_token.get_secret_value() if settings.milvus_token else "",
        limits=ParseLimits(
            settings.knowledge.parse_seconds,
            settings.knowledge.max_parse_chars,
            settings.knowledge.max_file_chunks,
        ),
        file_threads=settings.knowledge.file_threads,
        file_threads_per_owner=settings.knowledge.file_threads_per_owner,
    )
    chat = ChatService(
        catalogue,
        providers,
        ledger,
        router=ChannelRouter(settings=settings.routing),
        augmenters=[  # knowledge bases first, then web search
            KnowledgeGrounding(knowledge, settings.knowledge),
            build_web_grounding(settings.search, http),
        ],
        gate=gate,
        metrics=metrics,
        limits=settings.upstream,
    )
    services = Services(
        settings=settings,
        db=db,
        keys=keys,
        ledger=ledger,
        catalogue=catalogue,
        providers=providers,
        chat=chat,
        upstream=upstream,
        http=http,
        codes=RedemptionCodes(db),
        metrics=metrics,
        knowledge=knowledge,
        gate=gate,
        runtime_models=runtime_models,
    )
    services.console_auth = build_console_auth(settings, db, keys, http)
    services.channels, services.channel_checks = await start_channels(
        settings, db, catalogue, providers, chat, upstream
    )
    if settings.midjourney.channels:
        services.midjourney = Midjourney(
            settings.midjourney, db, upstream, services, load_secret(settings.data_dir)
        )
        services.midjourney.start()
    await knowledge.start()  # resumes ingestion a previous run left unfinished
    metrics.watch_queues(
        lambda: [(Path(load.model_path).stem, load.queued) for load in services.engine_loads()]
    )
    return services
