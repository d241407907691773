"""`images:` in the settings is checked when they load."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from modelport.images.service import cost_micros
from modelport.settings import Settings

CHANNEL = {"provider": "stability", "base_url": "https://api.stability.ai", "api_key": "k"}


def _images(*models: dict[str, Any]) -> Settings:
    return Settings(images=list(models))


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ({"name": "a", "channels": [CHANNEL | {"provider": "midjourney"}]}, "provider"),
        ({"name": "a", "channels": []}, "channels"),
        ({"name": "a", "channels": [CHANNEL], "price": -1}, "negative"),
        ({"name": "a", "channels": [CHANNEL], "sizes": ["big"]}, "WIDTHxHEIGHT"),
        ({"name": "a", "channels": [CHANNEL | {"base_url": "ftp://x"}]}, "http"),
        ({"name": "a", "channels": [CHANNEL], "colour": "red"}, "colour"),
    ],
)
def test_bad_image_models_stop_the_start(model: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        _images(model)


def test_duplicate_names_are_refused() -> None:
    model = {"name": "a", "channels": [CHANNEL]}
    with pytest.raises(ValidationError, match="duplicate"):
        _images(model, model)


def test_price_lookup() -> None:
    table = {"1024x1024": {"standard": 0.04, "hd": 0.08}, "*": {"*": 0.1}}
    model = _images({"name": "a", "channels": [CHANNEL], "price": table}).images[0]
    assert model.price_of("1024x1024", None) == 0.04  # the size's first quality
    assert model.price_of("1024x1024", "hd") == 0.08
    assert model.price_of("1024x1024", "ultra") is None
    assert model.price_of("1792x1024", "hd") == 0.1
    flat = _images({"name": "b", "channels": [CHANNEL], "price": 0.03}).images[0]
    assert flat.price_of("512x512", "anything") == 0.03
    assert cost_micros(0.04, 3) == 120_000 and cost_micros(0.04, 1, 1.5) == 60_000
