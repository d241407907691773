"""Property tests for the edge of the wire: the served chat route and the SSE writer.

Any JSON a client can send (any unicode, lone surrogates, huge numbers, deep nesting, empty
or duplicated fields) is posted to `POST /v1/chat/completions` of the running server (the
hardening suite's `modelport serve`): it either becomes a valid request (which, for a model
the server does not serve, is the 404 `model_not_found`) or the 400 envelope, exactly as
production sends it; and every frame the stream writes parses back to what was sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.applications import Starlette

from modelport.chat.sse import DONE, error_event, event
from modelport.chat.stream import ChatStream
from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk, ChunkChoice, Delta, Usage
from modelport.protocol.errors import APIError
from modelport.providers.budget import OutputBudget
from modelport.providers.stream import Batch, ProviderStream, StreamEnd
from modelport.routing.health import CircuitBreaker
from modelport.routing.timeouts import WatchedStream
from modelport.settings import ChannelConfig
from tests.support.server import RunningServer

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Every code point, lone surrogates included (JSON can carry them as \\udXXX escapes).
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, any_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)
    ),
    max_leaves=25,
)
FIELDS = list(ChatCompletionRequest.model_fields)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool", "function", "x"])},
    optional={
        "content": st.one_of(any_text, json_values),
        "name": st.one_of(any_text, json_values),
        "tool_call_id": any_text,
        "tool_calls": json_values,
    },
)
request_bodies = st.fixed_dictionaries(
    {"model": st.one_of(any_text, json_values), "messages": st.lists(message, max_size=3)},
    optional={name: json_values for name in FIELDS if name not in ("model", "messages")},
)
# What production answers for a body that is JSON but not an object (an array, a string...).
NOT_AN_OBJECT = {
    "error": {
        "message": "The request body must be a JSON object.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_json",
    }
}
PARSE_ERROR = "We could not parse the JSON body of your request: "
UPSTREAM_MODEL = "fake-gpt"  # served by the fake OpenAI upstream, which records every body


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def post_raw(admin: httpx.Client, raw: bytes) -> httpx.Response:
    """POST bytes to the served chat route as the admin key."""
    headers = {"Content-Type": "application/json"}
    return admin.post("/v1/chat/completions", content=raw, headers=headers)


def post(admin: httpx.Client, body: Any) -> httpx.Response:
    """POST a JSON value; lone surrogates travel as \\u escapes, as any JSON encoder sends them."""
    return post_raw(admin, json.dumps(body).encode())


def assert_clean(response: httpx.Response, body: Any) -> None:
    """The served route's answer to `body`, for a model it does not serve: the 404 of a valid
    request, or the 400 envelope of an invalid one (the request model, reading the same bytes
    as the route does, agrees which)."""
    errors: list[Any] = []
    try:
        ChatCompletionRequest.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        errors = exc.errors()
    error = response.json()["error"]
    assert set(response.json()) == {"error"}
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error", response.text
    if response.status_code == 404:
        assert not errors, (body, response.text)
        assert error == {
            "message": f"The model `{body['model']}` does not exist or you do not have access "
            "to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
        return
    assert response.status_code == 400, response.text
    assert errors, (body, response.text)
    if errors[0]["type"] == "json_invalid":  # JSON a UTF-8 parser cannot take (a lone surrogate)
        assert (error["param"], error["code"]) == (None, "invalid_json"), (body, response.text)
        assert error["message"].startswith(PARSE_ERROR), (body, response.text)
        return
    if not isinstance(body, dict):
        assert response.json() == NOT_AN_OBJECT
        return
    assert error["code"] == "invalid_value", (body, response.text)
    assert isinstance(error["message"], str) and error["message"]
    if error["param"] is not None:
        assert error["message"].startswith(f"Invalid value for '{error['param']}': ")


@FAST
@given(body=request_bodies)
def test_any_request_body_is_a_request_or_a_clean_400(
    admin: httpx.Client, body: dict[str, Any]
) -> None:
    assume(body["model"] != UPSTREAM_MODEL)  # every other name is unknown to the server
    assert_clean(post(admin, body), body)


@FAST
@given(body=json_values)
def test_any_json_value_as_body_is_handled(admin: httpx.Client, body: Any) -> None:
    assert_clean(post(admin, body), body)


@pytest.mark.parametrize("raw", [b"[1, 2]", b"[]", b'[{"model": "m"}]', b'"text"', b"null", b"7"])
def test_a_json_body_that_is_not_an_object_is_invalid_json(admin: httpx.Client, raw: bytes) -> None:
    response = post_raw(admin, raw)
    assert response.status_code == 400, response.text
    assert response.json() == NOT_AN_OBJECT


def test_a_nested_value_that_is_not_an_object_names_its_field(admin: httpx.Client) -> None:
    body = {"model": "m", "messages": [None]}
    response = post(admin, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "message": "Invalid value for 'messages.0': Input should be an object",
        "type": "invalid_request_error",
        "param": "messages.0",
        "code": "invalid_value",
    }


@pytest.mark.parametrize("tools", [[5], ["f"], [None]])
def test_a_nested_tool_that_is_not_an_object_names_its_field(
    admin: httpx.Client, tools: list[Any]
) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": tools}
    response = post(admin, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "tools.0"), response.text


def test_json_that_does_not_parse_is_invalid_json(admin: httpx.Client) -> None:
    response = post_raw(admin, b'{"model": ')
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": {
            "message": PARSE_ERROR + "EOF while parsing a value at line 1 column 10.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_json",
        }
    }


def _sent_text(upstream: tuple[Starlette, str], text: str, admin: httpx.Client) -> str:
    """Ask the upstream model with `text` as the message; the content the upstream got."""
    app, _url = upstream
    before = len(app.state.requests)
    body = {"model": UPSTREAM_MODEL, "messages": [{"role": "user", "content": text}]}
    response = post(admin, body)
    assert response.status_code == 200, response.text
    assert len(app.state.requests) == before + 1
    content: str = app.state.requests[-1]["body"]["messages"][0]["content"]
    return content


@FAST
@given(text=st.text(st.characters(codec="utf-8", categories=None), min_size=1, max_size=200))
def test_any_text_in_a_message_reaches_the_upstream_unchanged(
    admin: httpx.Client, upstream: tuple[Starlette, str], text: str
) -> None:
    assert _sent_text(upstream, text, admin) == text


@pytest.mark.parametrize("text", ["\ud800", "a \udfff b", "\udc00\ud83d"])
def test_a_lone_surrogate_in_a_message_is_a_clean_400(
    hard_server: RunningServer, admin: httpx.Client, upstream: tuple[Starlette, str], text: str
) -> None:
    """A UTF-8 wire cannot carry it, so the route's JSON reader refuses the body (it used to
    pass validation and break the upstream encoder: a 500). Nothing reaches the upstream."""
    app, _url = upstream
    before = len(app.state.requests)
    body = {"model": UPSTREAM_MODEL, "messages": [{"role": "user", "content": text}]}
    response = post(admin, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        None,
        "invalid_json",
    )
    assert error["message"].startswith(PARSE_ERROR) and "hex escape at line 1" in error["message"]
    assert len(app.state.requests) == before


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("max_tokens", 10**100, None),  # a ceiling, not an allocation: engines stop earlier
        ("top_k", 2**64, None),  # Baichuan: over 20 means 20
        ("seed", -(2**200), None),  # any integer is a seed
        ("n", 10**30, "n"),
        ("temperature", 1e308, "temperature"),
        ("logit_bias", {"1" * 400: 1.0}, None),  # a token id no vocabulary has: no effect
        ("logit_bias", {"5": 1e308}, "logit_bias"),
        ("stop", [""], "stop"),
        ("stop", ["a"] * 5, "stop"),
        ("messages", [], "messages"),
        ("model", "", "model"),
    ],
)
def test_huge_and_empty_values_are_clean(
    admin: httpx.Client, field: str, value: Any, param: str | None
) -> None:
    """Accepted values get as far as the model look-up (`m` is not served: 404); refused ones
    are a 400 that names the field."""
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], field: value}
    response = post(admin, body)
    assert_clean(response, body)
    if param is None:
        assert response.json()["error"]["code"] == "model_not_found", response.text
    else:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_deep_nesting_is_a_clean_400(admin: httpx.Client) -> None:
    # Serializers below the API give up near 255 levels; the edge refuses past 64.
    def body(depth: int) -> dict[str, Any]:
        tool = {"type": "function", "function": {"name": "f", "parameters": _deep(depth)}}
        return {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}

    shallow = post(admin, body(20))  # 40 levels in the schema
    assert shallow.status_code == 404, shallow.text  # valid: on to the model look-up
    # 80 levels (read, then refused by the nesting rule), and past the JSON reader's own depth
    # limit (refused with the same answer).
    for deep in (body(40), body(200), {"model": "m", "messages": _deep(300)}):
        response = post(admin, deep)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["type"], error["param"], error["code"]) == (
            "invalid_request_error",
            None,
            "invalid_value",
        ), error
        assert error["message"] == "the request nests JSON deeper than 64 levels", error


def test_duplicate_fields_keep_the_last_as_json_does(admin: httpx.Client) -> None:
    raw = b'{"model": "a", "model": "b", "messages": [{"role": "user", "content": "x"}]}'
    response = post_raw(admin, raw)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["message"].startswith("The model `b` does not exist")


# --- the SSE writer -------------------------------------------------------------------------


def parse_frames(data: bytes) -> list[Any]:
    """A client's view of an SSE body: each `data:` event decoded, `[DONE]` as None."""
    text = data.decode("utf-8")
    assert text.endswith("\n\n")
    out: list[Any] = []
    for block in text.split("\n\n")[:-1]:
        lines = block.split("\n")
        assert len(lines) == 1 and lines[0].startswith("data: "), block
        payload = lines[0][len("data: ") :]
        out.append(None if payload == "[DONE]" else json.loads(payload))
    return out


def _chunk(content: str) -> ChatCompletionChunk:
    choice = ChunkChoice(index=0, delta=Delta(content=content))
    return ChatCompletionChunk(id="c", created=1, model="m", choices=[choice])


@FAST
@given(any_text)
def test_a_content_frame_parses_back_to_its_text(content: str) -> None:
    (decoded,) = parse_frames(event(_chunk(content)))
    assert decoded["choices"][0]["delta"]["content"] == _as_utf8(content)


@FAST
@given(any_text, st.one_of(st.none(), any_text))
def test_an_error_frame_parses_back(message: str, code: str | None) -> None:
    (decoded,) = parse_frames(error_event(APIError(502, message or "x", code=code)))
    assert decoded["error"]["message"] == _as_utf8(message or "x")


def _as_utf8(text: str) -> str:
    """What a UTF-8 wire can carry of `text`: lone surrogates become U+FFFD."""
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


REPORTED = Usage.of(3, 7)


@FAST
@given(st.lists(any_text, max_size=6), st.booleans(), st.booleans())
async def test_a_whole_stream_parses_back_and_ends_with_done(
    texts: list[str], fail: bool, include_usage: bool
) -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": include_usage},
        }
    )

    async def batches() -> AsyncGenerator[Batch, None]:
        for text in texts:  # one network read each
            yield [_chunk(text)]
        if fail:
            raise APIError(502, "upstream broke \\n\\n data: [DONE]")
        last = ChunkChoice(index=0, delta=Delta(), finish_reason="stop")
        yield [
            ChatCompletionChunk(id="c", created=1, model="m", choices=[last]),
            StreamEnd(REPORTED),
        ]

    settled: list[tuple[Usage, int, str | None, bool]] = []

    async def settle(usage: Usage, status: int, code: str | None, estimated: bool) -> None:
        settled.append((usage, status, code, estimated))

    provider = ProviderStream(batches(), request=request, budget=OutputBudget(1000), vendor="t")
    watched = WatchedStream(provider, ChannelConfig(), None, CircuitBreaker(3, 5, 30))
    stream = ChatStream(watched, None, request, "pub", "chatcmpl-x", settle)
    body = b"".join([frame async for frame in stream])
    await stream.aclose()
    frames = parse_frames(body)
    assert body.endswith(DONE) and frames[-1] is None and None not in frames[:-1]
    contents = [f["choices"][0]["delta"].get("content") for f in frames[:-1] if f.get("choices")]
    assert [c for c in contents if c is not None] == [_as_utf8(t) for t in texts]
    assert {f["id"] for f in frames[:-1] if "id" in f} <= {"chatcmpl-x"}
    if fail:
        assert frames[-2] == {
            "error": {
                "message": "upstream broke \\n\\n data: [DONE]",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        # code-less: booked under its type, with the estimate of what went through
        (usage, status, code, estimated) = settled[0]
        assert (len(settled), status, code, estimated) == (1, 502, "invalid_request_error", True)
        chars = sum(len(t) for t in texts)
        assert usage == Usage.of(1, -(-chars // 4))  # "hi": 1 token; four characters a token
    else:
        finish = frames[-2 - include_usage]
        assert finish["choices"][0]["finish_reason"] == "stop"
        assert finish["usage"] == REPORTED.model_dump()
        if include_usage:  # OpenAI's usage-only chunk, after the finish
            assert (frames[-2]["choices"], frames[-2]["usage"]) == ([], REPORTED.model_dump())
        assert settled == [(REPORTED, 200, None, False)]
