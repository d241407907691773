"""Fake Jina (`POST /v1/rerank`) and Cohere (`POST /v2/rerank`) rerank APIs, after their
published references: Bearer keys, `model`, `query`, `documents`, `top_n`; Jina answers
`{model, usage: {total_tokens}, results: [{index, relevance_score, document?}]}` and errors
as `{"detail": ...}`; Cohere answers `{id, results: [{index, relevance_score}], meta:
{api_version, billed_units: {search_units}}}` and errors as `{"id", "message"}`.

Scores are the share of the query's words found in the document, so rankings are known.
Models named `overloaded` answer 503; `lying` answers results for documents not sent.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JINA_KEY = "jina_test_key_0123456789"
COHERE_KEY = "co-test-key-0123456789"


def _score(query: str, document: str) -> float:
    words = {w.strip("?.,").lower() for w in query.split()}
    found = {w.strip("?.,").lower() for w in document.split()}
    return round(len(words & found) / max(len(words), 1), 6)


def _ranked(body: dict[str, Any]) -> list[dict[str, Any]]:
    documents = [d if isinstance(d, str) else d["text"] for d in body["documents"]]
    scored = [
        {"index": i, "relevance_score": _score(body["query"], text)}
        for i, text in enumerate(documents)
    ]
    scored.sort(key=lambda r: -r["relevance_score"])
    top_n = body.get("top_n")
    return scored[:top_n] if top_n else scored


def create_jina_app() -> Starlette:
    async def rerank(request: Request) -> JSONResponse:
        request.app.state.requests.append(
            {"headers": dict(request.headers), "body": await request.json()}
        )
        if request.headers.get("authorization") != f"Bearer {JINA_KEY}":
            return JSONResponse(
                {"detail": "Invalid API key: " + str(request.headers.get("authorization"))}, 401
            )
        body = request.app.state.requests[-1]["body"]
        if body["model"] == "overloaded":
            return JSONResponse({"detail": "Service overloaded"}, 503)
        results = _ranked(body)
        if body["model"] == "lying":
            results = [{"index": len(body["documents"]) + 5, "relevance_score": 0.9}]
        if body.get("return_documents", True):
            for r in results:
                r["document"] = (
                    {"text": body["documents"][r["index"]]}
                    if r["index"] < len(body["documents"])
                    else {}
                )
        tokens = sum(len(str(d).split()) for d in body["documents"]) + len(body["query"].split())
        return JSONResponse(
            {"model": body["model"], "usage": {"total_tokens": tokens}, "results": results}
        )

    app = Starlette(routes=[Route("/v1/rerank", rerank, methods=["POST"])])
    app.state.requests = []
    return app


def create_cohere_app() -> Starlette:
    async def rerank(request: Request) -> JSONResponse:
        body = await request.json()
        request.app.state.requests.append({"headers": dict(request.headers), "body": body})
        if request.headers.get("authorization") != f"Bearer {COHERE_KEY}":
            return JSONResponse({"id": str(uuid.uuid4()), "message": "invalid api token"}, 401)
        if body["model"] == "overloaded":
            return JSONResponse({"id": str(uuid.uuid4()), "message": "overloaded"}, 503)
        return JSONResponse(
            {
                "id": str(uuid.uuid4()),
                "results": _ranked(body),
                "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
            }
        )

    app = Starlette(routes=[Route("/v2/rerank", rerank, methods=["POST"])])
    app.state.requests = []
    return app
