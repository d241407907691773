"""Image models at run time: requests checked against the model, priced, and drawn by its
channels in turn (the next one only when the last failed before drawing: unreachable, or an
upstream 429/5xx)."""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal

from ..protocol.errors import APIError, invalid_request, model_not_found
from ..protocol.images import ImageGenerateRequest
from ..providers.errors import UpstreamError, malformed
from ..providers.http_client import UpstreamHTTP
from .config import ImageChannelConfig, ImageModelConfig
from .providers.base import DrawResult, ImageJob, ImageVendor, InputImage
from .providers.openai_images import OpenAIImages
from .providers.sd_webui import SDWebUI
from .providers.stability import Stability

log = logging.getLogger("modelport.images")
MICROS = Decimal(1_000_000)


def cost_micros(unit_price: float, images: int, multiplier: float = 1.0) -> int:
    """`images` at `unit_price` (currency units each) times the key's group multiplier."""
    exact = Decimal(str(unit_price)) * MICROS * images * Decimal(str(multiplier))
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


class ImageService:
    def __init__(self, models: list[ImageModelConfig], http: UpstreamHTTP) -> None:
        self.models = {m.name: m for m in models}
        vendors: list[ImageVendor] = [OpenAIImages(http), SDWebUI(http), Stability(http)]
        self.vendors = {v.name: v for v in vendors}

    def resolve(self, name: str) -> ImageModelConfig:
        model = self.models.get(name)
        if model is None:
            raise model_not_found(name)
        return model

    def job(
        self,
        model: ImageModelConfig,
        body: ImageGenerateRequest,
        images: tuple[InputImage, ...] = (),
        mask: InputImage | None = None,
    ) -> tuple[ImageJob, float]:
        """The request as a vendor job, and the price of one of its images (a 400 for what
        the model does not offer)."""
        if images and not model.edits:
            raise invalid_request(f"The model `{model.name}` does not edit images.", "model")
        size = body.size or model.sizes[0]
        if size not in model.sizes:
            raise invalid_request(
                f"`{size}` is not a size of `{model.name}`: one of {', '.join(model.sizes)}.",
                "size",
            )
        if body.n > model.max_n:
            raise invalid_request(
                f"`{model.name}` draws at most {model.max_n} images per request.", "n"
            )
        unit = model.price_of(size, body.quality)
        if unit is None:
            raise invalid_request(
                f"`{model.name}` has no price for quality `{body.quality}` at `{size}`.",
                "quality",
            )
        job = ImageJob(
            prompt=body.prompt,
            n=body.n,
            size=size,
            quality=body.quality,
            style=body.style,
            background=body.background,
            output_format=body.output_format,
            user=body.user,
            images=images,
            mask=mask,
        )
        return job, unit

    async def draw(
        self, model: ImageModelConfig, job: ImageJob
    ) -> tuple[DrawResult, ImageChannelConfig]:
        """The images and the channel that drew them; the last channel's error otherwise."""
        failure: APIError | None = None
        for channel in model.channels:
            vendor = self.vendors[channel.provider]
            try:
                result = await vendor.draw(job, channel)
            except UpstreamError as exc:
                if not exc.retryable:
                    raise
                log.warning("image channel %s of %s failed: %s", vendor.name, model.name, exc)
                failure = exc
                continue
            if len(result.images) != job.n:
                raise malformed(vendor.name, f"{len(result.images)} images for n={job.n}")
            return result, channel
        assert failure is not None  # a model has at least one channel
        raise failure
