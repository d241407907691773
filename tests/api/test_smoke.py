"""The server starts on a fresh data dir and answers through the official SDK."""

from __future__ import annotations

import openai

from tests.support.server import RunningServer


def test_sync_chat_through_sdk(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name, messages=[{"role": "user", "content": "Say hello."}], max_tokens=8
    )
    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-")
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content
    assert reply.usage is not None and reply.usage.completion_tokens <= 8


def test_bootstrap_admin_key_file_is_private(server: RunningServer) -> None:
    key_file = server.data_dir / "admin_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert server.admin_key.startswith("sk-") and len(server.admin_key) >= 35
