"""`/v1/messages` on the embedded engine, through the official `anthropic` SDK: an answer, a
stream, the system prompt as text or blocks or (as newer Claude Code sends it) a
`role: "system"` message, token counting, and the key in `x-api-key` or as a Bearer token."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx

from .conftest import LOCAL, Setup

HELLO = [{"role": "user", "content": "Say hello."}]


def test_answer(setup: Setup) -> None:
    reply = setup.client().messages.create(model=LOCAL, max_tokens=8, messages=HELLO)
    assert reply.type == "message" and reply.role == "assistant" and reply.model == LOCAL
    assert reply.id.startswith("msg_")
    assert [b.type for b in reply.content] == ["text"] and reply.content[0].text
    assert reply.stop_reason in ("end_turn", "max_tokens")
    assert reply.usage.input_tokens > 0 and 0 < reply.usage.output_tokens <= 8


def test_stream(setup: Setup) -> None:
    client = setup.client()
    with client.messages.stream(model=LOCAL, max_tokens=6, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 6
    assert final.model == LOCAL and final.usage.input_tokens > 0


def test_system_as_text_blocks_and_messages(setup: Setup) -> None:
    client = setup.client()
    counts = []
    for system, messages in [
        ("You are terse.", HELLO),
        (
            [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
            HELLO,
        ),
        # newer Claude Code: the system prompt (or a reminder) inside `messages`
        (anthropic.NOT_GIVEN, [{"role": "system", "content": "You are terse."}, *HELLO]),
    ]:
        reply = client.messages.create(
            model=LOCAL,
            max_tokens=4,
            system=system,
            messages=messages,
            extra_body={"temperature": 0},  # type: ignore[arg-type]
        )
        counts.append(reply.usage.input_tokens)
    assert len(set(counts)) == 1, counts  # the same prompt, however it was spelled


def test_count_tokens_is_what_the_answer_bills(setup: Setup) -> None:
    client = setup.client()
    counted = client.messages.count_tokens(model=LOCAL, system="Be brief.", messages=HELLO)
    reply = client.messages.create(model=LOCAL, max_tokens=2, system="Be brief.", messages=HELLO)
    assert counted.input_tokens == reply.usage.input_tokens > 0


def test_bearer_token_and_version_header(setup: Setup) -> None:
    client = setup.client(key="unused")
    bearer = anthropic.Anthropic(
        base_url=setup.server.base_url, auth_token=setup.server.admin_key, max_retries=2
    )  # retries: a slot the previous test's stream held may be a moment from free (503)
    # Greedy: two sampled tokens may be half a character each, which is no text at all.
    reply = bearer.messages.create(
        model=LOCAL,
        max_tokens=4,
        messages=HELLO,
        extra_body={"temperature": 0},  # type: ignore[arg-type]
    )
    assert reply.content and reply.usage.output_tokens > 0
    # curl-style: no anthropic-version header at all
    response = httpx.post(
        setup.server.base_url + "/v1/messages",
        headers={"x-api-key": setup.server.admin_key},
        json={"model": LOCAL, "max_tokens": 2, "messages": HELLO},
        timeout=60,
    )
    assert response.status_code == 200 and response.json()["type"] == "message"
    assert client is not None


def test_forced_tool_call_sync_and_stream(setup: Setup) -> None:
    """The embedded engine's constrained tool call, as a `tool_use` block with its input."""
    tool: Any = {
        "name": "get_weather",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    choice: Any = {"type": "tool", "name": "get_weather"}
    ask: Any = [{"role": "user", "content": "Weather in Paris?"}]
    client = setup.client()
    reply = client.messages.create(
        model=LOCAL, max_tokens=48, tools=[tool], tool_choice=choice, messages=ask
    )
    (call,) = [b for b in reply.content if b.type == "tool_use"]
    assert call.name == "get_weather" and isinstance(call.input, dict) and "city" in call.input
    assert reply.stop_reason == "tool_use"
    with client.messages.stream(
        model=LOCAL, max_tokens=48, tools=[tool], tool_choice=choice, messages=ask
    ) as stream:
        final = stream.get_final_message()
    (streamed,) = [b for b in final.content if b.type == "tool_use"]
    assert streamed.name == "get_weather" and "city" in streamed.input  # type: ignore[operator]
    assert final.stop_reason == "tool_use"
