"""A forced call cut by `max_tokens`: `tool_choice: "required"` answers a partial `tool_calls`
(finish_reason "length"), as a named forced call does, never the grammar's wrapper as text."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam

from modelport.protocol.chat import ChatCompletionRequest
from modelport.providers.local.tools import parse_partial_call

WEATHER: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}
TIME: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
ASK: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What's the weather in Paris for 2 days?"}
]


@pytest.mark.parametrize("max_tokens", [1, 3, 8])
def test_cut_required_call_is_a_partial_tool_call(
    client: openai.OpenAI, model_name: str, max_tokens: int
) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=ASK,
        tools=[WEATHER],
        tool_choice="required",
        max_tokens=max_tokens,
        temperature=0,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert len(calls) == 1 and calls[0].type == "function"
    assert calls[0].id.startswith("call_")
    # One function declared: the grammar can only be writing that one.
    assert calls[0].function.name == "get_weather"
    assert '"name"' not in calls[0].function.arguments


def test_cut_required_call_streams_a_partial_tool_call(
    client: openai.OpenAI, model_name: str
) -> None:
    stream = client.chat.completions.create(
        model=model_name,
        messages=ASK,
        tools=[WEATHER, TIME],
        tool_choice="required",
        max_tokens=14,
        temperature=0,
        stream=True,
    )
    content, names, arguments, finish = "", [], "", None
    for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                assert call.function is not None
                if call.function.name is not None:
                    names.append(call.function.name)
                arguments += call.function.arguments or ""
            finish = choice.finish_reason or finish
    assert content == ""
    assert finish == "length"
    assert len(names) == 1 and names[0] in {"get_weather", "get_time", ""}
    assert not arguments.lstrip().startswith('{ "name"')


def test_cut_named_call_still_partial(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=ASK,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=3,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert (choice.message.tool_calls or [])[0].function.name == "get_weather"


def _request(*names: str) -> ChatCompletionRequest:
    tools = [{"type": "function", "function": {"name": n}} for n in names]
    return ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": tools,
            "tool_choice": "required",
        }
    )


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        ("", "", ""),
        ('{ "name" :', "", ""),
        ('{ "name" : "get_w', "get_weather", ""),
        ('{ "name" : "get_', "", ""),
        ('{"name":"get_time" , "argu', "get_time", ""),
        (
            '{ "name" : "get_weather", "arguments" : { "city" : "Par',
            "get_weather",
            '{ "city" : "Par',
        ),
    ],
)
def test_partial_call_parsing(text: str, name: str, arguments: str) -> None:
    call = parse_partial_call(text, _request("get_weather", "get_time"))
    assert call is not None and (call.name, call.arguments) == (name, arguments)


def test_partial_call_needs_the_wrapper() -> None:
    assert parse_partial_call("hello", _request("get_weather")) is None
    assert parse_partial_call("", _request("get_weather")) == parse_partial_call(
        "{", _request("get_weather")
    )
