"""`reasoning_effort` per vendor, and the refusal of vendors that cannot reason on request.

OpenAI-compatible upstreams get the field as sent. Anthropic and Gemini take a token budget
for thinking instead of a level; the budgets below are ours (neither vendor publishes a
mapping from OpenAI's levels):

| effort  | Anthropic `budget_tokens` | Gemini `thinkingBudget` |
|---------|---------------------------|-------------------------|
| none    | (no thinking)             | 0 (off where the model allows it) |
| minimal | 1024 (Anthropic's floor)  | 512 (inside every 2.5 model's range) |
| low     | 1024                      | 1024 |
| medium  | 4096                      | 4096 |
| high    | 16384                     | 16384 |
| xhigh   | 32768                     | 24576 (Gemini 2.5 Flash's ceiling) |

ERNIE, Spark and the local engine have no way to be asked to reason: any effort but "none"
is refused with a 400 naming the vendor (another channel of the model may serve it).
"""

from __future__ import annotations

from ..protocol.chat import ChatCompletionRequest
from .errors import UpstreamError

ANTHROPIC_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384, "xhigh": 32768}
ANTHROPIC_MIN_BUDGET = 1024  # Anthropic refuses less, and a budget not below max_tokens
GEMINI_BUDGETS = {
    "none": 0,
    "minimal": 512,
    "low": 1024,
    "medium": 4096,
    "high": 16384,
    "xhigh": 24576,
}


def refuse_reasoning(request: ChatCompletionRequest, vendor: str) -> None:
    """A 400 naming the vendor when the request asks for reasoning it cannot do."""
    if request.wants_reasoning():
        raise UpstreamError(
            400,
            f"{vendor} channels do not support reasoning_effort "
            f"({request.reasoning_effort!r}); send it to a model served by an OpenAI-compatible, "
            "Anthropic or Gemini channel, or leave it out",
            type="invalid_request_error",
            param="reasoning_effort",
            code="unsupported_by_channel",
            retryable=True,  # another channel of the same model may support it
        )
