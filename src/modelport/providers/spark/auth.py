"""iFlytek's WebSocket URL authentication: HMAC-SHA256 over host, date and the request line."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from email.utils import formatdate
from urllib.parse import urlencode, urlsplit


def signature(api_secret: str, host: str, date: str, path: str) -> str:
    origin = f"host: {host}\ndate: {date}\nGET {path} HTTP/1.1"
    digest = hmac.new(api_secret.encode(), origin.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(
    base_url: str, path: str, api_key: str, api_secret: str, now: float | None = None
) -> str:
    """`{base_url}{path}?authorization=...&date=...&host=...` with an RFC 1123 date."""
    parts = urlsplit(base_url)
    host = parts.netloc
    full_path = parts.path.rstrip("/") + path
    date = formatdate(time.time() if now is None else now, usegmt=True)
    authorization = (
        f'api_key="{api_key}", algorithm="hmac-sha256", headers="host date request-line", '
        f'signature="{signature(api_secret, host, date, full_path)}"'
    )
    query = urlencode(
        {
            "authorization": base64.b64encode(authorization.encode()).decode(),
            "date": date,
            "host": host,
        }
    )
    return f"{parts.scheme}://{host}{full_path}?{query}"
