"""What every image vendor adapter shares: the job, its result, the transport, errors."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...protocol.images import ImagesUsage
from ...providers.errors import UpstreamError, malformed, upstream_error
from ...settings import ChannelConfig
from ..config import ImageChannelConfig


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image an edit starts from (or its mask), as the client uploaded it."""

    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class ImageJob:
    prompt: str
    n: int
    size: str
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    output_format: str | None = None
    user: str | None = None
    images: tuple[InputImage, ...] = ()  # an edit's images (none: a generation)
    mask: InputImage | None = None

    @property
    def is_edit(self) -> bool:
        return bool(self.images)

    def dimensions(self) -> tuple[int, int] | None:
        """(width, height) of `size`, None for "auto"."""
        width, sep, height = self.size.partition("x")
        if not sep:
            return None
        return int(width), int(height)


@dataclass(frozen=True, slots=True)
class Drawn:
    data: bytes
    revised_prompt: str | None = None


@dataclass(slots=True)
class DrawResult:
    images: list[Drawn]
    usage: ImagesUsage | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # vendor details worth a log line


class ImageVendor(Protocol):
    name: str

    async def draw(self, job: ImageJob, channel: ImageChannelConfig) -> DrawResult: ...


def transport(channel: ImageChannelConfig) -> ChannelConfig:
    """The channel as the shared upstream client wants it (proxy, TLS, timeouts)."""
    return ChannelConfig.reaching(channel.provider, channel)


def decode_b64(value: object, vendor: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise malformed(vendor, "an image is missing")
    try:
        return base64.b64decode(value.split(",", 1)[-1], validate=True)  # a data: URL too
    except (binascii.Error, ValueError):
        raise malformed(vendor, "an image is not base64") from None


def multipart(fields: Mapping[str, str], files: list[tuple[str, InputImage]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = "modelport" + secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, image in files:
        filename = image.filename.replace('"', "").replace("\r", "").replace("\n", "")
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {image.content_type}\r\n\r\n'
        )
        parts.append(head.encode() + image.data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def vendor_error(
    status: int,
    message: str,
    headers: Mapping[str, str],
    *,
    code: str | None = None,
    moderated: bool = False,
) -> UpstreamError:
    """An upstream's refusal as the client's error; a content filter's is a 400 with OpenAI's
    `content_policy_violation` (never retried on another channel: it would refuse too)."""
    if moderated:
        return UpstreamError(
            400,
            message,
            type="invalid_request_error",
            code="content_policy_violation",
            param="prompt",
        )
    return upstream_error(status, message, code=code, headers=headers)
