"""`/v1/images/generations` and `/v1/images/edits` in OpenAI's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import RequestModel, WireModel

ResponseFormat = Literal["url", "b64_json"]


class ImageGenerateRequest(RequestModel):
    """The JSON body of a generation (an edit's form fields are the same, plus its images)."""

    model: str
    prompt: str = Field(min_length=1, max_length=32000)
    n: int = Field(default=1, ge=1, le=10)
    size: str | None = None  # None: the model's first size
    quality: str | None = None  # standard | hd (DALL·E 3), low | medium | high | auto (gpt-image)
    style: str | None = None  # vivid | natural (DALL·E 3)
    background: str | None = None  # transparent | opaque | auto (gpt-image)
    output_format: str | None = None  # png | jpeg | webp (gpt-image)
    response_format: ResponseFormat | None = None  # None: url
    user: str | None = None


class ImageData(WireModel):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class InputTokensDetails(WireModel):
    text_tokens: int = 0
    image_tokens: int = 0


class ImagesUsage(WireModel):
    """gpt-image's token usage, passed on when the upstream reports it."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)


class ImagesResponse(WireModel):
    created: int
    data: list[ImageData]
    usage: ImagesUsage | None = None
