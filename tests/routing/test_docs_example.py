"""The worked example in docs/channels.md is a valid catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from modelport.providers.registry import BUILTIN_PROVIDERS, check_catalogue
from modelport.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "channels.md"


def test_documented_catalogue_validates() -> None:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None
    data = yaml.safe_load(block.group(1))
    settings = Settings(models=data["models"], routing=data["routing"])
    providers = {c.provider for m in settings.models for c in m.channels}
    assert providers == set(BUILTIN_PROVIDERS)
    gpt4 = settings.models[0]
    assert gpt4.channels[0].keys() == ["sk-live-aaaa", "sk-live-bbbb"]
    assert gpt4.channels[0].first_token_timeout == 20 and gpt4.channels[0].idle_timeout == 30
    assert settings.routing.breaker_cooldown == 30
    check_catalogue(settings.models)  # what `modelport serve` checks at start-up


def test_every_documented_catalogue_passes_the_start_up_check() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    catalogues = [yaml.safe_load(b) for b in blocks if "models:" in b]
    assert len(catalogues) >= 2
    for data in catalogues:
        check_catalogue(Settings(models=data["models"]).models)
