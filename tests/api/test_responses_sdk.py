"""`POST /v1/responses` (and GET/DELETE) through the official SDK's `client.responses`: on the
embedded engine and relayed to an OpenAI-compatible upstream as chat completions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette

from tests.api.knowledge.helpers import new_owner_key
from tests.api.responses_support import LOCAL, RELAYED, client, start, upstream_messages
from tests.support.server import RunningServer

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Starlette]]:
    yield from start(tmp_path_factory.mktemp("responses-sdk"))


def test_relayed_text_with_instructions(running: tuple[RunningServer, Starlette]) -> None:
    server, upstream = running
    reply = client(server).responses.create(
        model=RELAYED, input="hello there", instructions="Be brief.", metadata={"k": "v"}
    )
    assert reply.id.startswith("resp_") and reply.object == "response"
    assert reply.status == "completed" and reply.model == RELAYED
    assert reply.output_text == "Echo: hello there"
    message = reply.output[0]
    assert message.type == "message" and message.id.startswith("msg_")
    assert message.status == "completed" and message.content[0].type == "output_text"
    assert reply.usage is not None and reply.usage.output_tokens == 3
    assert reply.usage.total_tokens == reply.usage.input_tokens + 3
    assert reply.instructions == "Be brief." and reply.metadata == {"k": "v"}
    assert upstream_messages(upstream) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there"},
    ]


def test_previous_response_id_continues_the_conversation(
    running: tuple[RunningServer, Starlette],
) -> None:
    server, upstream = running
    sdk = client(server)
    first = sdk.responses.create(model=RELAYED, input="one", instructions="old rules")
    second = sdk.responses.create(
        model=RELAYED, input="two", previous_response_id=first.id, instructions="new rules"
    )
    assert second.previous_response_id == first.id
    assert upstream_messages(upstream) == [  # the earlier instructions are not carried over
        {"role": "system", "content": "new rules"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "Echo: one"},
        {"role": "user", "content": "two"},
    ]
    third = sdk.responses.create(
        model=RELAYED, input=[{"role": "user", "content": "three"}], previous_response_id=second.id
    )
    assert [m["content"] for m in upstream_messages(upstream)] == [
        "one", "Echo: one", "two", "Echo: two", "three"
    ]  # fmt: skip
    fetched = sdk.responses.retrieve(third.id)
    assert fetched.id == third.id and fetched.output_text == third.output_text
    assert fetched.usage == third.usage


def test_stored_responses_belong_to_their_owner(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    mine = client(server).responses.create(model=RELAYED, input="secret")
    stranger = client(server, new_owner_key(server, "stranger"))
    with pytest.raises(openai.NotFoundError) as caught:
        stranger.responses.retrieve(mine.id)
    assert caught.value.code == "response_not_found"
    with pytest.raises(openai.NotFoundError) as continued:
        stranger.responses.create(model=RELAYED, input="more", previous_response_id=mine.id)
    assert continued.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        stranger.responses.delete(mine.id)
    client(server).responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        client(server).responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        client(server).responses.delete(mine.id)


def test_store_false_keeps_nothing(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    sdk = client(server)
    reply = sdk.responses.create(model=RELAYED, input="forget me", store=False)
    assert reply.output_text == "Echo: forget me" and reply.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(reply.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.create(model=RELAYED, input="again", previous_response_id=reply.id)
    streamed = sdk.responses.create(model=RELAYED, input="and me", store=False, stream=True)
    done = [e for e in streamed if e.type == "response.completed"]
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(done[0].response.id)


def test_function_calls_and_their_outputs(running: tuple[RunningServer, Starlette]) -> None:
    server, upstream = running
    sdk = client(server)
    asked = sdk.responses.create(model=RELAYED, input="please call it", tools=[WEATHER])
    call = asked.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.id is not None and call.id.startswith("fc_") and call.call_id == "call_fake0"
    assert json.loads(call.arguments)["query"] == "please call it"
    sent = upstream.state.requests[-1]["body"]
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21C"}
    answer = sdk.responses.create(
        model=RELAYED, input=[output], previous_response_id=asked.id, tools=[WEATHER]
    )
    assert answer.status == "completed"
    messages = upstream_messages(upstream)
    assert messages[-2]["role"] == "assistant"
    assert messages[-2]["tool_calls"][0]["id"] == "call_fake0"
    assert messages[-2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert messages[-1] == {"role": "tool", "tool_call_id": "call_fake0", "content": "sunny, 21C"}
    # The Agents SDK's way: the whole conversation sent back as input, output items included.
    items: list[Any] = [{"role": "user", "content": "please call it"}]
    items += [item.model_dump(exclude_none=True) for item in asked.output] + [output]
    sdk.responses.create(model=RELAYED, input=items, tools=[WEATHER], store=False)
    relayed = upstream_messages(upstream)
    assert [m["role"] for m in relayed] == ["user", "assistant", "tool"]
    assert relayed[1]["tool_calls"] == messages[-2]["tool_calls"] and relayed[2] == messages[-1]
    forced = sdk.responses.create(
        model=RELAYED,
        input="no verb here",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    assert forced.output[0].type == "function_call"
    sent = upstream.state.requests[-1]["body"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_max_output_tokens_and_text_format(running: tuple[RunningServer, Starlette]) -> None:
    server, upstream = running
    sdk = client(server)
    cut = sdk.responses.create(model=RELAYED, input="a b c d e f", max_output_tokens=2)
    assert cut.status == "incomplete" and cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert cut.output[0].status == "incomplete" and cut.output_text == "Echo: a"
    assert upstream.state.requests[-1]["body"]["max_tokens"] == 2
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    text = {"format": {"type": "json_schema", "name": "thing", "schema": schema, "strict": True}}
    shaped = sdk.responses.create(model=RELAYED, input="json please", text=text)  # type: ignore[arg-type]
    assert shaped.text is not None and shaped.text.format is not None
    assert shaped.text.format.type == "json_schema"
    sent = upstream.state.requests[-1]["body"]["response_format"]
    assert sent == {
        "type": "json_schema",
        "json_schema": {"name": "thing", "schema": schema, "strict": True},
    }


def test_relayed_stream_through_the_sdk_helper(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    with client(server).responses.stream(model=RELAYED, input="stream me please") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text == "Echo: stream me please" and final.status == "completed"
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds.count("response.output_text.delta") == 4
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert client(server).responses.retrieve(final.id).output_text == final.output_text


def test_relayed_stream_of_a_function_call(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    events = list(
        client(server).responses.create(
            model=RELAYED, input="call the tool", tools=[WEATHER], stream=True
        )
    )
    arguments = "".join(
        e.delta for e in events if e.type == "response.function_call_arguments.delta"
    )
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done and done[0].arguments == arguments and json.loads(arguments)["limit"] == 3
    final = events[-1]
    assert final.type == "response.completed"
    item = final.response.output[0]
    assert item.type == "function_call" and item.arguments == arguments


def test_local_model_answers_and_streams(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    sdk = client(server)
    reply = sdk.responses.create(
        model=LOCAL, input="Say hello.", max_output_tokens=12, temperature=0
    )
    assert reply.output_text.strip() and reply.usage is not None
    assert 0 < reply.usage.output_tokens <= 12
    follow = sdk.responses.create(
        model=LOCAL, input="Again.", previous_response_id=reply.id, max_output_tokens=4
    )
    assert follow.usage is not None and follow.usage.input_tokens > reply.usage.input_tokens
    events = list(
        sdk.responses.create(model=LOCAL, input="Count to three.", max_output_tokens=8, stream=True)
    )
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    last = events[-1]
    # Cut at 8 tokens: `response.incomplete` (the SDK's `stream()` helper waits for
    # `response.completed` only, as it does against OpenAI).
    assert last.type in ("response.completed", "response.incomplete")
    final = last.response
    assert "".join(deltas) == final.output_text and final.output_text
    assert final.usage is not None and 0 < final.usage.output_tokens <= 8


class City(BaseModel):
    name: str
    population: int


def test_local_model_parses_a_json_schema(running: tuple[RunningServer, Starlette]) -> None:
    server, _ = running
    parsed = client(server).responses.parse(
        model=LOCAL,
        input="Give a city and its population as JSON.",
        text_format=City,
        max_output_tokens=60,
        temperature=0,
    )
    assert isinstance(parsed.output_parsed, City), parsed.output_text


def test_a_response_is_admitted_and_booked_as_chat(
    running: tuple[RunningServer, Starlette],
) -> None:
    server, _ = running
    admin = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.admin_key}"}
    )
    created = admin.post("/admin/keys", json={"name": "r", "owner": "booked"}).json()
    sdk = client(server, created["key"])
    sdk.responses.create(model=RELAYED, input="count me")
    list(sdk.responses.create(model=RELAYED, input="and me", stream=True))
    deadline = time.monotonic() + 20
    while True:
        report = admin.get("/admin/usage", params={"key_id": created["id"]}).json()
        if report["totals"]["requests"] >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert report["totals"]["requests"] == 2
    assert report["totals"]["completion_tokens"] == 3 + 3  # "Echo: count me", "Echo: and me"
    limited = admin.post(
        "/admin/keys", json={"name": "r", "owner": "booked", "allowed_models": [LOCAL]}
    ).json()
    with pytest.raises(openai.APIStatusError) as refused:
        client(server, limited["key"]).responses.create(model=RELAYED, input="no")
    assert refused.value.status_code in (403, 404)
