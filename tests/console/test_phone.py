"""Every page at a phone's width: nothing wider than the screen, the controls reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.console.conftest import PHONE, Console

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
PAGES = {
    "playground": "prompt",
    "kbs": "kb-create",
    "keys": "key-create",
    "usage": "chart-tokens",
}


def inside_screen(console: Console, test_id: str) -> bool:
    box = console.page.get_by_test_id(test_id).bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_a_phone(phone: Console, name: str) -> None:
    phone.sign_in()
    phone.open(name)
    control = phone.page.get_by_test_id(PAGES[name])
    expect(control).to_be_visible()
    if name == "usage":
        expect(control.locator("canvas")).to_have_count(1)
    assert phone.page.evaluate(OVERFLOW) <= 0
    assert inside_screen(phone, PAGES[name])


def test_chat_on_a_phone(phone: Console) -> None:
    page = phone.page
    phone.sign_in()
    page.get_by_test_id("param-max_tokens").fill("12")
    page.get_by_test_id("prompt").fill("Say hello.")
    assert inside_screen(phone, "send") and inside_screen(phone, "stop")
    page.get_by_test_id("send").click()
    expect(page.locator(".msg.assistant .meta").last).to_contain_text("finish:", timeout=60_000)
    assert page.evaluate(OVERFLOW) <= 0
