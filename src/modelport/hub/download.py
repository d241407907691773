"""A resumable, verified download: stream to a `.part` file, resume with `Range`, check size
and SHA-256 against the hub's metadata, then move the file into place atomically."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

Progress = Callable[[int, int], None]  # (bytes done, bytes total)
CHUNK = 1 << 20


class PullError(Exception):
    """A pull that cannot succeed: the message is meant for the user."""


class VerifyError(PullError):
    """The bytes are not the expected ones (size or SHA-256); nothing was kept."""


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at `path`, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify_and_place(part: Path, dest: Path, size: int, sha256: str) -> None:
    """Move `part` to `dest` if it has `size` bytes hashing to `sha256`; else delete it."""
    actual_size = part.stat().st_size
    if actual_size != size:
        part.unlink(missing_ok=True)
        raise VerifyError(f"{dest.name}: {actual_size} bytes, the hub says {size}; discarded")
    actual = sha256_of(part)
    if actual != sha256.lower():
        part.unlink(missing_ok=True)
        raise VerifyError(
            f"{dest.name}: SHA-256 {actual} does not match the hub's {sha256}; discarded"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, dest)


def download(
    client: httpx.Client,
    url: str,
    part: Path,
    *,
    size: int,
    headers: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    retries: int = 5,
) -> None:
    """Fetch `url` into `part` until it holds `size` bytes, resuming from what is there
    (`Range: bytes=N-`, a 206 answer appends; a 200 answer starts over). A connection cut
    mid-body is retried up to `retries` times, each from where it stopped."""
    part.parent.mkdir(parents=True, exist_ok=True)
    failures = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        if have > size:  # not ours, or a different file: start over
            part.unlink()
            have = 0
        if have == size:
            if progress:
                progress(size, size)
            return
        request_headers = dict(headers or {})
        if have:
            request_headers["Range"] = f"bytes={have}-"
        try:
            _fetch(client, url, part, have, size, request_headers, progress)
        except (httpx.TransportError, _Short) as exc:
            failures += 1
            if failures > retries:
                raise PullError(f"download failed after {retries} retries: {exc}") from exc


class _Short(Exception):
    """The body ended before the bytes it announced."""


def _fetch(
    client: httpx.Client,
    url: str,
    part: Path,
    have: int,
    size: int,
    headers: dict[str, str],
    progress: Progress | None,
) -> None:
    with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
        if response.status_code == 416 and have:  # asked past the end: start over
            part.unlink()
            raise _Short("the server refused the resume range; starting over")
        if response.status_code == 404:
            raise PullError(f"not found: {url}")
        if response.status_code >= 400:
            raise PullError(f"{url}: HTTP {response.status_code}")
        mode = "ab"
        if response.status_code != 206:  # the server ignored Range: the body is whole
            mode, have = "wb", 0
        done = have
        with part.open(mode) as fh:
            for block in response.iter_bytes():  # as it comes: a cut keeps all
                fh.write(block)
                done += len(block)
                if progress:
                    progress(min(done, size), size)
                if done > size:
                    break
        if done < size:
            raise _Short(f"the connection ended at byte {done} of {size}")
