"""OpenAI's Images API (`/images/generations`, `/images/edits`) and the resellers copying it.

DALL·E models are asked for `b64_json` (so the images are stored here, not fetched from an
expiring vendor URL); GPT image models (`gpt-image-*`) always answer base64, take no
`response_format`, and report token `usage`, which is passed on. Errors come in OpenAI's
envelope; a moderation refusal (`content_policy_violation`, or `moderation_blocked`) stays a
400 that is not retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from ...protocol.images import ImagesUsage
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

VENDOR = "OpenAI images"
MODERATION_CODES = ("content_policy_violation", "moderation_blocked")


def on_error(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    try:
        error = orjson.loads(raw).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    message = str(error.get("message") or f"{VENDOR} answered HTTP {status}")
    code = error.get("code")
    code = code if isinstance(code, str) else None
    return vendor_error(status, message, headers, code=code, moderated=code in MODERATION_CODES)


def _is_gpt_image(model: str) -> bool:
    return model.startswith("gpt-image") or model.startswith("chatgpt-image")


class OpenAIImages:
    name = "openai_images"

    def __init__(self, http: UpstreamHTTP) -> None:
        self._http = http

    def _fields(self, job: ImageJob, model: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"model": model, "prompt": job.prompt, "n": job.n}
        optional = {
            "size": job.size,
            "quality": job.quality,
            "style": job.style,
            "background": job.background,
            "output_format": job.output_format,
            "user": job.user,
        }
        fields.update({k: v for k, v in optional.items() if v is not None})
        if not _is_gpt_image(model):
            fields["response_format"] = "b64_json"
        return fields

    async def draw(self, job: ImageJob, channel: ImageChannelConfig) -> DrawResult:
        if not channel.base_url or channel.api_key is None or not channel.upstream_model:
            raise misconfigured("an openai_images channel needs base_url, api_key, upstream_model")
        model = channel.upstream_model
        fields = {**self._fields(job, model), **channel.options}
        auth = {"authorization": f"Bearer {channel.api_key.get_secret_value()}"}
        if not job.is_edit:
            answer = await self._http.post_json(
                channel.base_url + "/images/generations",
                body=fields,
                headers=auth,
                channel=transport(channel),
                on_error=on_error,
                vendor=VENDOR,
            )
        else:
            # gpt-image takes several images as `image[]`; DALL·E 2 one `image`.
            name = "image[]" if _is_gpt_image(model) and len(job.images) > 1 else "image"
            files: list[tuple[str, InputImage]] = [(name, image) for image in job.images]
            if job.mask is not None:
                files.append(("mask", job.mask))
            form = {k: str(v) for k, v in fields.items() if k != "style"}
            body, content_type = multipart(form, files)
            status, raw, received = await self._http.post(
                channel.base_url + "/images/edits",
                body=body,
                headers={**auth, "content-type": content_type},
                channel=transport(channel),
                vendor=VENDOR,
            )
            if status != 200:
                raise on_error(status, raw, received)
            answer = parse_json(raw, VENDOR)
        return _result(answer)


def _result(answer: Any) -> DrawResult:
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise malformed(VENDOR, "no `data` list")
    images = []
    for item in answer["data"]:
        if not isinstance(item, dict):
            raise malformed(VENDOR, "an image is not an object")
        if "b64_json" not in item and item.get("url"):
            raise malformed(VENDOR, "it sent a URL although b64_json was asked for")
        revised = item.get("revised_prompt")
        images.append(Drawn(decode_b64(item.get("b64_json"), VENDOR), revised if revised else None))
    usage = None
    if isinstance(answer.get("usage"), dict):
        try:
            usage = ImagesUsage.model_validate(answer["usage"])
        except ValidationError:
            raise malformed(VENDOR, "its `usage` is not gpt-image's") from None
    return DrawResult(images, usage)
