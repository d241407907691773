"""Drawn images on disk (the file store's content-addressed blobs, under `data_dir/images`)
and the signed, expiring URLs they are served at.

A URL is `/v1/images/files/{id}?expires=<unix time>&signature=<hex>`, the signature an
HMAC-SHA256 over `id` and `expires` with a secret made once per data directory (mode 0600),
so replicas sharing the directory sign alike and a restart keeps old URLs valid until they
expire. Anyone holding the URL may fetch the image until then, as with OpenAI's URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from ..knowledge.blobs import BlobStore

SECRET_FILE = "image_url_secret"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)


def media_type(data: bytes) -> str:
    """The image's type from its first bytes (what a vendor's header says is not trusted)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def load_secret(data_dir: Path) -> bytes:
    """The signing secret, made on first use (exclusively: two processes starting at once
    end up with the one that was written first)."""
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(f"{path} is too short to sign image URLs with") from None
        return secret
    secret = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


class ImageStore:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(data_dir / "images")
        self._secret = load_secret(data_dir)

    def put(self, data: bytes) -> str:
        return self.blobs.put(data)

    def read(self, image_id: str) -> bytes | None:
        try:
            return self.blobs.read(image_id)
        except (ValueError, FileNotFoundError):
            return None

    def signature(self, image_id: str, expires: int) -> str:
        message = f"{image_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def signed_path(self, image_id: str, ttl: int) -> str:
        """The image's path and query, valid for `ttl` seconds from now."""
        expires = int(time.time()) + ttl
        sig = self.signature(image_id, expires)
        return f"/v1/images/files/{image_id}?expires={expires}&signature={sig}"

    def verify(self, image_id: str, expires: int, signature: str) -> bool:
        """Whether the URL was signed here and has not expired."""
        if expires < time.time():
            return False
        return hmac.compare_digest(self.signature(image_id, expires), signature)
