"""Image models as configured (`images:` in the settings), apart from the chat catalogue.

Pure pydantic (no import of `settings`, which imports this): a model names its price per image
(flat, or by size and quality) and the channels that serve it, tried in turn. Everything is
checked when the settings load, so a misspelt provider or price stops the server at start-up.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

ImageProvider = Literal["openai_images", "sd_webui", "stability"]
_SIZE = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")
ANY = "*"  # a price table's key for "any size" or "any quality"


class ImageChannelConfig(BaseModel):
    """One upstream that draws the model's images."""

    model_config = ConfigDict(extra="forbid")

    provider: ImageProvider
    base_url: str | None = None  # openai_images: …/v1; sd_webui: the WebUI; stability: its API
    api_key: SecretStr | None = None  # sd_webui: "user:password" for its --api-auth
    upstream_model: str | None = None  # stability: ultra | core | sd3 (or sd3.5-large …)
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=300.0, gt=0)  # drawing takes a while
    proxy: str | None = None
    ca_file: str | None = None
    verify: bool = True
    options: dict[str, Any] = Field(default_factory=dict)  # extra upstream body fields

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/") if value else value


class ImageModelConfig(BaseModel):
    """A public image model: `price` per image, either one number or a table
    `{size: {quality: price}}` (`"*"` matches any size or quality)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    owned_by: str = "modelport"
    price: float | dict[str, dict[str, float]] = 0.0
    sizes: list[str] = Field(default_factory=lambda: ["1024x1024"])  # the first is the default
    max_n: int = Field(default=4, ge=1, le=10)
    edits: bool = True  # also serves /v1/images/edits
    url_seconds: int = Field(default=3600, ge=60, le=7 * 86400)  # a `url` answer's lifetime
    channels: list[ImageChannelConfig] = Field(min_length=1)

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, sizes: list[str]) -> list[str]:
        if not sizes:
            raise ValueError("at least one size")
        for size in sizes:
            if size != "auto" and not _SIZE.match(size):
                raise ValueError(f"size {size!r} is not WIDTHxHEIGHT")
        return sizes

    @field_validator("price")
    @classmethod
    def _price(
        cls, price: float | dict[str, dict[str, float]]
    ) -> float | dict[str, dict[str, float]]:
        values = (
            [price]
            if isinstance(price, float | int)
            else [p for by_quality in price.values() for p in by_quality.values()]
        )
        if any(p < 0 for p in values):
            raise ValueError("prices cannot be negative")
        return price

    def price_of(self, size: str, quality: str | None) -> float | None:
        """The price of one image of this size and quality (None: the size's first quality
        in the table); None when the table has none."""
        if not isinstance(self.price, dict):
            return float(self.price)
        by_quality = self.price.get(size) or self.price.get(ANY)
        if not by_quality:
            return None
        if quality is None:
            return float(next(iter(by_quality.values())))
        price = by_quality.get(quality, by_quality.get(ANY))
        return None if price is None else float(price)


def _unique(models: list[ImageModelConfig]) -> list[ImageModelConfig]:
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate image model names: {dupes}")
    return models


ImageModels = Annotated[list[ImageModelConfig], AfterValidator(_unique)]
