"""One TLS context for every outgoing connection.

Building a context loads the CA bundle (about 35 ms here); every HTTP client building its own
repeated that at startup and again on the first upstream request.
"""

from __future__ import annotations

import functools
import ssl

import certifi


@functools.cache
def client_tls_context() -> ssl.SSLContext:
    """Verifying context over certifi's bundle (what httpx uses by default)."""
    return ssl.create_default_context(cafile=certifi.where())
