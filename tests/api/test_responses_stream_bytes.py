"""The Responses event stream read as raw bytes: every event `event: <type>` + `data: <json>`
with sequence numbers from 0 and no `[DONE]`, in OpenAI's published order; `file_search`
over a knowledge base with its cites as `file_citation` annotations; the 400s."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.api.knowledge.helpers import ENGLISH_DOC, OTHER_ENGLISH_DOC, KbApi
from tests.api.responses_support import LOCAL, RELAYED, client, post, raw_events, start
from tests.support.server import RunningServer

TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
OPENING = ["response.created", "response.in_progress"]
TEXT_CLOSE = [
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]
QUESTION = "What is the daily meal allowance on business trips?"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Starlette]]:
    yield from start(tmp_path_factory.mktemp("responses-bytes"))


def test_text_events_in_order(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    response = post(server, {"model": RELAYED, "input": "stream me", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = raw_events(response.text)
    assert [kind for kind, _ in events] == [
        *OPENING,
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        *TEXT_CLOSE,
        "response.completed",
    ]
    created, added, part = events[0][1], events[2][1], events[3][1]
    assert created["response"]["status"] == "in_progress" and created["response"]["output"] == []
    item_id = added["item"]["id"]
    assert added["output_index"] == 0 and added["item"]["status"] == "in_progress"
    assert part == {
        "type": "response.content_part.added",
        "sequence_number": 3,
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
    }
    deltas = [p["delta"] for kind, p in events if kind == "response.output_text.delta"]
    assert deltas == ["Echo:", " stream", " me"]
    assert all(p.get("item_id", p.get("item", {}).get("id")) == item_id for _, p in events[2:-1])
    assert events[7][1]["text"] == "Echo: stream me"
    done = events[9][1]["item"]
    assert done["status"] == "completed" and done["content"][0]["text"] == "Echo: stream me"
    final = events[-1][1]["response"]
    assert final["id"] == created["response"]["id"] and final["status"] == "completed"
    assert final["output"] == [done] and final["usage"]["output_tokens"] == 3


def test_function_call_events_in_order(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    body = {"model": RELAYED, "input": "call it", "tools": [TOOL], "stream": True}
    events = raw_events(post(server, body).text)
    kinds = [kind for kind, _ in events]
    deltas = kinds.count("response.function_call_arguments.delta")
    assert deltas > 1
    assert kinds == [
        *OPENING,
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * deltas,
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2][1]["item"]
    assert added["type"] == "function_call" and added["name"] == "lookup"
    assert added["arguments"] == "" and added["call_id"] == "call_fake0"
    arguments = "".join(p["delta"] for k, p in events if k.endswith("arguments.delta"))
    assert json.loads(arguments)["query"] == "call it"
    assert events[-3][1]["arguments"] == arguments and events[-3][1]["name"] == "lookup"
    assert events[-2][1]["item"] == {**added, "arguments": arguments, "status": "completed"}
    assert events[-1][1]["response"]["output"] == [events[-2][1]["item"]]


def test_a_cut_answer_ends_incomplete(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    body = {"model": RELAYED, "input": "a b c d", "max_output_tokens": 2, "stream": True}
    events = raw_events(post(server, body).text)
    assert [k for k, _ in events][-5:] == [
        "response.output_text.delta",
        *TEXT_CLOSE,
        "response.incomplete",
    ]
    final = events[-1][1]["response"]
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][0]["status"] == "incomplete"


def test_a_failure_mid_stream_is_an_error_then_failed(
    running: tuple[RunningServer, Starlette],
) -> None:
    server, _ = running
    body = {"model": RELAYED, "input": "break FAULT:truncate now", "stream": True}
    response = post(server, body)
    assert response.status_code == 200
    events = raw_events(response.text)
    kinds = [k for k, _ in events]
    assert kinds[:2] == OPENING and kinds[-2:] == ["error", "response.failed"]
    error = events[-2][1]
    assert error["message"] and error["code"]
    failed = events[-1][1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == error["code"]
    # a failed response is not stored:
    lookup = post(server, {"model": RELAYED, "input": "x", "previous_response_id": failed["id"]})
    assert lookup.status_code == 404


def test_file_search_cites_the_knowledge_base(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    kb_id, (travel, _) = KbApi(server).kb_with(
        ("travel.md", ENGLISH_DOC), ("plants.txt", OTHER_ENGLISH_DOC)
    )
    tools = [{"type": "file_search", "vector_store_ids": [kb_id]}]
    reply = client(server).responses.create(
        model=LOCAL,
        input=QUESTION,
        tools=tools,  # type: ignore[arg-type]
        include=["file_search_call.results"],
        max_output_tokens=24,
    )
    search, message = reply.output
    assert search.type == "file_search_call" and search.status == "completed"
    assert search.queries == [QUESTION]
    assert search.results and search.results[0].file_id == travel
    assert search.results[0].filename == "travel.md" and "45 euros" in (
        search.results[0].text or ""
    )
    assert message.type == "message"
    notes = message.content[0].annotations  # type: ignore[union-attr]
    assert notes and notes[0].type == "file_citation" and notes[0].file_id == travel
    assert notes[0].filename == "travel.md"  # type: ignore[union-attr]
    assert 0 <= notes[0].index <= len(reply.output_text)  # type: ignore[union-attr]
    body = {"model": LOCAL, "input": QUESTION, "tools": tools, "stream": True}
    events = raw_events(post(server, {**body, "max_output_tokens": 16}).text)
    kinds = [k for k, _ in events]
    assert kinds[:7] == [
        *OPENING,
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
    ]
    assert events[2][1]["item"]["type"] == "file_search_call"
    assert events[7][1]["output_index"] == 1 and events[7][1]["item"]["type"] == "message"
    annotated = [p for k, p in events if k == "response.output_text.annotation.added"]
    assert annotated and annotated[0]["annotation"]["file_id"] == travel
    at = kinds.index("response.output_text.annotation.added")
    assert kinds[at + len(annotated) :] == [*TEXT_CLOSE, kinds[-1]]
    final = events[-1][1]["response"]
    assert final["output"][1]["content"][0]["annotations"][0]["file_id"] == travel
    unknown = post(
        server, {**body, "tools": [{"type": "file_search", "vector_store_ids": ["kb_x"]}]}
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"input": "hi"}, 400, "model"),
        ({"model": RELAYED, "input": []}, 400, "input"),
        ({"model": RELAYED, "input": "hi", "background": True}, 400, "background"),
        ({"model": "no-such-model", "input": "hi"}, 404, "no-such-model"),
        ({"model": RELAYED, "input": "hi", "tools": [{"type": "computer_use"}]}, 400, "tools"),
        (
            {
                "model": RELAYED,
                "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}],
            },
            400,
            "file_search",
        ),
        ({"model": RELAYED, "input": "hi", "previous_response_id": "resp_nope"}, 404, "resp_nope"),
    ],
)
def test_refusals(
    running: tuple[RunningServer, Starlette], body: dict[str, object], status: int, needle: str
) -> None:
    server, _ = running
    response = post(server, body)
    assert response.status_code == status, response.text
    assert needle in json.dumps(response.json()["error"])


def test_the_openapi_document_shows_the_routes(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    document = httpx.get(server.base_url + "/openapi.json", timeout=30).json()
    create = document["paths"]["/v1/responses"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ResponseCreateRequest"}
    assert "ResponseCreateRequest" in document["components"]["schemas"]
    assert {"get", "delete"} <= set(document["paths"]["/v1/responses/{response_id}"])
