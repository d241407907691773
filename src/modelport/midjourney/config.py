"""Midjourney as configured (`midjourney:` in the settings): the midjourney-proxy servers that
draw (channels), the price of each action, and how tasks are followed.

Pure pydantic (imported by `settings`). Prices are per task, in the ledger's currency, charged
when the upstream accepts a submission and refunded when the task ends in FAILURE.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Mode = Literal["fast", "relax", "turbo"]
MODES: tuple[Mode, ...] = ("fast", "relax", "turbo")

# Actions with their own price; anything else costs `default_price`.
DEFAULT_PRICES: dict[str, float] = {
    "IMAGINE": 0.1,
    "UPSCALE": 0.05,
    "VARIATION": 0.1,
    "REROLL": 0.1,
    "ZOOM": 0.1,
    "PAN": 0.1,
    "INPAINT": 0.1,
    "BLEND": 0.1,
    "DESCRIBE": 0.05,
    "SHORTEN": 0.05,
}


class MidjourneyChannelConfig(BaseModel):
    """One midjourney-proxy server (novicezk's, or a compatible "plus" server)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    base_url: str  # the server's root: `{base_url}/mj/submit/imagine`
    api_secret: SecretStr | None = None  # sent as `mj-api-secret`
    modes: list[Mode] = Field(default_factory=lambda: list(MODES))
    # Whether the server takes the speed mode as a path prefix (`/mj-relax/mj/...`), as "plus"
    # servers do; otherwise every mode is sent to `/mj/...`.
    mode_paths: bool = False
    weight: int = Field(default=1, ge=1)
    enabled: bool = True
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    proxy: str | None = None
    ca_file: str | None = None
    verify: bool = True

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")


class MidjourneySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[MidjourneyChannelConfig] = Field(default_factory=list)
    prices: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    default_price: float = Field(default=0.1, ge=0)
    # The address upstreams call back (`{public_url}/mj/notify/...`); unset: polling only.
    public_url: str | None = None
    poll_seconds: float = Field(default=10.0, gt=0)
    # A task with no progress for this long ends as FAILURE and is refunded.
    stuck_seconds: float = Field(default=1800.0, gt=0)
    # Clients' notifyHook URLs must be public addresses unless inside these networks.
    hook_networks: list[str] = Field(default_factory=list)
    hook_timeout: float = Field(default=5.0, gt=0)
    max_image_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    list_limit: int = Field(default=100, ge=1, le=1000)

    @field_validator("prices")
    @classmethod
    def _prices(cls, prices: dict[str, float]) -> dict[str, float]:
        if any(p < 0 for p in prices.values()):
            raise ValueError("prices cannot be negative")
        return {k.upper(): v for k, v in prices.items()}

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _unique(self) -> MidjourneySettings:
        names = [c.name for c in self.channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate midjourney channel names: {dupes}")
        return self

    def price_of(self, action: str) -> float:
        return self.prices.get(action, self.default_price)
