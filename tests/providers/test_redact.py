"""Secrets out of upstream text, as `providers/redact.py` promises."""

from __future__ import annotations

import pytest

from modelport.providers.errors import UpstreamError
from modelport.providers.redact import REDACTED, redact, redact_error
from modelport.settings import ChannelConfig

KEY = "sk-live-0123456789abcdefABCDEF"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Incorrect API key provided: {KEY}.", f"Incorrect API key provided: {REDACTED}."),
        (
            "Incorrect API key provided: sk-live-****cdef.",
            f"Incorrect API key provided: {REDACTED}.",
        ),
        ("auth header was Bearer abcdefgh12345678", f"auth header was {REDACTED}"),
        ("key AIzaSyA1234567890abcdefghijklmnop is invalid", f"key {REDACTED} is invalid"),
        ("AKIAABCDEFGHIJKLMNOP denied", f"{REDACTED} denied"),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl expired",
            f"token {REDACTED} expired",
        ),
        ("the model gpt-4o is overloaded", "the model gpt-4o is overloaded"),
        ("rate limit: 60 requests per minute", "rate limit: 60 requests per minute"),
    ],
)
def test_credentials_are_redacted_and_the_rest_kept(text: str, expected: str) -> None:
    assert redact(text, [KEY]) == expected


def test_a_channels_own_secrets_are_redacted_even_in_part() -> None:
    channel = ChannelConfig(
        provider="ernie", api_key="plainkey-without-prefix-1234", options={"sk": "ernie-secret-XYZ"}
    )
    error = UpstreamError(
        400, "bad credentials plainkey-without-prefix-1234 / ernie-secret-XYZ (…fix-1234)"
    )
    redact_error(error, channel)
    assert error.message == f"bad credentials {REDACTED} / {REDACTED} (…{REDACTED})"
    assert str(error) == error.message
