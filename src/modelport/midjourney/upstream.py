"""Calls to one midjourney-proxy server: submissions, `list-by-condition`, result images.

Its answers are read defensively (a hostile or broken upstream gets a 502, never a 500), and its
own error text is passed on only after the secret we sent it is cut out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from ..providers.errors import UpstreamError, malformed, upstream_error
from ..providers.http_client import UpstreamHTTP
from ..settings import ChannelConfig
from .config import MidjourneyChannelConfig
from .protocol import SubmitResult, Task

VENDOR = "Midjourney proxy"


def transport(channel: MidjourneyChannelConfig) -> ChannelConfig:
    """The channel as the shared upstream client wants it (proxy, TLS, timeouts)."""
    return ChannelConfig.reaching("midjourney", channel)


def redact(text: str, channel: MidjourneyChannelConfig) -> str:
    secret = channel.api_secret.get_secret_value() if channel.api_secret else ""
    return text.replace(secret, "****") if secret else text


class MidjourneyUpstream:
    def __init__(self, http: UpstreamHTTP) -> None:
        self._http = http

    def _headers(self, channel: MidjourneyChannelConfig) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if channel.api_secret is not None:
            headers["mj-api-secret"] = channel.api_secret.get_secret_value()
        return headers

    def url(self, channel: MidjourneyChannelConfig, path: str, mode: str = "fast") -> str:
        prefix = f"/mj-{mode}" if channel.mode_paths and mode != "fast" else ""
        return f"{channel.base_url}{prefix}/mj{path}"

    async def _call(
        self, channel: MidjourneyChannelConfig, url: str, body: dict[str, Any] | list[Any]
    ) -> Any:
        status, raw, headers = await self._http.post(
            url,
            body=orjson.dumps(body),
            headers=self._headers(channel),
            channel=transport(channel),
            vendor=VENDOR,
        )
        if status != 200:
            raise _error(status, raw, headers, channel)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise malformed(VENDOR, "the answer is not JSON") from None

    async def submit(
        self, channel: MidjourneyChannelConfig, path: str, mode: str, body: dict[str, Any]
    ) -> SubmitResult:
        answer = await self._call(channel, self.url(channel, path, mode), body)
        try:
            result = SubmitResult.model_validate(answer)
        except ValidationError:
            raise malformed(VENDOR, "no submit result") from None
        result.description = redact(result.description, channel)
        return result

    async def tasks(self, channel: MidjourneyChannelConfig, ids: list[str]) -> list[Task]:
        """The upstream's tasks of these ids (`POST /mj/task/list-by-condition`); those it
        does not know are missing, and entries it garbles are skipped."""
        answer = await self._call(
            channel, self.url(channel, "/task/list-by-condition"), {"ids": ids}
        )
        if not isinstance(answer, list):
            raise malformed(VENDOR, "list-by-condition did not answer a list")
        found = []
        for item in answer:
            try:
                found.append(Task.model_validate(item))
            except ValidationError:
                continue
        return found

    async def image_seed(self, channel: MidjourneyChannelConfig, upstream_id: str) -> SubmitResult:
        return await image_seed(
            self._http, channel, self.url(channel, f"/task/{upstream_id}/image-seed")
        )

    async def image(self, channel: MidjourneyChannelConfig, url: str, limit: int) -> bytes:
        status, raw, headers = await self._http.get(
            url, headers={}, channel=transport(channel), vendor=VENDOR, limit=limit
        )
        if status != 200:
            raise upstream_error(
                502, f"{VENDOR}: the image answered HTTP {status}", headers=headers
            )
        return raw


def _error(
    status: int, raw: bytes, headers: Mapping[str, str], channel: MidjourneyChannelConfig
) -> UpstreamError:
    if status in (401, 403):  # our secret, not the client's fault
        return UpstreamError(
            502,
            f"{VENDOR} refused this server's credentials (HTTP {status}).",
            code="upstream_auth_failed",
        )
    try:
        body = orjson.loads(raw)
        text = body.get("description") or body.get("message") or body.get("error")
    except (orjson.JSONDecodeError, AttributeError):
        text = None
    message = redact(str(text)[:500], channel) if text else f"{VENDOR} answered HTTP {status}"
    return upstream_error(
        status if status >= 500 or status == 429 else 502, message, headers=headers
    )


async def image_seed(
    http: UpstreamHTTP, channel: MidjourneyChannelConfig, url: str
) -> SubmitResult:
    """`GET /mj/task/{id}/image-seed` of the upstream: `{code, description, result: seed}`."""
    headers = {"accept": "application/json"}
    if channel.api_secret is not None:
        headers["mj-api-secret"] = channel.api_secret.get_secret_value()
    status, raw, received = await http.get(
        url, headers=headers, channel=transport(channel), vendor=VENDOR
    )
    if status != 200:
        raise _error(status, raw, received, channel)
    try:
        result = SubmitResult.model_validate(orjson.loads(raw))
    except (orjson.JSONDecodeError, ValidationError):
        raise malformed(VENDOR, "no image-seed result") from None
    result.description = redact(result.description, channel)
    return result
