"""`POST /v1/chat/completions` request: OpenAI's current fields plus Baichuan's extensions.

Cross-field rules live here as validators, so everything below the API sees a clean request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from .base import RequestModel

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
# JSON nested deeper than this is refused at the edge: serializers below (pydantic, orjson)
# stop near 255 levels, and no real tool schema comes close.
MAX_NESTING = 64
# More messages than any conversation a model can hold: a request past it is refused whole.
MAX_MESSAGES = 10_000


def nesting(value: Any) -> int:
    """How deep lists and objects nest in a decoded JSON value (a scalar is 0), iteratively."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def not_too_deep(data: Any) -> Any:
    """A request's raw data, refused if it nests past `MAX_NESTING` (a `before` validator)."""
    if nesting(data) > MAX_NESTING:
        raise ValueError(f"the request nests JSON deeper than {MAX_NESTING} levels")
    return data


class TextPart(RequestModel):
    type: Literal["text"]
    text: str


class ImageURL(RequestModel):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(RequestModel):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(RequestModel):
    name: str
    arguments: str = ""


class ToolCall(RequestModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(RequestModel):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCall | None = None

    @model_validator(mode="after")
    def _role_rules(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("messages with role 'tool' must carry 'tool_call_id'")
        if self.role == "function" and not self.name:
            raise ValueError("messages with role 'function' must carry 'name'")
        has_call = bool(self.tool_calls) or self.function_call is not None
        if self.role != "assistant" and has_call:
            raise ValueError("only assistant messages may carry tool_calls or function_call")
        if self.content is None and not (self.role == "assistant" and has_call):
            raise ValueError(f"messages with role '{self.role}' must have content")
        return self

    def text(self) -> str:
        """The message's text: a string, or its text parts joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    def has_images(self) -> bool:
        return isinstance(self.content, list) and any(
            isinstance(p, ImagePart) for p in self.content
        )


class FunctionDefinition(RequestModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(RequestModel):
    type: Literal["function"]
    function: FunctionDefinition


class RetrievalSpec(RequestModel):
    kb_ids: list[str] = Field(default_factory=list)
    answer_mode: str | None = None


class RetrievalTool(RequestModel):
    """Baichuan's newer spelling of `knowledge_base`."""

    type: Literal["retrieval"]
    retrieval: RetrievalSpec


class WebSearchSpec(RequestModel):
    enable: bool = True
    search_mode: str | None = None


class WebSearchTool(RequestModel):
    """Baichuan's newer spelling of `with_search_enhance`."""

    type: Literal["web_search"]
    web_search: WebSearchSpec = Field(default_factory=WebSearchSpec)


Tool = Annotated[FunctionTool | RetrievalTool | WebSearchTool, Field(discriminator="type")]


class NamedFunction(RequestModel):
    name: str


class NamedToolChoice(RequestModel):
    type: Literal["function"]
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice
FunctionCallChoice = Literal["none", "auto"] | NamedFunction
# OpenAI's reasoning_effort; each vendor's mapping is in providers/reasoning.py.
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class JSONSchemaSpec(RequestModel):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(RequestModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaSpec | None = None

    @model_validator(mode="after")
    def _schema_present(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format of type 'json_schema' needs 'json_schema'")
        return self


class StreamOptions(RequestModel):
    include_usage: StrictBool = False


class KnowledgeBaseRef(RequestModel):
    ids: list[str] = Field(default_factory=list, max_length=32)
    # Beyond Baichuan's fields: how many passages to cite at most (default: the server's),
    # the floor a passage's score must reach (default: the retriever's; 0 cites the best
    # whatever their score), and whether the answer should mark what it uses with [n].
    top_k: int | None = Field(default=None, ge=1, le=20)
    score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    citation_markers: bool = False


class ChatCompletionRequest(RequestModel):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=128)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: StrictBool | None = None
    functions: list[FunctionDefinition] | None = Field(default=None, min_length=1)
    function_call: FunctionCallChoice | None = None
    logprobs: StrictBool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    reasoning_effort: ReasoningEffort | None = None
    knowledge_base: KnowledgeBaseRef | None = None
    with_search_enhance: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        return not_too_deep(data)

    @field_validator("top_k")
    @classmethod
    def _clamp_top_k(cls, value: int | None) -> int | None:
        # Baichuan: 0 turns top-k off; values over 20 are corrected to 20.
        return None if value is None else min(value, 20)

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str] | None:
        if value is None:
            return None
        stops = [value] if isinstance(value, str) else value
        if len(stops) > 4:
            raise ValueError("'stop' takes at most 4 sequences")
        if any(s == "" for s in stops):
            raise ValueError("'stop' sequences must not be empty")
        return stops or None

    @field_validator("logit_bias")
    @classmethod
    def _bias_keys(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if len(value) > 1024:
            raise ValueError("'logit_bias' takes at most 1024 entries")
        for token, bias in value.items():
            if not token.lstrip("-").isdigit() or int(token) < 0:
                raise ValueError(f"'logit_bias' keys must be token ids, got {token!r}")
            if not -100.0 <= bias <= 100.0:
                raise ValueError(f"'logit_bias' values must be in [-100, 100], got {bias}")
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> ChatCompletionRequest:
        if self.tools is not None and self.functions is not None:
            raise ValueError("use either 'tools' or the legacy 'functions', not both")
        names = {f.name for f in self.function_definitions()}
        choice = self.named_function()
        if choice is not None and choice not in names:
            raise ValueError(f"the requested function '{choice}' is not among the declared ones")
        if self.tool_choice is not None and self.tool_choice != "none" and not names:
            raise ValueError("'tool_choice' needs function tools in 'tools'")
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("'top_logprobs' needs 'logprobs': true")
        return self

    # --- derived views used below the API -------------------------------------------------

    def output_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def function_definitions(self) -> list[FunctionDefinition]:
        if self.functions is not None:
            return list(self.functions)
        return [t.function for t in self.tools or [] if isinstance(t, FunctionTool)]

    def uses_legacy_functions(self) -> bool:
        return self.functions is not None

    def named_function(self) -> str | None:
        """The function the client forces, if any (tool_choice or legacy function_call)."""
        if isinstance(self.tool_choice, NamedToolChoice):
            return self.tool_choice.function.name
        if isinstance(self.function_call, NamedFunction):
            return self.function_call.name
        return None

    def tool_mode(self) -> Literal["none", "auto", "required", "named"]:
        if not self.function_definitions():
            return "none"
        if self.named_function() is not None:
            return "named"
        choice = self.tool_choice if self.tools is not None else self.function_call
        if choice in ("none", "required"):
            return choice
        return "auto"

    def wants_reasoning(self) -> bool:
        """The client asked for reasoning ("none" asks for none)."""
        return self.reasoning_effort not in (None, "none")

    def knowledge_base_ids(self) -> list[str]:
        ids = list(self.knowledge_base.ids) if self.knowledge_base else []
        for tool in self.tools or []:
            if isinstance(tool, RetrievalTool):
                ids.extend(tool.retrieval.kb_ids)
        return list(dict.fromkeys(ids))

    def wants_web_search(self) -> bool:
        return self.with_search_enhance or any(
            isinstance(t, WebSearchTool) and t.web_search.enable for t in self.tools or []
        )
