"""GBNF grammars that constrain decoding to JSON (optionally matching a JSON schema)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from llama_cpp.llama_grammar import json_schema_to_gbnf

ANY_JSON_OBJECT: dict[str, Any] = {"type": "object"}


# llama-cpp-python's converter lets a string hold raw control characters (a newline, a tab),
# which no JSON parser accepts; llama.cpp's own converter excludes them, as JSON does.
_LOOSE_CHAR = 'char ::= [^"\\\\]'
_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'


@lru_cache(maxsize=256)
def _compile(schema_json: str, prop_order: tuple[str, ...]) -> str:
    grammar: str = json_schema_to_gbnf(schema_json, list(prop_order) or None)
    return "\n".join(
        _JSON_CHAR + line.removeprefix(_LOOSE_CHAR) if line.startswith(_LOOSE_CHAR) else line
        for line in grammar.splitlines()
    )


def json_schema_grammar(schema: dict[str, Any] | None, prop_order: tuple[str, ...] = ()) -> str:
    """GBNF for a JSON value matching `schema` (any JSON object when None).

    The schema converter's whitespace rule (`space ::= " "?`) keeps small models from looping
    on newlines, which the generic JSON grammar allows.
    """
    try:
        return _compile(json.dumps(schema or ANY_JSON_OBJECT, sort_keys=True), prop_order)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(f"the JSON schema cannot be turned into a grammar: {exc}") from exc


def tool_call_schema(functions: list[tuple[str, dict[str, Any] | None]]) -> dict[str, Any]:
    """Schema for `{"name": <one of the functions>, "arguments": <that function's parameters>}`."""
    variants = [
        {
            "type": "object",
            "properties": {
                "name": {"const": name},
                "arguments": parameters or ANY_JSON_OBJECT,
            },
            "required": ["name", "arguments"],
        }
        for name, parameters in functions
    ]
    return variants[0] if len(variants) == 1 else {"anyOf": variants}
