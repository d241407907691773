"""At a phone's width, in English and in Chinese: no page is wider than the screen, and every
table whose columns go past its card's edge shows the scroll hint. Screenshots of each page in
both languages land in test-artifacts/console/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console

PAGES = ["playground", "kbs", "keys", "usage", "images", "translate"]
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
CLIPPED_WITHOUT_HINT = """() => [...document.querySelectorAll(".table-box")]
  .filter((box) => box.checkVisibility())
  .filter((box) => {
    const wrap = box.querySelector(".table-wrap");
    const hint = box.querySelector(".scroll-hint");
    const clipped = wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft > 2;
    return clipped && !hint.checkVisibility();
  }).length"""


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("name", PAGES)
def test_phone_pages_in_both_languages(phone: Console, name: str, language: str) -> None:
    phone.sign_in()
    page = phone.page
    page.get_by_test_id("lang").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    phone.open(name)
    expect(page.locator("#main h1")).not_to_have_text("")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.evaluate(OVERFLOW) <= 0
    assert page.evaluate(CLIPPED_WITHOUT_HINT) == 0
    phone.screenshot(f"phone-{name}-{language}")
