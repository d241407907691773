"""/v1/embeddings through the official SDK (which asks for base64) and as plain floats."""

from __future__ import annotations

import math

import httpx
import openai
import pytest

from tests.support.server import RunningServer


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_sdk_embeddings_rank_the_matching_passage_first(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    texts = ["员工每年享有十五天带薪年假。", "The canteen serves lunch until 2pm.", "年假有几天？"]
    result = client.embeddings.create(model="Baichuan-Text-Embedding", input=texts)
    vectors = [item.embedding for item in result.data]
    assert [item.index for item in result.data] == [0, 1, 2]
    assert all(len(v) == 384 and math.isclose(_cosine(v, v), 1.0, rel_tol=1e-3) for v in vectors)
    assert _cosine(vectors[2], vectors[0]) > _cosine(vectors[2], vectors[1])
    assert result.usage.prompt_tokens > 0 and result.model == "Baichuan-Text-Embedding"


def test_float_format_matches_base64_and_bad_requests_fail(server: RunningServer) -> None:
    http = httpx.Client(
        base_url=server.api_url,
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=60,
    )
    body = {"model": "multilingual-e5-small", "input": "hello"}
    floats = http.post("/embeddings", json=body).json()["data"][0]["embedding"]
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    decoded = client.embeddings.create(model="multilingual-e5-small", input="hello")
    assert all(
        math.isclose(x, y, abs_tol=1e-6)
        for x, y in zip(floats, decoded.data[0].embedding, strict=True)
    )
    unknown = http.post("/embeddings", json={**body, "model": "text-embedding-3-large"})
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "model"
    assert http.post("/embeddings", json={**body, "input": []}).status_code == 400
    assert http.post("/embeddings", json={**body, "dimensions": 1024}).status_code == 400


def test_2048_inputs_in_one_call(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    texts = [f"note {i}" for i in range(2048)]  # OpenAI's bound; LangChain sends 1000
    result = client.embeddings.create(model="multilingual-e5-small", input=texts)
    assert [item.index for item in result.data] == list(range(2048))
    assert all(len(item.embedding) == 384 for item in result.data)
    single = client.embeddings.create(model="multilingual-e5-small", input=texts[1500])
    assert all(
        math.isclose(x, y, abs_tol=1e-5)
        for x, y in zip(single.data[0].embedding, result.data[1500].embedding, strict=True)
    )
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="multilingual-e5-small", input=[*texts, "one more"])


def test_token_id_inputs_get_a_clear_400(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    for tokens in ([9906, 1917], [[9906, 1917], [15339]]):  # LangChain's tiktoken ids
        with pytest.raises(openai.BadRequestError) as refused:
            client.embeddings.create(model="multilingual-e5-small", input=tokens)
        assert "token ids are not supported" in refused.value.message
        assert "check_embedding_ctx_length=False" in refused.value.message


def test_embedding_models_are_listed(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    listed = {model.id for model in client.models.list()}
    assert {"multilingual-e5-small", "Baichuan-Text-Embedding"} <= listed
    assert "smollm2-135m-instruct" in listed
    card = client.models.retrieve("multilingual-e5-small")
    assert card.id == "multilingual-e5-small" and card.object == "model"
    # What each serves, so clients (and the console's playground) tell them apart.
    assert card.model_extra == {"endpoints": ["embeddings"]}
    chat = client.models.retrieve("smollm2-135m-instruct")
    assert chat.model_extra is not None
    assert chat.model_extra["endpoints"] == ["chat/completions", "completions"]
    assert chat.model_extra["loaded"] is True  # the local model, loaded at start-up
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("text-embedding-3-large")
