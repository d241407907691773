"""Secrets out of upstream text: an upstream's error may quote the credential it was sent
("Incorrect API key provided: sk-live-…"), and that text reaches tenants and logs.

Removed: the channel's own keys and secret options wherever they appear (also in part: the
visible ends of a key a vendor masks in the middle), and anything shaped like a credential
(`Bearer …`, `sk-…` and the like, Google's `AIza…`, AWS's `AKIA…`, a JWT).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..settings import ChannelConfig
from .errors import UpstreamError

REDACTED = "[redacted]"
_SECRET_OPTION = re.compile(r"key|secret|token|password|^sk$|^ak$", re.IGNORECASE)
_CREDENTIAL = re.compile(
    r"(?i:bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"
    r"|\b(?:sk|rk|pk|ak|tk)-[A-Za-z0-9_\-*]{6,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
    r"|\bAKIA[0-9A-Z]{12,}"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"
)
_PART = 8  # a vendor that masks a key shows its ends: 8 characters of ours are enough to hide


def channel_secrets(channel: ChannelConfig) -> list[str]:
    secrets = list(channel.keys())
    secrets += [
        str(value)
        for name, value in channel.options.items()
        if isinstance(value, str) and _SECRET_OPTION.search(name)
    ]
    return [secret for secret in secrets if len(secret) >= 4]


def redact(text: str, secrets: Iterable[str]) -> str:
    text = _CREDENTIAL.sub(REDACTED, text)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
        if len(secret) >= 2 * _PART:
            text = text.replace(secret[:_PART], REDACTED).replace(secret[-_PART:], REDACTED)
    return text


def redact_error(error: UpstreamError, channel: ChannelConfig) -> UpstreamError:
    """The same error with its message (and param) cleaned, in place."""
    secrets = channel_secrets(channel)
    error.message = redact(error.message, secrets)
    error.args = (error.message,)
    if error.param is not None:
        error.param = redact(error.param, secrets)
    return error
