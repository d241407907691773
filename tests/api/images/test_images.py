"""`/v1/images/generations` and `/v1/images/edits` through the official OpenAI SDK, against
fakes of OpenAI's Images API, Stable Diffusion WebUI and Stability AI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import openai
import pytest

from tests.fakes.tiny_png import tiny_png
from tests.support.ledger import usage_rows
from tests.support.server import RunningServer

from .conftest import Fakes, key_info, new_key, sdk

FakesUrls = tuple[Fakes, dict[str, str]]
PNG = b"\x89PNG\r\n\x1a\n"


def test_dalle3_url_is_signed_stored_and_expires(running: RunningServer, fakes: FakesUrls) -> None:
    apps, _ = fakes
    client = sdk(running)
    raw = client.images.with_raw_response.generate(
        model="dall-e-3", prompt="a red fox", size="1024x1024", quality="hd", style="natural"
    )
    answer = raw.parse()
    path, sent, _ = apps.openai.state.requests[-1]
    assert path == "generations"
    assert sent["model"] == "dall-e-3" and sent["response_format"] == "b64_json"
    assert sent["quality"] == "hd" and sent["style"] == "natural" and sent["n"] == 1
    assert answer.data is not None and len(answer.data) == 1
    image = answer.data[0]
    assert image.b64_json is None and image.url is not None
    assert image.revised_prompt == "A detailed rendering of a red fox"
    assert image.url.startswith(running.api_url + "/images/files/")
    fetched = httpx.get(image.url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert fetched.content.startswith(PNG)

    parts = urlsplit(image.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert int(query["expires"]) > time.time() + 3000  # an hour by default
    tampered = dict(query, signature="0" * 64)
    assert httpx.get(image.url.split("?")[0], params=tampered).status_code == 403
    later = dict(query, expires=str(int(query["expires"]) + 60))
    refused = httpx.get(image.url.split("?")[0], params=later)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "invalid_signature"
    # Signed with the server's own secret, but already expired: still refused.
    secret_file = running.data_dir / "image_url_secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    image_id = parts.path.rsplit("/", 1)[-1]
    past = int(time.time()) - 5
    signature = hmac.new(
        secret_file.read_bytes().strip(), f"{image_id}.{past}".encode(), hashlib.sha256
    ).hexdigest()
    expired = {"expires": str(past), "signature": signature}
    assert httpx.get(image.url.split("?")[0], params=expired).status_code == 403

    rows = usage_rows(running.database_url, raw.headers["x-request-id"])
    assert len(rows) == 1
    row = rows[0]
    assert row["model"] == "dall-e-3" and row["provider"] == "openai_images"
    assert row["completion_tokens"] == 1 and row["total_tokens"] == 0
    assert row["cost_micros"] == 80_000  # one hd 1024x1024 image at 0.08
    assert row["detail"] == "1 × 1024x1024 hd"
    with httpx.Client(base_url=running.base_url) as http:
        logged = http.get(
            "/v1/usage/requests", headers={"authorization": f"Bearer {running.admin_key}"}
        ).json()["data"]
    shown = next(r for r in logged if r["request_id"] == raw.headers["x-request-id"])
    assert shown["detail"] == "1 × 1024x1024 hd"


def test_gpt_image_b64_and_token_usage(running: RunningServer, fakes: FakesUrls) -> None:
    apps, _ = fakes
    answer = sdk(running).images.generate(
        model="gpt-image-1",
        prompt="a lighthouse at dusk",
        n=2,
        quality="low",
        background="transparent",
        response_format="b64_json",
    )
    _, sent, _ = apps.openai.state.requests[-1]
    assert "response_format" not in sent and sent["background"] == "transparent"
    assert sent["n"] == 2 and sent["size"] == "1024x1024"
    assert answer.data is not None and len(answer.data) == 2
    for item in answer.data:
        assert item.url is None and item.b64_json is not None
        assert base64.b64decode(item.b64_json).startswith(PNG)
    assert answer.usage is not None
    assert answer.usage.output_tokens == 544 and answer.usage.input_tokens == 4
    assert answer.usage.input_tokens_details.text_tokens == 4


def test_edits_multipart(running: RunningServer, fakes: FakesUrls) -> None:
    apps, _ = fakes
    client = sdk(running)
    edited = client.images.edit(
        model="gpt-image-1",
        image=[("a.png", tiny_png(1), "image/png"), ("b.png", tiny_png(2), "image/png")],
        mask=("mask.png", tiny_png(3), "image/png"),
        prompt="put them side by side",
        quality="medium",
        response_format="b64_json",
    )
    path, sent, files = apps.openai.state.requests[-1]
    assert path == "edits" and files == ["image[]", "image[]", "mask"]
    assert sent["prompt"] == "put them side by side" and sent["quality"] == "medium"
    assert edited.data is not None and edited.data[0].b64_json
    assert edited.usage is not None and edited.usage.input_tokens_details.image_tokens == 130

    sd = client.images.edit(
        model="sd-local", image=("in.png", tiny_png(5), "image/png"), prompt="as a watercolour"
    )
    path, body = apps.sd.state.requests[-1]
    assert path == "img2img"
    assert base64.b64decode(body["init_images"][0]) == tiny_png(5)
    assert sd.data is not None and sd.data[0].url is not None
    assert httpx.get(sd.data[0].url).content.startswith(PNG)

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(model="dall-e-3", image=("in.png", tiny_png(5)), prompt="x")
    assert "does not edit" in refused.value.message


def test_sd_webui_batch(running: RunningServer, fakes: FakesUrls) -> None:
    apps, _ = fakes
    answer = sdk(running).images.generate(
        model="sd-local", prompt="a castle", n=3, size="768x512", response_format="b64_json"
    )
    path, body = apps.sd.state.requests[-1]
    assert path == "txt2img"
    assert (body["width"], body["height"], body["batch_size"]) == (768, 512, 3)
    assert body["do_not_save_grid"] is True
    assert body["override_settings"] == {"sd_model_checkpoint": "v1-5-pruned-emaonly.safetensors"}
    assert answer.data is not None and len(answer.data) == 3
    assert answer.usage is None


def test_stability_falls_over_and_maps_sizes(running: RunningServer, fakes: FakesUrls) -> None:
    apps, _ = fakes
    answer = sdk(running).images.generate(
        model="stable-image-core", prompt="a harbour", n=2, size="1792x1024"
    )
    sent = apps.stability.state.requests[-2:]
    assert [s[0] for s in sent] == ["core", "core"]  # the unreachable channel was skipped
    _, fields, files, accept = sent[-1]
    assert fields["aspect_ratio"] == "16:9" and fields["output_format"] == "png"
    assert accept == "application/json" and files == []
    assert answer.data is not None and len(answer.data) == 2

    sdk(running).images.generate(model="sd3.5-large", prompt="a meadow")
    endpoint, fields, _, _ = apps.stability.state.requests[-1]
    assert endpoint == "sd3" and fields["model"] == "sd3.5-large"
    assert fields["aspect_ratio"] == "1:1"


@pytest.mark.parametrize("fault", ["FAULT:moderation", "FAULT:filtered"])
def test_stability_moderation_is_a_400_without_charge(running: RunningServer, fault: str) -> None:
    key = new_key(running, quota=10.0)
    client = sdk(running, key["key"])
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(model="sd3.5-large", prompt=f"something {fault}")
    assert refused.value.code == "content_policy_violation"
    info = key_info(running, key["id"])
    assert info["used_micros"] == 0


def test_quota_is_held_before_the_upstream_call(running: RunningServer, fakes: FakesUrls) -> None:
    apps, _ = fakes
    key = new_key(running, quota=0.05)
    client = sdk(running, key["key"])
    first = client.images.generate(model="dall-e-3", prompt="one", quality="hd")
    assert first.data is not None
    deadline = time.monotonic() + 10
    while key_info(running, key["id"])["used_micros"] != 80_000:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = len(apps.openai.state.requests)
    with pytest.raises(openai.RateLimitError) as refused:
        client.images.generate(model="dall-e-3", prompt="two")
    assert refused.value.code == "insufficient_quota"
    assert len(apps.openai.state.requests) == before  # refused before the upstream


def test_failed_upstream_leaves_no_charge(running: RunningServer, fakes: FakesUrls) -> None:
    key = new_key(running, quota=1.0)
    client = sdk(running, key["key"])
    with pytest.raises(openai.APIStatusError) as failed:
        client.images.with_raw_response.generate(model="dall-e-3", prompt="FAULT:500")
    assert failed.value.status_code == 502
    request_id = failed.value.response.headers["x-request-id"]
    with pytest.raises(openai.APIStatusError) as sd_failed:
        client.images.generate(model="sd-local", prompt="FAULT:500")
    assert sd_failed.value.status_code == 502 and "CUDA out of memory" in sd_failed.value.message
    assert usage_rows(running.database_url, request_id, wait=1.0) == []
    info = key_info(running, key["id"])
    assert info["used_micros"] == 0 and info["used_tokens"] == 0
    # and the hold was given back: a request costing nearly the whole quota is admitted
    assert client.images.generate(model="sd-local", prompt="fine").data is not None


def test_bad_requests(running: RunningServer) -> None:
    client = sdk(running)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"model": "dall-e-3", "prompt": "x", "size": "256x256"}, "size"),
        ({"model": "dall-e-3", "prompt": "x", "n": 2}, "at most 1"),
        ({"model": "dall-e-3", "prompt": "x", "quality": "ultra"}, "no price"),
    ]
    for body, words in cases:
        with pytest.raises(openai.BadRequestError) as refused:
            client.images.generate(**body)
        assert words in refused.value.message, refused.value.message
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="no-such-painter", prompt="x")


def test_models_lists_image_models(running: RunningServer) -> None:
    with httpx.Client(
        base_url=running.api_url, headers={"authorization": f"Bearer {running.admin_key}"}
    ) as http:
        cards = {card["id"]: card for card in http.get("/models").json()["data"]}
        one = http.get("/models/gpt-image-1").json()
    assert cards["dall-e-3"]["endpoints"] == ["images/generations"]
    assert cards["gpt-image-1"]["endpoints"] == ["images/generations", "images/edits"]
    assert one["endpoints"] == ["images/generations", "images/edits"]
    assert cards["chat-relay"]["endpoints"] == ["chat/completions", "completions"]
