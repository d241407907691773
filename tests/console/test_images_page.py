"""The image playground (#images) against a server whose image models draw on fakes of
OpenAI's Images API and SD WebUI; and the usage page telling image rows by their count."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.console.conftest import Console
from tests.console.test_phone import OVERFLOW, inside_screen
from tests.fakes.openai_images import create_app as create_openai
from tests.fakes.sd_webui import AUTH
from tests.fakes.sd_webui import create_app as create_sd
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """This module's own server (the conftest's `console` fixture uses it): two image models
    and one chat model on an upstream, so the embedded engine is not loaded."""
    with serve_asgi(create_openai()) as oa, serve_asgi(create_sd()) as sd:
        relay = {"provider": "openai_compat", "base_url": oa + "/v1", "api_key": "sk-x"}
        config = {
            "models": [{"name": "chat-relay", "channels": [relay]}],
            "images": [
                {
                    "name": "dall-e-3",
                    "price": 0.04,
                    "sizes": ["1024x1024", "1792x1024"],
                    "max_n": 1,
                    "edits": False,
                    "channels": [
                        {"provider": "openai_images", "base_url": oa + "/v1"}
                        | {"api_key": "sk-img-1", "upstream_model": "dall-e-3"}
                    ],
                },
                {
                    "name": "sd-local",
                    "price": 0.002,
                    "sizes": ["512x512", "768x512"],
                    "channels": [
                        {"provider": "sd_webui", "base_url": sd, "api_key": AUTH}
                        | {"upstream_model": "v1-5-pruned-emaonly.safetensors"}
                    ],
                },
            ],
        }
        with run_server(tmp_path_factory.mktemp("console-images"), config=config) as server:
            yield server


def test_draws_images_and_offers_each_for_download(console: Console) -> None:
    page = console.page
    console.sign_in()
    console.open("images")
    picker = page.get_by_test_id("image-model")
    # Only image models: the chat model is not offered.
    expect(picker.locator("option")).to_have_count(2)
    assert picker.locator("option").all_text_contents() == ["dall-e-3", "sd-local"]
    picker.select_option("sd-local")
    page.get_by_test_id("image-prompt").fill("a red bicycle under a tree")
    page.get_by_test_id("image-size").fill("768x512")
    page.get_by_test_id("image-n").fill("2")

    held: list[Route] = []
    page.route("**/v1/images/generations", lambda route: held.append(route))
    page.get_by_test_id("image-draw").click()
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    assert held[0].request.post_data_json == {
        "model": "sd-local",
        "prompt": "a red bicycle under a tree",
        "n": 2,
        "size": "768x512",
        "response_format": "url",
    }
    # Loading: the button waits and the page says so.
    expect(page.get_by_test_id("image-draw")).to_be_disabled()
    expect(page.get_by_test_id("image-status")).to_contain_text("Generating 2 images")
    held[0].continue_()
    page.unroute("**/v1/images/generations")

    results = page.get_by_test_id("image-result")
    expect(results).to_have_count(2)
    expect(page.get_by_test_id("image-status")).to_have_text("2 images from sd-local.")
    expect(page.get_by_test_id("image-draw")).to_be_enabled()
    for i in range(2):
        image = results.nth(i).locator("img")
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        link = results.nth(i).get_by_test_id("image-download")
        href = link.get_attribute("href") or ""
        assert href == image.get_attribute("src")
        assert href.startswith(console.server.base_url + "/v1/images/files/")
        assert link.get_attribute("download") == f"image-{i + 1}.png"
        fetched = httpx.get(href)
        assert fetched.status_code == 200
        assert fetched.headers["content-type"].startswith("image/")


def test_image_error_shows_the_api_message(console: Console) -> None:
    page = console.page
    console.expected.append("400")  # the browser logs the failed request
    console.sign_in()
    console.open("images")
    expect(page.get_by_test_id("image-model")).to_have_value("dall-e-3")
    page.get_by_test_id("image-prompt").fill("a lighthouse")
    page.get_by_test_id("image-size").fill("512x512")
    page.get_by_test_id("image-draw").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "`512x512` is not a size of `dall-e-3`: one of 1024x1024, 1792x1024."
    )
    expect(page.get_by_test_id("image-result")).to_have_count(0)
    expect(page.get_by_test_id("image-draw")).to_be_enabled()
    # A good request next clears the error.
    page.get_by_test_id("image-size").fill("")
    page.get_by_test_id("image-draw").click()
    expect(page.get_by_test_id("image-result")).to_have_count(1)
    expect(alert).to_be_hidden()


def test_usage_rows_count_images(console: Console) -> None:
    page = console.page
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    body = {"model": "sd-local", "prompt": "two cats", "n": 2}
    drawn = httpx.post(console.server.api_url + "/images/generations", json=body, headers=headers)
    assert drawn.status_code == 200, drawn.text
    console.sign_in()
    console.open("usage")
    newest = page.get_by_test_id("request-row").first
    expect(newest).to_contain_text("sd-local")
    expect(newest.get_by_test_id("units")).to_have_text("2 images")
    by_model = page.get_by_test_id("usage-by-model").locator("tr", has_text="sd-local")
    expect(by_model.get_by_test_id("units")).to_contain_text("images")


def test_image_page_fits_a_phone(phone: Console) -> None:
    page = phone.page
    phone.sign_in()
    phone.open("images")
    expect(page.get_by_test_id("image-model")).to_have_value("dall-e-3")
    page.get_by_test_id("image-prompt").fill("a wide harbour at night")
    page.get_by_test_id("image-draw").click()
    expect(page.get_by_test_id("image-result")).to_have_count(1)
    assert page.evaluate(OVERFLOW) <= 0
    for control in ("image-prompt", "image-draw", "image-result"):
        assert inside_screen(phone, control), control
