"""deploy/: Docker cannot run here, so check what can be: the files parse and fit together."""

from __future__ import annotations

from pathlib import Path

import yaml

from modelport.settings import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def test_compose_file_is_valid_yaml_and_complete() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"lb", "modelport", "postgres", "redis", "milvus", "vllm", "llamacpp"} <= set(services)
    env = services["modelport"]["environment"]
    assert env["MODELPORT_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["MODELPORT_REDIS_URL"].startswith("redis://")
    assert services["modelport"]["deploy"]["replicas"] >= 2
    for mount in services["modelport"]["volumes"]:
        source = mount.split(":", 1)[0]
        if source.startswith("./"):
            assert (DEPLOY / source).exists(), source
    assert "proxy_buffering off" in (DEPLOY / "nginx.conf").read_text()


def test_deploy_catalogue_loads() -> None:
    settings = Settings(config_file=str(DEPLOY / "modelport.yaml"))
    channels = [c for m in settings.models for c in m.channels]
    assert channels and all(c.provider == "openai_compat" and c.base_url for c in channels)
    assert all(m.price.completion > 0 for m in settings.models)
