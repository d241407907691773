"""The chat route takes a signed-in console's session cookie as every other route does: the
console's playground chats with no key of its own, and without the CSRF token it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.operator_flow_support import flow_server, sign_up
from tests.support.stores import STORES

BODY = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("store", STORES)
def test_chat_through_a_session_cookie(store: str, tmp_path: Path) -> None:
    with flow_server(store, tmp_path) as flow, flow.admin() as admin:
        channel = {
            "name": "c1",
            "provider": "openai_compat",
            "base_url": flow.upstream_url,
            "api_keys": ["sk-test-1"],
            "models": ["m1"],
        }
        assert admin.post("/admin/channels", json=channel).status_code == 201
        session = sign_up(flow.server, "chatter")
        answer = session.post("/v1/chat/completions", json=BODY)
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"] == "Echo: hi"
        streamed = session.post("/v1/chat/completions", json={**BODY, "stream": True})
        assert streamed.status_code == 200 and "data: [DONE]" in streamed.text

        csrf = session.headers.pop("X-CSRF-Token")
        refused = session.post("/v1/chat/completions", json=BODY)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_failed")
        session.headers["X-CSRF-Token"] = csrf
        logged = session.get("/v1/usage/requests").json()["data"]
        assert [(e["username"], e["status"]) for e in logged] == [("chatter", 200)] * 2
