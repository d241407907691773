"""`POST /v1/rerank` through upstream rerank channels: Jina and Cohere fakes after their
published shapes, fallback past an unreachable or overloaded channel, the vendor's secret
kept out of errors, a lying upstream refused, and the usage booked and priced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.rerank_vendors import (
    COHERE_KEY,
    JINA_KEY,
    create_cohere_app,
    create_jina_app,
)
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server

DEAD = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
DOCS = ["Paris is the capital of France.", "Bananas are yellow.", "The capital of Peru is Lima."]
QUERY = "What is the capital of France?"


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    jina, cohere = create_jina_app(), create_cohere_app()
    with serve_asgi(jina) as jina_url, serve_asgi(cohere) as cohere_url:
        yield {"jina": jina, "cohere": cohere, "jina_url": jina_url, "cohere_url": cohere_url}


@pytest.fixture(scope="module")
def server(
    fakes: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    jina = {"provider": "jina", "base_url": fakes["jina_url"] + "/v1", "api_key": JINA_KEY}
    config = {
        "rerank": [
            {
                "name": "jina-reranker-v2",
                "price": {"prompt": 0.5},
                "channels": [
                    {**jina, "base_url": DEAD},  # unreachable: the next channel answers
                    {**jina, "upstream_model": "jina-reranker-v2-base-multilingual"},
                ],
            },
            {
                "name": "rerank-v3.5",
                "channels": [
                    {
                        "provider": "cohere",
                        "base_url": fakes["cohere_url"] + "/v2",
                        "api_key": COHERE_KEY,
                    }
                ],
            },
            {"name": "busy", "channels": [{**jina, "upstream_model": "overloaded"}]},
            {"name": "liar", "channels": [{**jina, "upstream_model": "lying"}]},
            {"name": "wrong-key", "channels": [{**jina, "api_key": "jina_wrong_secret_987654321"}]},
        ]
    }
    with run_server(tmp_path_factory.mktemp("rerank") / "data", config=config) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.api_url, headers=headers, timeout=60) as client:
        yield client


def test_jina_after_an_unreachable_channel(http: httpx.Client, fakes: dict[str, Any]) -> None:
    answer = http.post(
        "/rerank", json={"model": "jina-reranker-v2", "query": QUERY, "documents": DOCS, "top_n": 2}
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [0, 2]  # France's capital first, then Lima's
    assert results[0]["document"] == {"text": DOCS[0]}
    sent = fakes["jina"].state.requests[-1]
    assert sent["body"]["model"] == "jina-reranker-v2-base-multilingual"
    assert sent["body"]["top_n"] == 2 and sent["body"]["documents"] == DOCS
    assert sent["headers"]["authorization"] == f"Bearer {JINA_KEY}"
    tokens = sum(len(d.split()) for d in DOCS) + len(QUERY.split())
    assert answer.json()["usage"]["total_tokens"] == tokens  # the vendor's count


def test_cohere_scores_and_an_estimated_count(http: httpx.Client, fakes: dict[str, Any]) -> None:
    body = {"model": "rerank-v3.5", "query": QUERY, "documents": DOCS, "return_documents": False}
    answer = http.post("/rerank", json=body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [0, 2, 1]
    assert all("document" not in r for r in results)
    sent = fakes["cohere"].state.requests[-1]["body"]
    assert "return_documents" not in sent  # Cohere v2 has no such field
    assert answer.json()["usage"]["total_tokens"] > 0  # estimated: Cohere bills search units


def test_listed_with_what_they_serve(http: httpx.Client) -> None:
    cards = {m["id"]: m for m in http.get("/models").json()["data"]}
    assert cards["jina-reranker-v2"]["endpoints"] == ["rerank"]
    assert http.get("/models/rerank-v3.5").json()["endpoints"] == ["rerank"]


def test_upstream_faults_are_clear_and_keep_secrets(http: httpx.Client) -> None:
    busy = http.post("/rerank", json={"model": "busy", "query": QUERY, "documents": DOCS})
    assert busy.status_code == 502 and "overloaded" in busy.json()["error"]["message"]
    liar = http.post("/rerank", json={"model": "liar", "query": QUERY, "documents": DOCS})
    assert liar.status_code == 502
    assert liar.json()["error"]["code"] == "upstream_malformed_response"
    wrong = http.post("/rerank", json={"model": "wrong-key", "query": QUERY, "documents": DOCS})
    assert wrong.status_code == 400, wrong.text  # our key is fine; the channel's is not
    assert "jina_wrong_secret" not in wrong.text and "Invalid API key" in wrong.text


def test_booked_and_priced(server: RunningServer, http: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    created = http.post(
        f"{server.base_url}/admin/keys", json={"owner": "r", "quota": 1.0}, headers=admin
    ).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    body = {"model": "jina-reranker-v2", "query": QUERY, "documents": DOCS}
    assert http.post("/rerank", json=body, headers=key).status_code == 200
    report = http.get(
        f"{server.base_url}/admin/usage", params={"key_id": created["id"]}, headers=admin
    ).json()["totals"]
    tokens = sum(len(d.split()) for d in DOCS) + len(QUERY.split())
    assert (report["requests"], report["prompt_tokens"]) == (1, tokens)
    assert report["cost_micros"] == tokens * 500  # 0.5 per 1,000 tokens


def test_a_rerank_channel_must_rerank(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from modelport.settings import RerankModelConfig

    with pytest.raises(ValidationError, match="does not rerank"):
        RerankModelConfig(name="x", channels=[{"provider": "anthropic"}])  # type: ignore[list-item]
