"""JSON mode and forced tool calls never put a raw control character (a newline, a tab) inside
a string: the grammar excludes them as JSON does, however hard the sampler is pushed."""

from __future__ import annotations

import json

import openai

from modelport.engine.grammar import json_schema_grammar
from modelport.engine.native import NativeModel
from modelport.settings import default_gguf_path
from tests.support.server import RunningServer

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def test_the_string_rule_excludes_control_characters() -> None:
    (char,) = [line for line in json_schema_grammar(SCHEMA).splitlines() if line.startswith("char")]
    assert char.startswith('char ::= [^"\\\\\\x7F\\x00-\\x1F]'), char


def test_a_sampler_pushed_to_newlines_still_writes_json(server: RunningServer) -> None:
    model = NativeModel(default_gguf_path())
    try:
        controls = {
            t
            for text in ("\n", "\t", "\n\n")
            for t in model.tokenize(text, add_special=False, parse_special=False)
        }
    finally:
        model.close()
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    for seed in (1, 2, 3):
        reply = client.chat.completions.create(
            model="smollm2-135m-instruct",
            messages=[{"role": "user", "content": "Which city? Answer in JSON."}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "place", "schema": SCHEMA},
            },
            logit_bias={str(t): 100 for t in controls},
            max_tokens=24,
            seed=seed,
        )
        text = reply.choices[0].message.content or ""
        if reply.choices[0].finish_reason == "stop":
            assert isinstance(json.loads(text)["city"], str), text
        assert not any(ch in text for ch in "\n\t"), text
