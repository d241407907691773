"""Images in OpenAI messages, as the parts other vendors want."""

from __future__ import annotations

import re

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.+)$", re.DOTALL)


def split_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 payload) of a `data:` URL, or None for any other URL."""
    match = _DATA_URL.match(url)
    return (match.group("mime"), match.group("data")) if match else None
