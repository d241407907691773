"""What an ERNIE channel's `options` may hold, and the AK/SK pair they (or the key) give."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field, SecretStr

from ...settings import ChannelConfig
from ..errors import misconfigured

# ERNIE-3.5/4.0 8K models take at most 2048 output tokens; ERNIE's own minimum is 2.
MAX_OUTPUT_TOKENS_CAP = 2048
MIN_OUTPUT_TOKENS = 2


class ErnieOptions(BaseModel, extra="forbid"):
    """An ERNIE channel's `options`; a key not listed here is refused when the config loads.

    The credentials are Baidu's AK/SK pair (the console calls them "API Key" and "Secret
    Key"), under either spelling; without them the channel's key must read `AK|SK`.
    """

    ak: str | None = Field(default=None, min_length=1)
    sk: SecretStr | None = None
    api_key: str | None = Field(default=None, min_length=1)
    secret_key: SecretStr | None = None
    # The Qianfan endpoint name (`completions_pro`, a custom deployment...), else from the model.
    endpoint: str | None = Field(default=None, min_length=1)
    max_output_tokens_cap: int = Field(default=MAX_OUTPUT_TOKENS_CAP, ge=MIN_OUTPUT_TOKENS)


@dataclass(frozen=True, slots=True)
class Credentials:
    ak: str
    sk: str


def credentials(channel: ChannelConfig) -> Credentials:
    """AK/SK from `options` (`ak`/`sk` or `api_key`/`secret_key`) or a key written `AK|SK`."""
    options = channel.typed_options(ErnieOptions)
    ak = options.ak or options.api_key
    secret = options.sk or options.secret_key
    sk = secret.get_secret_value() if secret is not None else None
    if not (ak and sk):
        keys = channel.keys()
        if keys and "|" in keys[0]:
            ak, _, sk = keys[0].partition("|")
    if not (ak and sk):
        raise misconfigured(
            "ERNIE channel needs an API key and secret key (options ak/sk or api_key 'AK|SK')"
        )
    return Credentials(ak, sk)
