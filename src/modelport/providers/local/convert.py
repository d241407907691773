"""OpenAI request → what the local engine takes: template messages and sampling parameters."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ...engine.config import EngineSettings
from ...engine.sampling import SamplingParams
from ...protocol.chat import ChatCompletionRequest, ChatMessage
from ...protocol.errors import APIError, invalid_request
from .tools import decoding_grammar, tools_system_prompt

_ROLE_FOR_TEMPLATE = {"developer": "system", "function": "tool"}


def message_for_template(message: ChatMessage) -> dict[str, Any]:
    role = _ROLE_FOR_TEMPLATE.get(message.role, message.role)
    content = message.text()
    calls = [(c.function.name, c.function.arguments) for c in message.tool_calls or []]
    if message.function_call is not None:
        calls.append((message.function_call.name, message.function_call.arguments))
    if calls:
        rendered = [_render_call(name, arguments) for name, arguments in calls]
        content = "\n".join([content, *rendered]).strip()
    return {"role": role, "content": content}


def _render_call(name: str, arguments: str) -> str:
    try:
        parsed: Any = json.loads(arguments) if arguments else {}
    except ValueError:
        parsed = arguments
    return json.dumps({"name": name, "arguments": parsed}, ensure_ascii=False)


def template_messages(request: ChatCompletionRequest) -> list[dict[str, Any]]:
    for index, message in enumerate(request.messages):
        if message.has_images():
            raise APIError(
                400,
                "This model does not accept image input.",
                param=f"messages.{index}.content",
                code="unsupported_content",
            )
    messages = [message_for_template(m) for m in request.messages]
    mode = request.tool_mode()
    if mode != "none":
        note = tools_system_prompt(request.function_definitions(), mode)
        if messages and messages[0]["role"] == "system":
            messages[0] = {"role": "system", "content": messages[0]["content"] + "\n\n" + note}
        else:
            messages.insert(0, {"role": "system", "content": note})
    return messages


def sampling_choices(
    request: ChatCompletionRequest,
    prompt_tokens: int,
    context_size: int,
    settings: EngineSettings,
    n_vocab: int,
) -> list[SamplingParams]:
    """One `SamplingParams` per requested choice (seed + i keeps `n` choices distinct)."""
    room = context_size - prompt_tokens
    if room < 1:
        raise invalid_request(
            f"This model's maximum context length is {context_size} tokens; "
            f"the messages take {prompt_tokens}.",
            param="messages",
            code="context_length_exceeded",
        )
    asked = request.output_limit()
    per_choice = room // request.n
    if asked is not None and asked > per_choice:
        raise invalid_request(
            f"This model's maximum context length is {context_size} tokens; the messages take "
            f"{prompt_tokens} and {request.n} x {asked} completion tokens were asked for.",
            param="max_tokens",
            code="context_length_exceeded",
        )
    max_tokens = asked if asked is not None else min(settings.default_max_tokens, per_choice)
    bias: dict[int, float] = {}
    for token, value in (request.logit_bias or {}).items():
        if int(token) >= n_vocab:
            raise invalid_request(
                f"logit_bias: token id {token} is outside the vocabulary (size {n_vocab}).",
                param="logit_bias",
            )
        bias[int(token)] = value
    top_k = settings.default_top_k if request.top_k is None else request.top_k
    base = SamplingParams(
        temperature=settings.default_temperature
        if request.temperature is None
        else request.temperature,
        top_p=settings.default_top_p if request.top_p is None else request.top_p,
        top_k=top_k,
        presence_penalty=request.presence_penalty or 0.0,
        frequency_penalty=request.frequency_penalty or 0.0,
        logit_bias=bias,
        seed=request.seed,
        max_tokens=max_tokens,
        stop=tuple(request.stop or ()),
        grammar=_grammar_or_400(request),
        logprobs=(request.top_logprobs or 0) if request.logprobs else None,
    )
    choices = []
    for i in range(request.n):
        seed = None if request.seed is None else request.seed + i
        choices.append(replace(base, seed=seed))
    return choices


def _grammar_or_400(request: ChatCompletionRequest) -> str | None:
    try:
        return decoding_grammar(request)
    except ValueError as exc:
        param = "response_format" if request.response_format else "tools"
        raise invalid_request(str(exc), param=param) from exc
