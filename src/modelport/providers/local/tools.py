"""Function calling on the local model: tool prompts, grammars and parsing the model's output.

A small local model cannot be trusted to format calls, so when the client forces a call
(`tool_choice` names a function or is "required") decoding is grammar-constrained; with "auto"
the model may answer in text or with a JSON call, which is recognised after the fact.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from ...engine.grammar import json_schema_grammar, tool_call_schema
from ...protocol.chat import ChatCompletionRequest, FunctionDefinition

ToolMode = Literal["none", "auto", "required", "named"]

_NAME = re.compile(r'"((?:[^"\\]|\\.)*)(")?')


@dataclass(frozen=True)
class ParsedCall:
    name: str
    arguments: str


def call_id() -> str:
    return "call_" + secrets.token_hex(12)


def tools_system_prompt(functions: list[FunctionDefinition], mode: ToolMode) -> str:
    lines = ["You can call these functions:"]
    for fn in functions:
        params = json.dumps(fn.parameters or {"type": "object"}, ensure_ascii=False)
        lines.append(f"- {fn.name}: {fn.description or ''} Parameters (JSON schema): {params}")
    if mode == "auto":
        lines.append(
            'To call one, reply with only {"name": <function name>, "arguments": {...}}; '
            "otherwise answer normally."
        )
    else:
        lines.append('Reply with only {"name": <function name>, "arguments": {...}}.')
    return "\n".join(lines)


def decoding_grammar(request: ChatCompletionRequest) -> str | None:
    """The grammar the sampler must follow for this request, if any."""
    mode = request.tool_mode()
    functions = request.function_definitions()
    if mode == "named":
        target = next(f for f in functions if f.name == request.named_function())
        return json_schema_grammar(target.parameters)
    if mode == "required":
        schema = tool_call_schema([(f.name, f.parameters) for f in functions])
        return json_schema_grammar(schema, prop_order=("name", "arguments"))
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_object":
        return json_schema_grammar(None)
    if fmt is not None and fmt.type == "json_schema" and fmt.json_schema is not None:
        return json_schema_grammar(fmt.json_schema.schema_)
    return None


def parse_call(text: str, request: ChatCompletionRequest) -> ParsedCall | None:
    """The function call in the model's output, or None when it answered in text."""
    mode = request.tool_mode()
    if mode == "none":
        return None
    if mode == "named":
        name = request.named_function()
        assert name is not None
        return ParsedCall(name, text.strip())
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    names = {f.name for f in request.function_definitions()}
    if not isinstance(data, dict) or data.get("name") not in names:
        return None
    arguments = data.get("arguments", {})
    if isinstance(arguments, str):
        return ParsedCall(data["name"], arguments)
    return ParsedCall(data["name"], json.dumps(arguments, ensure_ascii=False))


def parse_partial_call(text: str, request: ChatCompletionRequest) -> ParsedCall | None:
    """The call a grammar-forced ("required") output cut short (by `max_tokens` or a stop
    sequence) had begun: as much of it as was written, like a named call cut the same way.

    The name is the one function it can still become (every function when only one is
    declared; "" while several remain); the arguments are the JSON text written so far.
    """
    if request.tool_mode() != "required":
        return None
    head = _call_head(text)
    if head is None:
        return None
    written, closed, arguments = head
    names = [f.name for f in request.function_definitions()]
    candidates = [n for n in names if (n == written if closed else n.startswith(written))]
    return ParsedCall(candidates[0] if len(candidates) == 1 else "", arguments)


def _call_head(text: str) -> tuple[str, bool, str] | None:
    """(name written so far, whether its string closed, the arguments' text) of a cut
    `{"name": ..., "arguments": ...}`, or None if the text is not the start of one."""
    rest = text
    name, closed = "", False
    for part in ("{", '"name"', ":", None, ",", '"arguments"', ":"):
        rest = rest.lstrip()
        if not rest:
            return name, closed, ""
        if part is None:  # the name's string, maybe cut inside
            match = _NAME.match(rest)
            if match is None:
                return None
            try:
                name = json.loads('"' + match.group(1) + '"')
            except ValueError:  # cut inside an escape
                name = match.group(1)
            closed = bool(match.group(2))
            rest = rest[match.end() :]
        elif rest.startswith(part):
            rest = rest[len(part) :]
        elif part.startswith(rest):  # cut inside this piece of the wrapper
            return name, closed, ""
        else:
            return None
    return name, closed, rest.lstrip()
