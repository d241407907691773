"""The official OpenAI SDK, unchanged, against a real server: sync, stream, n, stop, tools, JSON."""

from __future__ import annotations

import json
from typing import cast

import openai
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)
from openai.types.chat.completion_create_params import Function

QUESTION: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Name three colours."}]


def test_stream_through_sdk(client: openai.OpenAI, model_name: str) -> None:
    stream = client.chat.completions.create(
        model=model_name,
        messages=QUESTION,
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finish) == 1 and finish[0].usage is not None
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == finish[0].usage.completion_tokens <= 12
    assert chunks[-1].usage.total_tokens == (
        chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    )


def test_n_two_gives_two_choices(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=6, n=2, seed=3, temperature=1.0
    )
    assert [c.index for c in reply.choices] == [0, 1]
    assert all(c.message.content for c in reply.choices)
    assert reply.usage is not None
    assert reply.usage.completion_tokens <= 12


def test_n_two_streams_both_choices(client: openai.OpenAI, model_name: str) -> None:
    stream = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=5, n=2, stream=True
    )
    texts = {0: "", 1: ""}
    finished = set()
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finished.add(choice.index)
    assert finished == {0, 1}
    assert texts[0] and texts[1]


def test_stop_cuts_the_text(client: openai.OpenAI, model_name: str) -> None:
    free = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=24, temperature=0
    )
    text = free.choices[0].message.content or ""
    words = text.split()
    assert len(words) >= 3, text
    stop_word = words[2]
    cut = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=24, temperature=0, stop=[stop_word]
    )
    got = cut.choices[0].message.content or ""
    assert stop_word not in got
    assert text.startswith(got) and len(got) < len(text)
    assert cut.choices[0].finish_reason == "stop"


def test_max_tokens_gives_length(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=3, temperature=0
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


def test_max_completion_tokens_is_honoured(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_completion_tokens=2, temperature=0
    )
    assert reply.usage is not None and reply.usage.completion_tokens == 2


WEATHER: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}
TIME: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}},
            "required": ["zone"],
        },
    },
}
ASK_WEATHER: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What's the weather in Paris for 2 days?"}
]


def function_calls(message: ChatCompletionMessage) -> list[ChatCompletionMessageFunctionToolCall]:
    calls = message.tool_calls or []
    assert all(isinstance(c, ChatCompletionMessageFunctionToolCall) for c in calls)
    return [c for c in calls if isinstance(c, ChatCompletionMessageFunctionToolCall)]


def _check_weather_args(arguments: str) -> None:
    args = json.loads(arguments)
    assert set(args) == {"city", "days"}
    assert isinstance(args["city"], str) and isinstance(args["days"], int)


def test_named_tool_choice_gives_schema_valid_call(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=ASK_WEATHER,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=60,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = function_calls(choice.message)
    assert len(calls) == 1 and calls[0].function.name == "get_weather"
    assert calls[0].id.startswith("call_")
    _check_weather_args(calls[0].function.arguments)


def test_required_tool_choice_picks_a_declared_tool(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=ASK_WEATHER,
        tools=[WEATHER, TIME],
        tool_choice="required",
        max_tokens=60,
    )
    calls = function_calls(reply.choices[0].message)
    assert len(calls) == 1 and calls[0].function.name in {"get_weather", "get_time"}
    args = json.loads(calls[0].function.arguments)
    if calls[0].function.name == "get_time":
        assert args["zone"] in {"UTC", "CET"}
    else:
        _check_weather_args(calls[0].function.arguments)


def test_legacy_function_call(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=ASK_WEATHER,
        functions=[cast(Function, WEATHER["function"])],
        function_call={"name": "get_weather"},
        max_tokens=60,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call is not None
    assert choice.message.function_call.name == "get_weather"
    _check_weather_args(choice.message.function_call.arguments)
    assert not choice.message.tool_calls


def test_streamed_tool_call_arguments_reassemble(client: openai.OpenAI, model_name: str) -> None:
    stream = client.chat.completions.create(
        model=model_name,
        messages=ASK_WEATHER,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=60,
        stream=True,
    )
    name, arguments, deltas, finish = "", "", 0, None
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                name += call.function.name or "" if call.function else ""
                if call.function and call.function.arguments:
                    arguments += call.function.arguments
                    deltas += 1
            finish = choice.finish_reason or finish
    assert name == "get_weather" and finish == "tool_calls"
    assert deltas > 1  # arguments really stream, they are not sent in one piece at the end
    _check_weather_args(arguments)


def test_tool_result_round_trip(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=[
            *ASK_WEATHER,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city":"Paris","days":2}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
        ],
        tools=[WEATHER],
        tool_choice="none",
        max_tokens=10,
    )
    assert reply.choices[0].message.content
    assert not reply.choices[0].message.tool_calls


def test_json_object_mode(client: openai.OpenAI, model_name: str) -> None:
    # A question the model answers briefly under greedy decoding, so the object is finished
    # (a free description runs on to max_tokens, and a cut object proves nothing).
    ask = 'Reply with a JSON object with the key "name" set to a cat\'s name.'
    reply = client.chat.completions.create(
        model=model_name,
        messages=[{"role": "user", "content": ask}],
        response_format={"type": "json_object"},
        max_tokens=80,
        temperature=0,
    )
    assert reply.choices[0].finish_reason == "stop", reply
    content = reply.choices[0].message.content or ""
    assert isinstance(json.loads(content), dict), content


def test_json_schema_mode_matches_schema(client: openai.OpenAI, model_name: str) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model=model_name,
        messages=[{"role": "user", "content": "Invent a person."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        },
        max_tokens=60,
        temperature=0,
    )
    data = json.loads(reply.choices[0].message.content or "")
    assert set(data) == {"name", "age"}
    assert isinstance(data["name"], str) and isinstance(data["age"], int)


def test_models_listing_and_lookup(client: openai.OpenAI, model_name: str) -> None:
    # The chat models, then the embedding models `/v1/embeddings` serves, then `/v1/rerank`'s.
    listed = [m.id for m in client.models.list()]
    assert listed == [
        model_name,
        "multilingual-e5-small",
        "Baichuan-Text-Embedding",
        "multilingual-e5-small-rerank",
    ]
    assert client.models.retrieve(model_name).owned_by == "modelport"
