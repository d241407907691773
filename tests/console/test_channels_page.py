"""Channels page (admin): add a channel on a fake OpenAI-compatible upstream, test it (the
latency shown), switch it off and on, delete it; a failing test shows the vendor's error
with the channel's key kept out of it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_asgi(create_app()) as base_url:
        yield base_url + "/v1"


def add_channel(console: Console, name: str, base_url: str, key: str, model: str) -> None:
    page = console.page
    page.get_by_test_id("channel-name").fill(name)
    page.get_by_test_id("channel-provider").select_option("openai_compat")
    page.get_by_test_id("channel-base-url").fill(base_url)
    page.get_by_test_id("channel-keys").fill(key)
    page.get_by_test_id("channel-models").fill(model)
    page.get_by_test_id("channel-price-prompt").fill("0.5")
    page.get_by_test_id("channel-price-completion").fill("1.5")
    page.get_by_test_id("channel-save").click()
    expect(page.get_by_test_id("channel-note")).to_have_text(f"Channel “{name}” added.")


def stored(console: Console, name: str) -> dict[str, object] | None:
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    answer = httpx.get(console.server.base_url + "/admin/channels", headers=headers, timeout=30)
    answer.raise_for_status()
    return next((c for c in answer.json()["data"] if c["name"] == name), None)


def test_add_test_switch_and_delete_a_channel(console: Console, upstream: str) -> None:
    page = console.page
    name = f"fake-{uuid.uuid4().hex[:6]}"
    console.sign_in()
    console.open("channels")
    add_channel(console, name, upstream, "sk-test-1", f"{name}-model")
    row = page.get_by_test_id(f"channel-row-{name}")
    expect(row.get_by_test_id("channel-status")).to_have_text("Enabled")
    expect(row).not_to_contain_text("sk-test-1")  # keys are shown masked
    saved = stored(console, name)
    assert saved is not None and saved["models"] == [f"{name}-model"]
    assert saved["price"] == {
        "prompt": 0.5,
        "completion": 1.5,
        "per_search": 0.0,
        "cached_prompt": None,
    }

    row.get_by_test_id("channel-test").click()
    expect(page.get_by_test_id("channel-note")).to_have_text(re.compile(r"^OK in \d+ ms$"))
    expect(page.get_by_test_id("channel-note")).to_have_class("ok")
    expect(row.get_by_test_id("channel-last-test")).to_contain_text(re.compile(r"OK in \d+ ms"))

    row.get_by_test_id("channel-edit").click()  # keys left blank stay as they are
    page.get_by_test_id("channel-models").fill(f"{name}-model, {name}-other")
    page.get_by_test_id("channel-weight").fill("3")
    page.get_by_test_id("channel-save").click()
    expect(page.get_by_test_id("channel-note")).to_have_text("Channel saved.")
    edited = stored(console, name) or {}
    assert (edited["models"], edited["weight"]) == ([f"{name}-model", f"{name}-other"], 3)
    assert edited["api_keys"] == saved["api_keys"]  # still the one key, shown masked
    assert edited["price"] == saved["price"]

    row.get_by_test_id("channel-toggle").click()
    expect(row.get_by_test_id("channel-status")).to_have_text("Disabled")
    assert (stored(console, name) or {})["status"] == "disabled"
    row.get_by_test_id("channel-toggle").click()
    expect(row.get_by_test_id("channel-status")).to_have_text("Enabled")
    assert (stored(console, name) or {})["status"] == "enabled"

    row.get_by_test_id("channel-delete").click()
    row.get_by_test_id("channel-delete").click()  # the second click confirms
    expect(page.get_by_test_id("channel-note")).to_have_text(f"Channel “{name}” deleted.")
    expect(row).to_have_count(0)
    assert stored(console, name) is None


def test_a_failing_test_shows_the_vendors_error(console: Console, upstream: str) -> None:
    page = console.page
    name = f"bad-{uuid.uuid4().hex[:6]}"
    secret = "sk-wrong-" + uuid.uuid4().hex
    console.sign_in()
    console.open("channels")
    add_channel(console, name, upstream, secret, f"{name}-model")
    try:
        row = page.get_by_test_id(f"channel-row-{name}")
        row.get_by_test_id("channel-test").click()
        note = page.get_by_test_id("channel-note")
        expect(note).to_contain_text("Test failed: ")
        expect(note).to_contain_text("Incorrect API key provided")
        expect(note).to_have_class("error")
        expect(row.get_by_test_id("channel-last-test")).to_contain_text(
            "Incorrect API key provided"
        )
        assert secret[:12] not in (note.text_content() or "")
        assert secret[:12] not in (row.text_content() or "")
    finally:  # the console tests share a server: its model would show in their pickers
        channel = stored(console, name)
        if channel is not None:
            headers = {"Authorization": f"Bearer {console.server.admin_key}"}
            url = f"{console.server.base_url}/admin/channels/{channel['id']}"
            httpx.delete(url, headers=headers, timeout=30).raise_for_status()


def test_a_list_that_fails_to_load_says_so_and_retries(console: Console) -> None:
    page = console.page
    console.expected.append("Failed to load resource")  # the request the test breaks
    console.sign_in()
    page.route("**/admin/channels", lambda route: route.abort())
    console.open("channels")
    failed = page.get_by_test_id("channel-rows-failed")
    expect(failed).to_be_visible()
    expect(page.get_by_test_id("channel-rows")).not_to_contain_text("Loading…")
    page.unroute("**/admin/channels")
    page.get_by_test_id("channel-rows").get_by_role("button", name="Retry").click()
    expect(failed).to_have_count(0)
    expect(
        page.get_by_test_id("channel-rows").locator("tr[data-testid^=channel-row-]").first
    ).to_be_visible()
