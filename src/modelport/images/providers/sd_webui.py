"""Stable Diffusion WebUI's API (AUTOMATIC1111 and its forks: `--api`), self-hosted.

`POST /sdapi/v1/txt2img` draws `batch_size` images of `width`×`height`; `/sdapi/v1/img2img`
starts from `init_images` (base64), with an optional `mask`. Both answer
`{"images": [base64…], "parameters": {…}, "info": "<JSON text>"}`. The grid a batch may add
is switched off (`do_not_save_grid`) and, should a WebUI send one anyway, dropped. The
checkpoint is `upstream_model` (as `override_settings.sd_model_checkpoint`); `options` add body
fields (`steps`, `sampler_name`, `negative_prompt`, `denoising_strength` …). `--api-auth`
is HTTP Basic: `api_key` is `user:password`. Errors: 422 `{"detail": [{loc, msg, type}]}`
(FastAPI's validation), 401 `{"detail": "…"}`, 500 `{"error", "detail", "body", "errors"}`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson

from ...providers.errors import UpstreamError, malformed, misconfigured
from ...providers.http_client import UpstreamHTTP
from ..config import ImageChannelConfig
from .base import Drawn, DrawResult, ImageJob, decode_b64, transport, vendor_error

VENDOR = "Stable Diffusion WebUI"
DEFAULT_SIZE = (512, 512)


def _message(body: Any, status: int) -> str:
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list):  # FastAPI's validation errors
            return "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
                for d in detail
                if isinstance(d, dict)
            )
        for field in ("errors", "detail", "error"):
            if isinstance(body.get(field), str) and body[field]:
                return str(body[field])
    return f"{VENDOR} answered HTTP {status}"


def on_error(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    status = 400 if status == 422 else status  # its validation of what we sent
    return vendor_error(status, f"{VENDOR}: {_message(body, status)}", headers)


class SDWebUI:
    name = "sd_webui"

    def __init__(self, http: UpstreamHTTP) -> None:
        self._http = http

    def body(self, job: ImageJob, channel: ImageChannelConfig) -> dict[str, Any]:
        width, height = job.dimensions() or DEFAULT_SIZE
        body: dict[str, Any] = {
            "prompt": job.prompt,
            "width": width,
            "height": height,
            "batch_size": job.n,
            "n_iter": 1,
            "do_not_save_grid": True,
            "do_not_save_samples": True,
            "send_images": True,
            "save_images": False,
        }
        if channel.upstream_model:
            body["override_settings"] = {"sd_model_checkpoint": channel.upstream_model}
            body["override_settings_restore_afterwards"] = True
        if job.is_edit:
            body["init_images"] = [base64.b64encode(i.data).decode() for i in job.images]
            body["denoising_strength"] = 0.75
            if job.mask is not None:
                body["mask"] = base64.b64encode(job.mask.data).decode()
        body.update(channel.options)
        return body

    async def draw(self, job: ImageJob, channel: ImageChannelConfig) -> DrawResult:
        if not channel.base_url:
            raise misconfigured("an sd_webui channel needs its base_url")
        headers: dict[str, str] = {}
        if channel.api_key is not None:
            token = base64.b64encode(channel.api_key.get_secret_value().encode()).decode()
            headers["authorization"] = f"Basic {token}"
        path = "/sdapi/v1/img2img" if job.is_edit else "/sdapi/v1/txt2img"
        answer = await self._http.post_json(
            channel.base_url + path,
            body=self.body(job, channel),
            headers=headers,
            channel=transport(channel),
            on_error=on_error,
            vendor=VENDOR,
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("images"), list):
            raise malformed(VENDOR, "no `images` list")
        encoded = answer["images"]
        if len(encoded) < job.n:
            raise malformed(VENDOR, f"{len(encoded)} images for a batch of {job.n}")
        images = [Drawn(decode_b64(item, VENDOR)) for item in encoded[-job.n :]]  # no grid
        notes: dict[str, Any] = {}
        try:
            info = orjson.loads(answer.get("info") or "{}")
            notes["seeds"] = info.get("all_seeds") if isinstance(info, dict) else None
        except (orjson.JSONDecodeError, TypeError):
            pass
        return DrawResult(images, notes=notes)
