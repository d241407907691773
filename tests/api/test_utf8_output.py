"""Chinese and emoji answers through `/v1/chat/completions` never show a partial character
(issue 21), sync and stream, local and relayed.

SmolLM2 is English-only, so the local tests make it write "春天🌸好" with a JSON-schema
grammar (a quoted string matching that pattern): its byte-level tokens split each of those
characters, and `max_tokens` from 1 up cuts the answer at every token, many of them inside a
character. The old engine ended such answers in U+FFFD ('"' then '\ufffd' at two tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import openai
import pytest

from tests.fakes.server import serve_asgi
from tests.fakes.split_utf8 import ANSWER, create_app
from tests.support.server import RunningServer, run_server

FORCED = "春天🌸好"
WHOLE = f'"{FORCED}"'  # what the grammar makes the model write, quotes included
FORMAT: Any = {
    "type": "json_schema",
    "json_schema": {"name": "spring", "schema": {"type": "string", "pattern": f"^{FORCED}$"}},
}
MESSAGES: Any = [{"role": "user", "content": "请用中文写一段关于春天的短文。"}]
CUTS = range(1, 13)  # the forced answer is about a dozen tokens; the last cuts are past it


def _sync(client: openai.OpenAI, model: str, max_tokens: int) -> tuple[str, str, int]:
    reply = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        max_tokens=max_tokens,
        temperature=0,
        response_format=FORMAT,
    )
    assert reply.usage is not None
    choice = reply.choices[0]
    return choice.message.content or "", choice.finish_reason, reply.usage.completion_tokens


def _stream(client: openai.OpenAI, model: str, max_tokens: int) -> tuple[str, str, int]:
    text, finish, tokens = "", "", -1
    for chunk in client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        max_tokens=max_tokens,
        temperature=0,
        response_format=FORMAT,
        stream=True,
        stream_options={"include_usage": True},
    ):
        for choice in chunk.choices:
            piece = choice.delta.content or ""
            assert "\ufffd" not in piece, (max_tokens, piece)
            text += piece
            finish = choice.finish_reason or finish
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return text, finish, tokens


@pytest.mark.parametrize("ask", [_sync, _stream], ids=["sync", "stream"])
def test_local_answer_cut_at_every_token_shows_whole_characters(
    client: openai.OpenAI, model_name: str, ask: Any
) -> None:
    texts: list[str] = []
    for cut in CUTS:
        text, finish, tokens = ask(client, model_name, cut)
        assert "\ufffd" not in text, (cut, text)
        assert WHOLE.startswith(text), (cut, text)
        if text != WHOLE:
            # the count stays the tokens generated, the dropped fragment's included
            assert (finish, tokens) == ("length", cut), (cut, text)
        texts.append(text)
    assert texts[-1] == WHOLE
    # some cut fell inside a character: a token was generated and no text came of it
    assert any(a == b for a, b in pairwise(texts)), texts


# --- relayed: an upstream whose bytes arrive cut inside characters ---------------------------


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with serve_asgi(create_app()) as url:
        channel = {"provider": "openai_compat", "base_url": url + "/v1", "api_key": "sk-up"}
        config = {"models": [{"name": "split", "channels": [channel]}]}
        with run_server(tmp_path_factory.mktemp("split-utf8"), config=config) as running:
            yield running


@pytest.fixture(scope="module")
def relay(gateway: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.api_url, api_key=gateway.admin_key, max_retries=0)


def test_relayed_answer_cut_inside_characters_sync(relay: openai.OpenAI) -> None:
    reply = relay.chat.completions.create(model="split", messages=MESSAGES)
    assert reply.choices[0].message.content == ANSWER


def test_relayed_answer_cut_inside_characters_stream(relay: openai.OpenAI) -> None:
    pieces = [
        choice.delta.content or ""
        for chunk in relay.chat.completions.create(model="split", messages=MESSAGES, stream=True)
        for choice in chunk.choices
    ]
    assert not any("\ufffd" in piece for piece in pieces), pieces
    assert "".join(pieces) == ANSWER
