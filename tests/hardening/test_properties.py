"""Property tests for the edge of the wire: the chat request model and the SSE writer.

Any JSON a client can send (any unicode, lone surrogates, huge numbers, deep nesting, empty
or duplicated fields) either becomes a valid request or a clean validation error that the API
turns into a 400 envelope; and every frame the stream writes parses back to what was sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modelport.api.errors import validation_error
from modelport.chat.sse import DONE, error_event, event
from modelport.chat.stream import ChatStream
from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk, ChunkChoice, Delta, Usage
from modelport.protocol.errors import APIError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def parse_as_api(body: Any) -> ChatCompletionRequest | APIError:
    """What the API does with a body: a request, or the 400 its error handler sends."""
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        error = validation_error(RequestValidationError(exc.errors(include_url=False)))
        return error


def assert_clean(outcome: ChatCompletionRequest | APIError) -> None:
    if isinstance(outcome, APIError):
        assert outcome.status == 400
        assert outcome.message and isinstance(outcome.message, str)
        json.loads(error_event(outcome)[len(b"data: ") :])  # the envelope serializes
        return
    # A valid request round-trips through JSON and validates again to the same thing.
    again = ChatCompletionRequest.model_validate_json(outcome.model_dump_json(by_alias=True))
    assert again.model_dump() == outcome.model_dump()


@FAST
@given(request_bodies)
def test_any_request_body_is_a_request_or_a_clean_400(body: dict[str, Any]) -> None:
    assert_clean(parse_as_api(body))


@FAST
@given(json_values)
def test_any_json_value_as_body_is_handled(body: Any) -> None:
    assert_clean(parse_as_api(body))


@FAST
@given(st.text(st.characters(codec=None, categories=None), min_size=1, max_size=200))
def test_any_text_in_a_message_survives_the_round_trip(text: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    outcome = parse_as_api(body)
    assert isinstance(outcome, ChatCompletionRequest)
    assert outcome.messages[0].text() == text


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("max_tokens", 10**100, True),  # a ceiling, not an allocation: engines stop earlier
        ("top_k", 2**64, True),  # Baichuan: over 20 means 20
        ("seed", -(2**200), True),  # any integer is a seed
        ("n", 10**30, False),
        ("temperature", 1e308, False),
        ("logit_bias", {"1" * 400: 1.0}, True),  # a token id no vocabulary has: no effect
        ("logit_bias", {"5": 1e308}, False),
        ("stop", [""], False),
        ("stop", ["a"] * 5, False),
        ("messages", [], False),
        ("model", "", False),
    ],
)
def test_huge_and_empty_values_are_clean(field: str, value: Any, accepted: bool) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], field: value}
    outcome = parse_as_api(body)
    assert_clean(outcome)
    assert isinstance(outcome, ChatCompletionRequest) is accepted, outcome


def test_deep_nesting_is_a_clean_400() -> None:
    # Serializers below the API give up near 255 levels; the edge refuses past 64.
    def body(depth: int) -> dict[str, Any]:
        tool = {"type": "function", "function": {"name": "f", "parameters": _deep(depth)}}
        return {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}

    assert isinstance(parse_as_api(body(20)), ChatCompletionRequest)
    for outcome in (parse_as_api(body(200)), parse_as_api({"model": "m", "messages": _deep(300)})):
        assert isinstance(outcome, APIError) and outcome.status == 400
        assert "deeper than" in outcome.message


def test_duplicate_fields_keep_the_last_as_json_does() -> None:
    raw = '{"model": "a", "model": "b", "messages": [{"role": "user", "content": "x"}]}'
    assert ChatCompletionRequest.model_validate_json(raw).model == "b"


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


class _Source:
    def __init__(self, chunks: list[ChatCompletionChunk], fail: bool) -> None:
        self._chunks = iter(chunks)
        self._fail = fail

    def __aiter__(self) -> _Source:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        try:
            return next(self._chunks)
        except StopIteration:
            if self._fail:
                raise APIError(502, "upstream broke \\n\\n data: [DONE]") from None
            raise StopAsyncIteration from None


@FAST
@given(st.lists(any_text, max_size=6), st.booleans(), st.booleans())
async def test_a_whole_stream_parses_back_and_ends_with_done(
    texts: list[str], fail: bool, include_usage: bool
) -> None:
    chunks = [_chunk(t) for t in texts]
    last = ChunkChoice(index=0, delta=Delta(), finish_reason="stop")
    chunks.append(
        ChatCompletionChunk(
            id="c", created=1, model="m", choices=[last], usage=Usage(prompt_tokens=1)
        )
    )
    request = ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": include_usage},
        }
    )
    settled: list[tuple[int, str | None]] = []

    async def settle(usage: Usage | None, status: int, code: str | None, estimated: bool) -> None:
        settled.append((status, code))

    stream = ChatStream(_Source(chunks, fail), None, request, "pub", "chatcmpl-x", settle)
    body = b"".join([frame async for frame in stream])
    await stream.aclose()
    frames = parse_frames(body)
    assert body.endswith(DONE) and frames[-1] is None and None not in frames[:-1]
    contents = [f["choices"][0]["delta"].get("content") for f in frames[:-1] if f.get("choices")]
    assert [c for c in contents if c is not None] == [_as_utf8(t) for t in texts]
    if fail:
        assert "error" in frames[-2] and settled == [
            (502, "invalid_request_error")
        ]  # code-less: its type
    else:
        assert frames[-2 - include_usage]["choices"][0]["finish_reason"] == "stop"
        assert settled == [(200, None)]
