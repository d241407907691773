"""A server with image models on fakes of OpenAI's Images API, SD WebUI and Stability AI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.openai_images import create_app as create_openai
from tests.fakes.sd_webui import AUTH
from tests.fakes.sd_webui import create_app as create_sd
from tests.fakes.server import serve_asgi
from tests.fakes.stability import create_app as create_stability
from tests.support.server import RunningServer
from tests.support.stores import STORES, run_on_store

DALLE_PRICES = {"1024x1024": {"standard": 0.04, "hd": 0.08}, "1792x1024": {"standard": 0.08}}


@dataclass
class Fakes:
    openai: Any
    sd: Any
    stability: Any


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[Fakes, dict[str, str]]]:
    apps = Fakes(create_openai(), create_sd(), create_stability())
    with (
        serve_asgi(apps.openai) as oa,
        serve_asgi(apps.sd) as sd,
        serve_asgi(apps.stability) as st,
    ):
        yield apps, {"openai": oa + "/v1", "sd": sd, "stability": st}


@pytest.fixture(scope="module", params=STORES)
def running(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fakes: tuple[Fakes, dict[str, str]],
) -> Iterator[RunningServer]:
    _, url = fakes
    oa = {"provider": "openai_images", "base_url": url["openai"], "api_key": "sk-img-1"}
    config = {
        # one chat model on an upstream, so the embedded engine is not loaded
        "models": [
            {
                "name": "chat-relay",
                "channels": [
                    {"provider": "openai_compat", "base_url": url["openai"], "api_key": "sk-x"}
                ],
            }
        ],
        "images": [
            {
                "name": "dall-e-3",
                "price": DALLE_PRICES,
                "sizes": ["1024x1024", "1792x1024"],
                "max_n": 1,
                "edits": False,
                "channels": [oa | {"upstream_model": "dall-e-3"}],
            },
            {
                "name": "gpt-image-1",
                "price": {"*": {"low": 0.011, "medium": 0.042, "high": 0.167}},
                "sizes": ["1024x1024", "1536x1024"],
                "channels": [oa | {"upstream_model": "gpt-image-1"}],
            },
            {
                "name": "sd-local",
                "price": 0.002,
                "sizes": ["512x512", "768x512"],
                "channels": [
                    {"provider": "sd_webui", "base_url": url["sd"], "api_key": AUTH}
                    | {"upstream_model": "v1-5-pruned-emaonly.safetensors"}
                ],
            },
            {
                "name": "stable-image-core",
                "price": 0.03,
                "sizes": ["1024x1024", "1792x1024"],
                "channels": [
                    {"provider": "stability", "base_url": "http://127.0.0.1:9"}  # unreachable
                    | {"api_key": "sk-stab-1", "upstream_model": "core"},
                    {"provider": "stability", "base_url": url["stability"]}
                    | {"api_key": "sk-stab-1", "upstream_model": "core"},
                ],
            },
            {
                "name": "sd3.5-large",
                "price": 0.065,
                "channels": [
                    {"provider": "stability", "base_url": url["stability"]}
                    | {"api_key": "sk-stab-1", "upstream_model": "sd3.5-large"}
                ],
            },
        ],
    }
    data_dir = tmp_path_factory.mktemp(f"images-{request.param}")
    with run_on_store(request.param, data_dir, config) as server:
        yield server


def admin(server: RunningServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"authorization": f"Bearer {server.admin_key}"}
    )


def new_key(server: RunningServer, **fields: Any) -> dict[str, Any]:
    with admin(server) as http:
        response = http.post("/admin/keys", json={"name": "img", "owner": "o", **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def key_info(server: RunningServer, key_id: str) -> dict[str, Any]:
    with admin(server) as http:
        info: dict[str, Any] = http.get(f"/admin/keys/{key_id}").json()
    return info


def sdk(server: RunningServer, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=key or server.admin_key, max_retries=0)
