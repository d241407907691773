"""Dark mode: the console follows prefers-color-scheme, and the header's toggle overrides it
(kept across reloads); the usage charts draw their axes light on dark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.conftest import DESKTOP, Console
from tests.support.server import RunningServer

BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


def luminance(css: str) -> float:
    """0 (black) … 255 (white) for an `rgb(r, g, b)` colour."""
    r, g, b = (int(part) for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.fixture
def dark(
    browser: Browser, console_server: RunningServer, request: pytest.FixtureRequest
) -> Iterator[Console]:
    """A desktop page whose system asks for dark colours."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield Console(page, console_server, errors)
    finally:
        context.close()
    assert not errors, errors


def background(page: Page) -> float:
    return luminance(page.evaluate(BACKGROUND))


def test_a_dark_system_gets_a_dark_console(dark: Console) -> None:
    dark.page.goto(dark.url)
    expect(dark.page.get_by_test_id("signin-submit")).to_be_visible()
    assert background(dark.page) < 60


def test_a_light_system_gets_a_light_console(console: Console) -> None:
    console.page.goto(console.url)
    expect(console.page.get_by_test_id("signin-submit")).to_be_visible()
    assert background(console.page) > 200


def test_the_toggle_overrides_the_system_and_is_kept(dark: Console) -> None:
    page = dark.page
    page.goto(dark.url)
    page.get_by_test_id("theme").select_option("light")
    assert background(page) > 200
    page.reload()
    expect(page.get_by_test_id("theme")).to_have_value("light")
    assert background(page) > 200
    page.get_by_test_id("theme").select_option("dark")
    assert background(page) < 60
    page.get_by_test_id("theme").select_option("auto")
    assert background(page) < 60  # the system's dark again


def test_the_toggle_darkens_a_light_system(console: Console) -> None:
    console.sign_in()
    page = console.page
    page.get_by_test_id("theme").select_option("dark")
    assert background(page) < 60
    card = page.locator(".card").first
    assert luminance(card.evaluate("el => getComputedStyle(el).backgroundColor")) < 60
    text = page.locator("#main h1").evaluate("el => getComputedStyle(el).color")
    assert luminance(text) > 180  # light text on the dark page


def test_charts_are_readable_in_the_dark(dark: Console) -> None:
    dark.sign_in()
    dark.open("usage")
    page = dark.page
    chart = page.get_by_test_id("chart-tokens")
    expect(chart.locator("canvas")).to_have_count(1)
    legend = chart.locator(".u-legend").first
    assert luminance(legend.evaluate("el => getComputedStyle(el).color")) > 180
    # The canvas's axis labels: some pixels are light (drawn with the dark theme's stroke).
    light_pixels = chart.locator("canvas").evaluate(
        """canvas => {
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] > 200 && data[i] > 180 && data[i + 1] > 180) n++;
          }
          return n;
        }"""
    )
    assert light_pixels > 20
