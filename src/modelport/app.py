"""The app factory: wiring only."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import __version__
from .api import channels, chat, completions, health, messages, models
from .api.account import router as account_router
from .api.admin import router as admin_router
from .api.admin_codes import router as admin_codes_router
from .api.admin_groups import router as admin_groups_router
from .api.admin_models import router as admin_models_router
from .api.admin_users import router as admin_users_router
from .api.auth import roles_router as auth_roles_router
from .api.auth import router as auth_router
from .api.console import attach_console
from .api.dashboard import router as dashboard_router
from .api.edge import EdgeMiddleware
from .api.embeddings import router as embeddings_router
from .api.errors import install_error_handlers
from .api.files import router as files_router
from .api.images import router as images_router
from .api.kb_search import router as kb_search_router
from .api.kbs import router as kbs_router
from .api.knowledge_deps import install_knowledge_errors
from .api.metrics import router as metrics_router
from .api.midjourney import admin_router as midjourney_admin_router
from .api.midjourney import router as midjourney_router
from .api.oidc import router as oidc_router
from .api.openapi import install_openapi
from .api.request_log import router as request_log_router
from .api.rerank import router as rerank_router
from .api.responses import router as responses_router
from .api.translate import router as translate_router
from .api.user_keys import router as user_keys_router
from .observability.logs import configure_logging
from .observability.metrics import Metrics
from .services import build_services
from .settings import Settings

MULTIPART_OVERHEAD = 64 * 1024


GC_YOUNG_THRESHOLD = 20_000


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()  # the edge layer observes every request into it; so do the services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_json)
        services = await build_services(settings, metrics)
        app.state.services = services
        # Everything built so far lives as long as the process: frozen out of the collector's
        # sight. Requests' garbage is nearly all freed by refcount, so young collections can
        # be rarer than every 700 allocations (measured with bench/gateway.py: the freeze and
        # a 20000 threshold take ~5% off the CPU of a proxied request).
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD)
        logging.getLogger("modelport").info("modelport ready")
        try:
            yield
        finally:
            await services.aclose()

    app = FastAPI(title="modelport", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    install_openapi(app)
    install_knowledge_errors(app)
    for module in (chat, completions, messages, models, health, channels):
        app.include_router(module.router)
    for router in (admin_router, admin_models_router, account_router, metrics_router):
        app.include_router(router)
    app.include_router(files_router)
    app.include_router(kbs_router)
    app.include_router(embeddings_router)
    app.include_router(rerank_router)
    app.include_router(kb_search_router)
    app.include_router(request_log_router)
    app.include_router(dashboard_router)
    app.include_router(responses_router)
    app.include_router(images_router)
    app.include_router(translate_router)
    app.include_router(midjourney_router)
    app.include_router(midjourney_admin_router)
    app.include_router(admin_users_router)
    app.include_router(admin_groups_router)
    app.include_router(admin_codes_router)
    app.include_router(user_keys_router)
    app.include_router(auth_router)
    app.include_router(auth_roles_router)
    app.include_router(oidc_router)
    attach_console(app)
    # Uploads get the file limit plus room for the multipart framing; the router checks the
    # file itself.
    upload_limit = settings.max_file_bytes + MULTIPART_OVERHEAD
    app.add_middleware(
        EdgeMiddleware,  # request id, access log and metrics, body limit
        metrics=metrics,
        max_bytes=settings.max_body_bytes,
        overrides={"/v1/files": max(upload_limit, settings.max_body_bytes)},
    )
    return app
