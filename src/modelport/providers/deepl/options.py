"""What a DeepL channel's `options` may hold, and the host its key belongs to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ...settings import ChannelConfig

FREE_BASE_URL = "https://api-free.deepl.com"
PRO_BASE_URL = "https://api.deepl.com"
FREE_KEY_SUFFIX = ":fx"  # DeepL API Free keys end so

Formality = Literal["default", "more", "less", "prefer_more", "prefer_less"]


class DeepLOptions(BaseModel, extra="forbid"):
    """A DeepL channel's `options`: the language the model translates into (DeepL's codes:
    `ZH`, `EN-US`, `JA`, ...), and optionally the source language and the formality."""

    target_lang: str = Field(min_length=2, max_length=16)
    source_lang: str | None = Field(default=None, min_length=2, max_length=16)
    formality: Formality | None = None


def base_url(channel: ChannelConfig, key: str) -> str:
    """The channel's `base_url`, else DeepL's free host for a `:fx` key, else the pro host."""
    if channel.base_url:
        return channel.base_url.rstrip("/")
    return FREE_BASE_URL if key.endswith(FREE_KEY_SUFFIX) else PRO_BASE_URL
