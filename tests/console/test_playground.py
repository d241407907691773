"""Sign-in and the playground: streamed output, stop, and the view-code panel."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any, cast

import httpx
from playwright.sync_api import Route, expect

from tests.console.conftest import Console

STREAMING_TEXT = (
    "() => { const el = document.querySelector('.msg.assistant.streaming .content');"
    " return el !== null && el.textContent.length > 0; }"
)


def set_params(console: Console, **values: float) -> None:
    for name, value in values.items():
        console.page.get_by_test_id(f"param-{name}").fill(str(value))


def test_sign_in_rejects_a_wrong_key_and_keeps_the_key_in_session_storage(
    console: Console,
) -> None:
    page = console.page
    console.expected.append("401")
    page.goto(console.url)
    page.get_by_test_id("signin-key").fill("sk-not-a-real-key-000000")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_role("alert")).to_contain_text("Incorrect API key")
    expect(page.locator("#nav")).to_be_hidden()

    console.sign_in()
    expect(page.locator("#whoami")).to_contain_text("admin")
    stored = page.evaluate(
        "() => [sessionStorage.getItem('modelport.apiKey'), localStorage.length]"
    )
    assert stored == [console.server.admin_key, 0]
    page.reload()  # same tab: still signed in
    expect(page.locator("#nav")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("signin-key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_send_waits_for_the_model_list(console: Console) -> None:
    """A click before /v1/models answers would send nothing; Send stays disabled until then."""
    page = console.page
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/v1/models", hold)
    console.sign_in()
    page.get_by_test_id("prompt").fill("Say hello.")
    for _ in range(300):  # the handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    expect(page.get_by_test_id("send")).to_be_disabled()
    held[0].continue_()
    page.unroute("**/v1/models")
    expect(page.get_by_test_id("send")).to_be_enabled()
    set_params(console, max_tokens=4)
    page.get_by_test_id("send").click()
    expect(page.locator(".msg.assistant .meta").last).to_contain_text("finish:", timeout=60_000)


def test_chat_streams_tokens_as_they_arrive(console: Console) -> None:
    page = console.page
    console.sign_in()
    expect(page.get_by_test_id("model")).to_have_value("smollm2-135m-instruct")
    # Only chat models: /v1/models also lists the embedding models, which cannot chat.
    offered = page.get_by_test_id("model").locator("option").all_text_contents()
    assert offered == ["smollm2-135m-instruct"], offered
    set_params(console, max_tokens=32, temperature=0)
    page.get_by_test_id("prompt").fill("Name three colours.")
    page.get_by_test_id("send").click()
    # Text shows up while the message is still marked as streaming, before the stream ends.
    page.wait_for_function(STREAMING_TEXT, polling=10, timeout=60_000)
    expect(page.get_by_test_id("stop")).to_be_enabled()
    output = page.get_by_test_id("assistant-output").last
    expect(page.locator(".msg.assistant .meta").last).to_contain_text("finish:", timeout=60_000)
    assert output.text_content()
    expect(page.locator(".msg.assistant .meta").last).to_contain_text("tokens")
    expect(page.get_by_test_id("send")).to_be_enabled()
    expect(page.get_by_test_id("stop")).to_be_disabled()


def test_stop_cancels_the_request(console: Console) -> None:
    page = console.page
    console.sign_in()
    set_params(console, max_tokens=2000, temperature=0.8)
    before = request_ids(console)
    page.get_by_test_id("prompt").fill("Write a very long story about a dragon and a lighthouse.")
    page.get_by_test_id("send").click()
    page.wait_for_function(STREAMING_TEXT, polling=10, timeout=60_000)
    page.get_by_test_id("stop").click()
    meta = page.locator(".msg.assistant .meta").last
    expect(meta).to_have_text("stopped")
    stopped_at = page.get_by_test_id("assistant-output").last.text_content()
    page.wait_for_timeout(700)  # nothing more arrives once stopped
    assert page.get_by_test_id("assistant-output").last.text_content() == stopped_at
    expect(page.get_by_test_id("send")).to_be_enabled()
    # The server saw the request go: it stopped generating and billed what it had produced.
    entry = latest_request(console, after=before)
    assert (entry["status"], entry["error_code"]) == (499, "client_disconnected")
    assert 0 < entry["completion_tokens"] < 2000


def latest_request(console: Console, after: set[str]) -> dict[str, Any]:
    """The admin key's first request not in `after`, once the ledger has it."""
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = httpx.get(console.server.api_url + "/usage/requests", headers=headers).json()
        new = [r for r in rows["data"] if r["request_id"] not in after]
        if new:
            return cast(dict[str, Any], new[0])
        time.sleep(0.2)
    raise AssertionError("the stopped request never reached the ledger")


def request_ids(console: Console) -> set[str]:
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    rows = httpx.get(console.server.api_url + "/usage/requests?limit=500", headers=headers)
    return {r["request_id"] for r in rows.json()["data"]}


def test_view_code_shows_a_curl_command_and_a_python_call_that_run(console: Console) -> None:
    page = console.page
    console.sign_in()
    set_params(console, max_tokens=8, temperature=0)
    page.get_by_test_id("prompt").fill("Say hi.")
    page.get_by_test_id("view-code").locator("summary").click()
    code = page.get_by_test_id("code")
    expect(code).to_contain_text(f"curl {console.server.api_url}/chat/completions")
    expect(code).to_contain_text('"max_tokens": 8')
    expect(code).to_contain_text('"content": "Say hi."')
    page.get_by_test_id("code-tab-python").click()
    expect(code).to_contain_text("from openai import OpenAI")
    python = code.text_content() or ""
    assert "max_tokens=8" in python
    assert '"top_k": 5' in python  # not an OpenAI parameter: sent in extra_body
    env = {**os.environ, "OPENAI_API_KEY": console.server.admin_key}
    ran = subprocess.run(
        [sys.executable, "-c", python], capture_output=True, text=True, env=env, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip()
