"""Bad input gets the OpenAI error envelope with the right 4xx status, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer

MODEL = "smollm2-135m-instruct"
USER = [{"role": "user", "content": "hi"}]


def post(
    server: RunningServer,
    body: Any,
    *,
    raw: bytes | None = None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {
        "Authorization": f"Bearer {key if key is not None else server.admin_key}",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    content = raw if raw is not None else httpx.Request("POST", "/", json=body).content
    return httpx.post(
        server.api_url + "/chat/completions", content=content, headers=sent, timeout=60
    )


def assert_envelope(
    response: httpx.Response, status: int, param: str | None, code: str | None
) -> dict[str, Any]:
    """The OpenAI error envelope with exactly this status, `param` and `code` (None: null)."""
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == "invalid_request_error", error
    assert (error["param"], error["code"]) == (param, code), error
    return dict(error)


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("no model", {"messages": USER}, "model"),
    ("no messages", {"model": MODEL}, "messages"),
    ("empty messages", {"model": MODEL, "messages": []}, "messages"),
    (
        "bad role",
        {"model": MODEL, "messages": [{"role": "robot", "content": "x"}]},
        "messages.0.role",
    ),
    (
        "content wrong type",
        {"model": MODEL, "messages": [{"role": "user", "content": 5}]},
        "messages.0.content",
    ),
    ("temperature too high", {"model": MODEL, "messages": USER, "temperature": 2.5}, "temperature"),
    (
        "temperature wrong type",
        {"model": MODEL, "messages": USER, "temperature": "hot"},
        "temperature",
    ),
    ("top_p above 1", {"model": MODEL, "messages": USER, "top_p": 1.5}, "top_p"),
    ("negative top_k", {"model": MODEL, "messages": USER, "top_k": -1}, "top_k"),
    ("max_tokens zero", {"model": MODEL, "messages": USER, "max_tokens": 0}, "max_tokens"),
    ("n zero", {"model": MODEL, "messages": USER, "n": 0}, "n"),
    ("five stops", {"model": MODEL, "messages": USER, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    (
        "penalty out of range",
        {"model": MODEL, "messages": USER, "presence_penalty": 3},
        "presence_penalty",
    ),
    ("logit_bias key", {"model": MODEL, "messages": USER, "logit_bias": {"abc": 1}}, "logit_bias"),
    (
        "logit_bias value",
        {"model": MODEL, "messages": USER, "logit_bias": {"5": 300}},
        "logit_bias",
    ),
    (
        "tool message without id",
        {"model": MODEL, "messages": [{"role": "tool", "content": "x"}]},
        "messages.0",
    ),
    (
        "unknown forced tool",
        {
            "model": MODEL,
            "messages": USER,
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": {"type": "function", "function": {"name": "g"}},
        },
        None,  # a rule across fields: no one field to name
    ),
    (
        "bad response_format",
        {"model": MODEL, "messages": USER, "response_format": {"type": "xml"}},
        "response_format.type",
    ),
    ("stream not bool", {"model": MODEL, "messages": USER, "stream": "yes"}, "stream"),
]


@pytest.mark.parametrize(("name", "body", "param"), CASES, ids=[c[0] for c in CASES])
def test_invalid_request_is_400(
    server: RunningServer, name: str, body: dict[str, Any], param: str | None
) -> None:
    error = assert_envelope(post(server, body), 400, param, "invalid_value")
    if param is not None:
        assert error["message"].startswith(f"Invalid value for '{param}': "), error


def test_malformed_json_is_400(server: RunningServer) -> None:
    assert_envelope(post(server, None, raw=b'{"model": '), 400, None, "invalid_json")


def test_non_object_body_is_400(server: RunningServer) -> None:
    error = assert_envelope(post(server, None, raw=b"[1, 2]"), 400, None, "invalid_json")
    assert error["message"] == "The request body must be a JSON object."


def test_missing_key_is_401(server: RunningServer) -> None:
    response = httpx.post(server.api_url + "/chat/completions", json={"model": MODEL}, timeout=10)
    assert_envelope(response, 401, None, "missing_api_key")


def test_wrong_key_is_401(server: RunningServer) -> None:
    assert_envelope(
        post(server, {"model": MODEL, "messages": USER}, key="sk-" + "x" * 48),
        401,
        None,
        "invalid_api_key",
    )


def test_models_need_a_key(server: RunningServer) -> None:
    assert_envelope(httpx.get(server.api_url + "/models", timeout=10), 401, None, "missing_api_key")


def test_unknown_model_is_404(server: RunningServer) -> None:
    assert_envelope(
        post(server, {"model": "gpt-9", "messages": USER}), 404, "model", "model_not_found"
    )
    response = httpx.get(
        server.api_url + "/models/gpt-9",
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=10,
    )
    assert_envelope(response, 404, "model", "model_not_found")


def test_body_over_limit_is_413(server: RunningServer) -> None:
    huge = (
        b'{"model": "x", "messages": [{"role": "user", "content": "' + b"a" * (21 << 20) + b'"}]}'
    )
    assert_envelope(post(server, None, raw=huge), 413, None, "request_too_large")


def test_context_overflow_is_400(server: RunningServer) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "word " * 9000}]}
    assert_envelope(post(server, body), 400, "messages", "context_length_exceeded")


def test_max_tokens_over_context_is_400(server: RunningServer) -> None:
    body = {"model": MODEL, "messages": USER, "max_tokens": 10_000_000}
    assert_envelope(post(server, body), 400, "max_tokens", "context_length_exceeded")


def test_too_many_choices_is_400(server: RunningServer) -> None:
    assert_envelope(post(server, {"model": MODEL, "messages": USER, "n": 100}), 400, "n", None)


def test_image_input_is_400_for_the_text_model(server: RunningServer) -> None:
    content = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}]}
    assert_envelope(post(server, body), 400, "messages.0.content", "unsupported_content")


def test_logit_bias_outside_vocabulary_is_400(server: RunningServer) -> None:
    body = {"model": MODEL, "messages": USER, "logit_bias": {"99999999": 5}}
    error = assert_envelope(post(server, body), 400, "logit_bias", None)
    assert "99999999" in error["message"]


def test_unknown_fields_are_ignored(server: RunningServer) -> None:
    body = {"model": MODEL, "messages": USER, "max_tokens": 2, "frobnicate": [1, {"a": None}]}
    assert post(server, body).status_code == 200
