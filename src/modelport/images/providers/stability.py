"""Stability AI's REST API: `POST /v2beta/stable-image/generate/{ultra,core,sd3}`.

A multipart form (`prompt`, `aspect_ratio`, `output_format`, for `sd3` its `model`; an edit
adds `image` and `strength`, and `mode=image-to-image` for sd3), `authorization: Bearer`, and
`accept: application/json`, which answers `{"image": base64, "finish_reason": "SUCCESS" |
"CONTENT_FILTERED", "seed": n}` (one image per call: `n` images are `n` calls). Errors are
`{"id", "name", "errors": [...]}`; `403 content_moderation` and a `CONTENT_FILTERED` image are
content-policy refusals (a 400, not retried). `upstream_model` is `ultra`, `core`, `sd3`, or an
SD3 model (`sd3.5-large` …, sent to `/sd3` as `model`). Sizes become the nearest of its aspect
ratios (it takes no pixel sizes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson

from ...providers.errors import UpstreamError, malformed, misconfigured
from ...providers.http_client import UpstreamHTTP, parse_json
from ..config import ImageChannelConfig
from .base import (
    Drawn,
    DrawResult,
    ImageJob,
    InputImage,
    decode_b64,
    multipart,
    transport,
    vendor_error,
)

VENDOR = "Stability AI"
RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
ENDPOINTS = ("ultra", "core", "sd3")
FORMATS = ("png", "jpeg", "webp")


def aspect_ratio(size: tuple[int, int] | None) -> str:
    if size is None:
        return "1:1"
    wanted = size[0] / size[1]

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(int(w) / int(h) - wanted)

    return min(RATIOS, key=distance)


def on_error(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = {}
    body = body if isinstance(body, dict) else {}
    errors = body.get("errors")
    name = body.get("name")
    text = "; ".join(str(e) for e in errors) if isinstance(errors, list) and errors else None
    message = f"{VENDOR}: {text or name or f'HTTP {status}'}"
    return vendor_error(
        status,
        message,
        headers,
        code=name if isinstance(name, str) else None,
        moderated=status == 403 and name == "content_moderation",
    )


class Stability:
    name = "stability"

    def __init__(self, http: UpstreamHTTP) -> None:
        self._http = http

    def form(self, job: ImageJob, channel: ImageChannelConfig) -> tuple[str, dict[str, str]]:
        """The endpoint's last path segment and the form's text fields."""
        model = channel.upstream_model or "core"
        endpoint = model if model in ENDPOINTS else "sd3"
        fields = {"prompt": job.prompt}
        fmt = job.output_format if job.output_format in FORMATS else "png"
        fields["output_format"] = fmt
        if endpoint == "sd3" and model != "sd3":
            fields["model"] = model
        if job.is_edit:
            fields["strength"] = "0.7"
            if endpoint == "sd3":
                fields["mode"] = "image-to-image"
        else:
            fields["aspect_ratio"] = aspect_ratio(job.dimensions())
        fields.update({k: str(v) for k, v in channel.options.items()})
        return endpoint, fields

    async def _one(self, job: ImageJob, channel: ImageChannelConfig) -> Drawn:
        assert channel.base_url is not None and channel.api_key is not None
        endpoint, fields = self.form(job, channel)
        files: list[tuple[str, InputImage]] = [("image", job.images[0])] if job.is_edit else []
        body, content_type = multipart(fields, files)
        headers = {
            "authorization": f"Bearer {channel.api_key.get_secret_value()}",
            "accept": "application/json",
            "content-type": content_type,
        }
        status, raw, received = await self._http.post(
            f"{channel.base_url}/v2beta/stable-image/generate/{endpoint}",
            body=body,
            headers=headers,
            channel=transport(channel),
            vendor=VENDOR,
        )
        if status != 200:
            raise on_error(status, raw, received)
        answer: Any = parse_json(raw, VENDOR)
        if not isinstance(answer, dict):
            raise malformed(VENDOR, "not a JSON object")
        if answer.get("finish_reason") == "CONTENT_FILTERED":
            raise vendor_error(
                400,
                f"{VENDOR} filtered the image it drew (finish_reason CONTENT_FILTERED)",
                received,
                moderated=True,
            )
        return Drawn(decode_b64(answer.get("image"), VENDOR))

    async def draw(self, job: ImageJob, channel: ImageChannelConfig) -> DrawResult:
        if not channel.base_url or channel.api_key is None:
            raise misconfigured("a stability channel needs base_url and api_key")
        images = await asyncio.gather(*(self._one(job, channel) for _ in range(job.n)))
        return DrawResult(list(images))
