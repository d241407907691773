"""Uploaded bytes on disk, named by their SHA-256 so identical uploads are stored once."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    """Files under `root/ab/abcdef…`; a name is a digest, never anything a client sent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        """Store `data` (atomically: a reader never sees half a file) and return its digest."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def delete(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)

    def path(self, digest: str) -> Path:
        if not _SHA256.match(digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest


def safe_filename(name: str | None, fallback: str = "upload") -> str:
    """The last path component of a client's file name, without control characters.

    Clients send paths (`../../etc/passwd`, `C:\\docs\\a.pdf`); only the base name is kept,
    and it is only ever shown back or parsed for its extension, never used as a path.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:255] or fallback
