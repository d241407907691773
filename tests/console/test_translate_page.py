"""The translation page (#translate) against a server with DeepL models on a fake DeepL; and
the usage page telling DeepL rows by their characters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.console.conftest import Console
from tests.console.test_phone import OVERFLOW, inside_screen
from tests.fakes.deepl import DEEPL_KEY, FakeDeepL
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """This module's own server (the conftest's `console` fixture uses it): a DeepL model, one
    whose account is spent (every call a 456), and no local model."""
    working, spent = FakeDeepL(), FakeDeepL(quota=0)
    with serve_asgi(working.app()) as ok_url, serve_asgi(spent.app()) as spent_url:

        def channel(url: str) -> dict[str, Any]:
            # the language chat completions translate into (/v1/translate names its own)
            options = {"target_lang": "ZH"}
            return {"provider": "deepl", "base_url": url, "api_key": DEEPL_KEY, "options": options}

        price = {"prompt": 0.02, "completion": 0}
        config = {
            "models": [
                {"name": "deepl", "price": price, "channels": [channel(ok_url)]},
                {"name": "deepl-spent", "channels": [channel(spent_url)]},
            ]
        }
        with run_server(tmp_path_factory.mktemp("console-translate"), config=config) as server:
            yield server


def test_translates_and_shows_the_detected_language(console: Console) -> None:
    page = console.page
    console.sign_in()
    console.open("translate")
    options = page.get_by_test_id("translate-model").locator("option")
    expect(options).to_have_count(3)
    page.get_by_test_id("translate-model").select_option("deepl")
    page.get_by_test_id("translate-text").fill("Where is the station?")
    page.get_by_test_id("translate-target").fill("JA")

    held: list[Route] = []
    page.route("**/v1/translate", lambda route: held.append(route))
    page.get_by_test_id("translate-submit").click()
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    assert held[0].request.post_data_json == {
        "text": "Where is the station?",
        "target_lang": "JA",
        "model": "deepl",
    }
    expect(page.get_by_test_id("translate-submit")).to_be_disabled()
    expect(page.get_by_test_id("translate-status")).to_have_text("Translating…")
    held[0].continue_()
    page.unroute("**/v1/translate")

    expect(page.get_by_test_id("translate-output")).to_have_text("[JA] Where is the station?")
    expect(page.get_by_test_id("translate-detected")).to_have_text("Detected source language: EN")
    expect(page.get_by_test_id("translate-submit")).to_be_enabled()
    expect(page.get_by_test_id("translate-status")).to_contain_text("deepl")

    # A given source language is sent (and DeepL reports it back).
    page.get_by_test_id("translate-source").fill("DE")
    page.get_by_test_id("translate-text").fill("Guten Morgen")
    page.get_by_test_id("translate-submit").click()
    expect(page.get_by_test_id("translate-output")).to_have_text("[JA] Guten Morgen")
    expect(page.get_by_test_id("translate-detected")).to_have_text("Detected source language: DE")


def test_translate_error_shows_the_api_message(console: Console) -> None:
    page = console.page
    body = {"text": "Hello", "target_lang": "ZH", "model": "deepl-spent"}
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    refused = httpx.post(console.server.api_url + "/translate", json=body, headers=headers)
    assert refused.status_code >= 400
    message = refused.json()["error"]["message"]
    console.expected.append(str(refused.status_code))  # the browser logs the failed request
    console.sign_in()
    console.open("translate")
    page.get_by_test_id("translate-model").select_option("deepl-spent")
    page.get_by_test_id("translate-text").fill("Hello")
    page.get_by_test_id("translate-target").fill("ZH")
    page.get_by_test_id("translate-submit").click()
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.get_by_test_id("translate-output")).to_have_text("")
    expect(page.get_by_test_id("translate-submit")).to_be_enabled()


def test_usage_rows_count_characters(console: Console) -> None:
    page = console.page
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    body = {"text": "Good night, moon.", "target_lang": "DE", "model": "deepl"}
    done = httpx.post(console.server.api_url + "/translate", json=body, headers=headers)
    assert done.status_code == 200, done.text
    console.sign_in()
    console.open("usage")
    newest = page.get_by_test_id("request-row").first
    expect(newest).to_contain_text("deepl")
    expect(newest.get_by_test_id("units")).to_have_text(f"{len('Good night, moon.')} chars")


def test_translate_page_fits_a_phone(phone: Console) -> None:
    page = phone.page
    phone.sign_in()
    phone.open("translate")
    page.get_by_test_id("translate-model").select_option("deepl")
    page.get_by_test_id("translate-text").fill("A long sentence to translate. " * 20)
    page.get_by_test_id("translate-submit").click()
    expect(page.get_by_test_id("translate-output")).to_contain_text("[ZH] A long sentence")
    assert page.evaluate(OVERFLOW) <= 0
    for control in ("translate-text", "translate-submit", "translate-output"):
        assert inside_screen(phone, control), control
