"""`POST /v1/rerank` on the local ranking stack (e5 cosine blended with keyword terms), in the
shape Jina's and Cohere's clients read; the rerank model listed in `/v1/models`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import RunningServer

MODEL = "multilingual-e5-small-rerank"
DOCS = [
    "Bananas are a yellow fruit rich in potassium.",
    "Paris is the capital and largest city of France.",
    "The stock market fell sharply on Tuesday.",
    "员工每年享有十五天带薪年假。",
]


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.api_url, headers=headers, timeout=60) as client:
        yield client


def test_the_relevant_document_ranks_first(http: httpx.Client) -> None:
    body = {"model": MODEL, "query": "What is the capital of France?", "documents": DOCS}
    response = http.post("/rerank", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == MODEL and answer["id"].startswith("rerank-")
    results = answer["results"]
    assert results[0]["index"] == 1
    assert sorted(r["index"] for r in results) == [0, 1, 2, 3]
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert results[0]["document"] == {"text": DOCS[1]}  # Jina's default: documents returned
    assert answer["usage"]["total_tokens"] > 0
    assert answer["meta"]["billed_units"]["search_units"] == 1


def test_chinese_query_and_top_n(http: httpx.Client) -> None:
    body = {"model": MODEL, "query": "年假有几天？", "documents": DOCS, "top_n": 2}
    results = http.post("/rerank", json=body).json()["results"]
    assert len(results) == 2 and results[0]["index"] == 3


def test_document_objects_and_no_documents_back(http: httpx.Client) -> None:
    documents = [{"text": text} for text in DOCS]
    body = {"model": MODEL, "query": "capital of France", "documents": documents}
    plain = http.post("/rerank", json={**body, "documents": DOCS, "return_documents": False})
    objects = http.post("/rerank", json={**body, "return_documents": False})
    assert objects.status_code == 200, objects.text
    assert objects.json()["results"] == plain.json()["results"]
    assert all("document" not in r for r in objects.json()["results"])


def test_scores_blend_keywords(http: httpx.Client) -> None:
    """A document that holds the query's exact code outranks a near-paraphrase without it."""
    documents = ["Error E4471 means the fan is blocked.", "An error means something failed."]
    body = {"model": MODEL, "query": "error E4471", "documents": documents}
    results = http.post("/rerank", json=body).json()["results"]
    assert results[0]["index"] == 0


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"model": "rerank-english-v3.0"}, 404),
        ({"documents": []}, 400),
        ({"documents": ["x"] * 1001}, 400),
        ({"query": "  "}, 400),
        ({"top_n": 0}, 400),
        ({"documents": ["x" * 8193]}, 400),
    ],
)
def test_bad_requests(http: httpx.Client, change: dict[str, object], status: int) -> None:
    body = {"model": MODEL, "query": "q", "documents": ["a"], **change}
    response = http.post("/rerank", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


def test_listed_in_models(http: httpx.Client) -> None:
    cards = {card["id"]: card for card in http.get("/models").json()["data"]}
    assert cards[MODEL]["endpoints"] == ["rerank"]
    assert cards["multilingual-e5-small"]["endpoints"] == ["embeddings"]
    one = http.get(f"/models/{MODEL}")
    assert one.status_code == 200 and one.json()["endpoints"] == ["rerank"]
