"""One server for the Messages tests: the embedded model, and fake upstreams behind an
Anthropic channel (relayed), an OpenAI-compatible and a Gemini one (translated)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import pytest

from tests.fakes import gemini, openai_upstream
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server

from . import fake_claude

LOCAL = "smollm2-135m-instruct"
CLAUDE = "fake-claude"
GPT = "fake-gpt"
GEMINI = "fake-gemini"


@dataclass
class Upstreams:
    claude: Any
    gpt: Any
    gemini: Any


@dataclass
class Setup:
    server: RunningServer
    upstreams: Upstreams

    def client(self, key: str | None = None, **options: Any) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            base_url=self.server.base_url,
            api_key=key or self.server.admin_key,
            max_retries=0,
            timeout=60,
            **options,
        )


@pytest.fixture(scope="session")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    upstreams = Upstreams(
        fake_claude.create_app(), openai_upstream.create_app(), gemini.create_app()
    )
    with (
        serve_asgi(upstreams.claude) as claude_url,
        serve_asgi(upstreams.gpt) as gpt_url,
        serve_asgi(upstreams.gemini) as gemini_url,
    ):
        channels = {
            CLAUDE: {"provider": "anthropic", "base_url": claude_url, "api_key": "sk-ant-test-1"},
            GPT: {"provider": "openai_compat", "base_url": gpt_url + "/v1", "api_key": "sk-test-1"},
            GEMINI: {"provider": "gemini", "base_url": gemini_url, "api_key": "gm-test-1"},
        }
        models: list[dict[str, Any]] = [{"name": LOCAL, "channels": [{"provider": "local"}]}]
        models += [
            {"name": name, "channels": [{**channel, "upstream_model": name + "-up"}]}
            for name, channel in channels.items()
        ]
        config = {"models": models, "engine": {"slots": 2}}
        with run_server(tmp_path_factory.mktemp("messages"), config=config) as server:
            yield Setup(server, upstreams)
