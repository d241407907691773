"""`POST /v1/completions`: OpenAI's legacy text completions, request and answer.

A request is served through the chat pipeline (admission, routing, booking) as a
`PromptedChat`: a chat request whose messages carry the prompts as user messages, so every
estimate and bound the pipeline keeps (quota holds, output budgets, usage guards) counts
them, and which keeps the original request for the providers that serve raw prompts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from .base import RequestModel, WireModel
from .chat import ChatCompletionRequest, StreamOptions, not_too_deep
from .chat_response import Usage, optional
from .ids import alnum_id

DEFAULT_MAX_TOKENS = 16  # OpenAI's default for the legacy endpoint (chat has none)
MAX_CHOICES = 128  # prompts × n: the chat request's own bound on `n`
TOKEN_IDS = (
    "prompts given as token ids are not supported: token ids belong to one tokenizer and the "
    "models behind this endpoint do not share one; send the prompt as text"
)


class CompletionRequest(RequestModel):
    model: str = Field(min_length=1)
    prompt: str | list[str] | list[int] | list[list[int]]
    suffix: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=MAX_CHOICES)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    echo: StrictBool = False
    stop: str | list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    best_of: int | None = Field(default=None, ge=1)
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        return not_too_deep(data)  # unknown fields are relayed upstream, as chat's are

    @field_validator("prompt")
    @classmethod
    def _text_prompts(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError("'prompt' must not be an empty list")
            if not all(isinstance(item, str) for item in value):
                raise ValueError(TOKEN_IDS)
        return value

    @field_validator("suffix")
    @classmethod
    def _no_suffix(cls, value: str | None) -> str | None:
        # Insertion needs a fill-in-the-middle model; none behind this endpoint is one.
        if value:
            raise ValueError("'suffix' (insertion) is not supported by these models")
        return None

    @field_validator("logprobs")
    @classmethod
    def _no_logprobs(cls, value: int | None) -> int | None:
        if value is not None:
            raise ValueError("'logprobs' is not supported on /v1/completions; leave it out")
        return None

    @field_validator("best_of")
    @classmethod
    def _no_best_of(cls, value: int | None) -> int | None:
        if value is not None and value > 1:
            raise ValueError("'best_of' above 1 is not supported; ask for 'n' choices instead")
        return value

    @model_validator(mode="after")
    def _choices_bound(self) -> CompletionRequest:
        if len(self.prompts()) * self.n > MAX_CHOICES:
            raise ValueError(f"prompts × 'n' must be at most {MAX_CHOICES} choices")
        return self

    def prompts(self) -> list[str]:
        prompt = self.prompt
        return [prompt] if isinstance(prompt, str) else [str(p) for p in prompt]

    def prompt_of(self, choice: int) -> str:
        """The prompt a choice continues: choices come `n` to a prompt, in prompt order."""
        return self.prompts()[choice // self.n]

    def as_chat(self) -> PromptedChat:
        """The chat request the pipeline runs (validated: `stop`, `logit_bias` are checked
        by the chat request's own rules, under the same names)."""
        fields = self.model_dump(
            exclude_unset=True,
            include={
                "model",
                "temperature",
                "top_p",
                "stream",
                "stream_options",
                "stop",
                "presence_penalty",
                "frequency_penalty",
                "logit_bias",
                "seed",
                "user",
            },
        )
        prompts = self.prompts()
        messages = [{"role": "user", "content": prompt} for prompt in prompts]
        return PromptedChat.model_validate(
            {
                **fields,
                "messages": messages,
                "n": self.n * len(prompts),
                "max_tokens": self.max_tokens or DEFAULT_MAX_TOKENS,
                "completion": self,
            }
        )


class PromptedChat(ChatCompletionRequest):
    """A legacy completion on its way through the chat pipeline. Providers that serve raw
    prompts (the local engine, OpenAI-compatible upstreams) read `completion`; it is never
    sent anywhere as part of the chat request."""

    completion: CompletionRequest = Field(exclude=True)


TextFinishReason = Literal["stop", "length", "content_filter"]


def text_completion_id() -> str:
    return "cmpl-" + alnum_id(24)


class TextChoice(WireModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: TextFinishReason | None = None


class TextCompletion(WireModel):
    """The answer, and (with `choices` of a few characters each) every streamed event."""

    id: str = Field(default_factory=text_completion_id)
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = optional()
