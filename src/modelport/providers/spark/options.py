"""A Spark channel's `options`, checked at start-up, and what they resolve to per request."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

from ...protocol.chat import ChatCompletionRequest
from ...settings import ChannelConfig
from ..errors import misconfigured

# API version → (path, parameter.chat.domain), from iFlytek's Spark Web API document.
VERSIONS: dict[str, tuple[str, str]] = {
    "v1.1": ("/v1.1/chat", "lite"),
    "v2.1": ("/v2.1/chat", "generalv2"),
    "v3.1": ("/v3.1/chat", "generalv3"),
    "v3.5": ("/v3.5/chat", "generalv3.5"),
    "v4.0": ("/v4.0/chat", "4.0Ultra"),
    "pro-128k": ("/chat/pro-128k", "pro-128k"),
    "max-32k": ("/chat/max-32k", "max-32k"),
}
# Product names people put in `upstream_model` → the API version serving them.
ALIASES: dict[str, str] = {
    "spark-lite": "v1.1",
    "lite": "v1.1",
    "spark-pro": "v3.1",
    "generalv3": "v3.1",
    "spark-max": "v3.5",
    "generalv3.5": "v3.5",
    "spark-4.0-ultra": "v4.0",
    "4.0ultra": "v4.0",
    "spark-pro-128k": "pro-128k",
    "spark-max-32k": "max-32k",
}
MAX_TOKENS_CAP = 8192


def known_version(name: str) -> str | None:
    """The API version a version or product name means (any case), if we know it."""
    key = name.lower()
    version = ALIASES.get(key, key)
    return version if version in VERSIONS else None


class SparkOptions(BaseModel, extra="forbid"):
    """`options` of a Spark channel. `api_key` may be the channel's `api_key` instead;
    `path`/`domain` override what `version` (else `upstream_model`, else the model) picks."""

    app_id: str = Field(min_length=1)
    api_secret: SecretStr = Field(min_length=1)
    api_key: SecretStr | None = None
    version: str | None = None
    path: str | None = Field(default=None, pattern=r"^/")
    domain: str | None = Field(default=None, min_length=1)
    max_tokens_cap: int = Field(default=MAX_TOKENS_CAP, ge=1)

    @model_validator(mode="after")
    def _version_is_known(self) -> Self:
        named = self.version is not None and known_version(self.version) is not None
        if self.version is not None and not named and not (self.path and self.domain):
            raise ValueError(unknown_version(self.version))
        return self


def unknown_version(name: str) -> str:
    return (
        f"unknown Spark version '{name}'; set options.version to one of {sorted(VERSIONS)} "
        "or give options.path and options.domain"
    )


def spark_options(channel: ChannelConfig) -> SparkOptions:
    """The channel's options (already checked at start-up for a catalogue channel)."""
    try:
        return channel.typed_options(SparkOptions)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in ("options", *first["loc"]))
        raise misconfigured(f"Spark channel {where}: {first['msg']}") from None


def endpoint(
    options: SparkOptions, channel: ChannelConfig, request: ChatCompletionRequest
) -> tuple[str, str]:
    """The path and `domain` to call: `path`/`domain` options win over the version table."""
    name = options.version or channel.upstream_model or request.model
    version = known_version(name)
    path, domain = VERSIONS[version] if version is not None else (None, None)
    path, domain = options.path or path, options.domain or domain
    if not path or not domain:
        raise misconfigured(unknown_version(name))
    return path, domain


def api_key_of(options: SparkOptions, channel: ChannelConfig) -> str:
    """`options.api_key`, else the channel's first key: it pairs with `api_secret`, so the
    channel's other keys are not rotated through."""
    if options.api_key is not None:
        return options.api_key.get_secret_value()
    keys = channel.keys()
    if not keys:
        raise misconfigured("Spark channel needs an api_key (the channel's or options.api_key)")
    return keys[0]
