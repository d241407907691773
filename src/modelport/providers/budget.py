"""What a request may cost: its output budget, estimates from characters, and the bounds
vendor-reported usage is kept within before it is booked.

An upstream's usage is its word, and a broken or hostile upstream may report anything:
negative counts (which would credit the key and stop its quota from binding), counts past
64 bits (which no ledger row holds), or far more than the request could have cost. Booked
usage is kept between what measurably went through and what the request could have cost;
where a report had to be corrected, the row is booked as an estimate.

- Completion tokens: at least one per `MAX_CHARS_PER_TOKEN` characters relayed (no token is
  longer), at most the output budget (`max_tokens` × `n` plus the stream slack).
- Prompt tokens: at least one per `MAX_CHARS_PER_TOKEN` characters of the messages, at most
  four per character of everything the request carried (a byte-level tokenizer makes at most
  one token per UTF-8 byte) plus an allowance per image and for the chat template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..protocol.chat import ChatCompletionRequest, ImagePart
from ..protocol.chat_response import Usage
from ..settings import UpstreamSettings

CHARS_PER_TOKEN = 4
# No real token is longer than this many characters; more per token budgeted is an overrun.
MAX_CHARS_PER_TOKEN = 32


def estimate_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def prompt_chars(request: ChatCompletionRequest) -> int:
    return sum(len(m.text()) for m in request.messages)


@dataclass(frozen=True, slots=True)
class OutputBudget:
    """How much output a stream may carry before it counts as running away."""

    tokens: int

    @classmethod
    def of(cls, request: ChatCompletionRequest, settings: UpstreamSettings) -> OutputBudget:
        asked = request.output_limit() or settings.max_stream_tokens
        return cls(asked * max(request.n, 1) + settings.stream_slack_tokens)


IMAGE_TOKENS = 2_000  # more than any vendor charges for one image at its finest detail
TEMPLATE_TOKENS = 10_000  # chat templates, system prompts a vendor adds, tool preambles


def _at_least(chars: int) -> int:
    return -(-chars // MAX_CHARS_PER_TOKEN)


def prompt_cap(request: ChatCompletionRequest) -> int:
    chars = images = 0
    for message in request.messages:
        chars += len(message.text()) + len(message.name or "")
        for call in message.tool_calls or ():
            chars += len(call.function.name) + len(call.function.arguments)
        if isinstance(message.content, list):
            images += sum(isinstance(part, ImagePart) for part in message.content)
    if request.tools or request.functions:
        chars += len(json.dumps(request.model_dump(include={"tools", "functions"}, mode="json")))
    return 4 * chars + IMAGE_TOKENS * images + TEMPLATE_TOKENS


MESSAGE_TOKENS = 8  # a chat template's per-message markup
TEMPLATE_HOLD = 64  # a template's own text, such as the default system prompt it adds


def prompt_hold(request: ChatCompletionRequest) -> int:
    """The prompt tokens a quota hold counts on: generous for every script (half a token per
    UTF-8 byte is above what BPE tokenizers make of English, Chinese or code), without the
    worst-case allowances of `prompt_cap`, which would make every hold thousands of tokens."""
    size = images = 0
    for message in request.messages:
        size += len(message.text().encode()) + MESSAGE_TOKENS * 2
        for call in message.tool_calls or ():
            size += len(call.function.name) + len(call.function.arguments.encode())
        if isinstance(message.content, list):
            images += sum(isinstance(part, ImagePart) for part in message.content)
    if request.tools or request.functions:
        size += len(json.dumps(request.model_dump(include={"tools", "functions"}, mode="json")))
    return -(-size // 2) + IMAGE_TOKENS * images + TEMPLATE_HOLD


def guard_usage(
    reported: Usage,
    request: ChatCompletionRequest,
    *,
    prompt_chars: int,
    completion_chars: int,
    budget: OutputBudget,
) -> tuple[Usage, bool]:
    """The usage to book, and whether it had to be corrected (then it is an estimate). Its
    details are kept within the counts: cached <= prompt, reasoning <= completion, none < 0."""
    prompt = min(max(reported.prompt_tokens, _at_least(prompt_chars)), prompt_cap(request))
    completion = min(max(reported.completion_tokens, _at_least(completion_chars)), budget.tokens)
    usage = reported.with_counts(prompt, completion)
    if (prompt, completion) == (reported.prompt_tokens, reported.completion_tokens):
        details_kept = (usage.cached_tokens, usage.reasoning_tokens) == (
            reported.cached_tokens,
            reported.reasoning_tokens,
        )
        if reported.total_tokens == prompt + completion and details_kept:
            return reported, False
        return usage, not details_kept  # only the vendor's sum was off, or its details
    return usage, True
