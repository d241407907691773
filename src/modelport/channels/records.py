"""A stored channel as the router sees it: one `ChannelConfig` per public model it serves."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from ..settings import ChannelConfig, Price
from ..storage.channel_tables import Channel

_SECRET_OPTION = re.compile(r"key|secret|token|password|^sk$|^ak$", re.IGNORECASE)


@dataclass(frozen=True)
class StoredChannel:
    """A `channels` row, detached from its session."""

    id: str
    name: str
    provider: str
    base_url: str | None
    api_keys: tuple[str, ...]
    models: tuple[str, ...]
    model_mapping: dict[str, str]
    weight: int
    priority: int
    groups: tuple[str, ...] | None
    proxy: str | None
    connect_timeout: float
    read_timeout: float
    first_token_timeout: float | None
    idle_timeout: float | None
    price: dict[str, Any] | None
    options: dict[str, Any]
    status: str
    status_reason: str | None
    status_at: datetime | None
    auto_probe: bool
    balance_kind: str | None
    balance: str | None
    balance_currency: str | None
    balance_at: datetime | None
    last_test_at: datetime | None
    last_test_ms: int | None
    last_test_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Channel) -> StoredChannel:
        return cls(
            id=row.id,
            name=row.name,
            provider=row.provider,
            base_url=row.base_url,
            api_keys=tuple(row.api_keys),
            models=tuple(row.models),
            model_mapping=dict(row.model_mapping),
            weight=row.weight,
            priority=row.priority,
            groups=None if row.groups is None else tuple(row.groups),
            proxy=row.proxy,
            connect_timeout=row.connect_timeout,
            read_timeout=row.read_timeout,
            first_token_timeout=row.first_token_timeout,
            idle_timeout=row.idle_timeout,
            price=row.price,
            options=dict(row.options),
            status=row.status,
            status_reason=row.status_reason,
            status_at=row.status_at,
            auto_probe=row.auto_probe,
            balance_kind=row.balance_kind,
            balance=row.balance,
            balance_currency=row.balance_currency,
            balance_at=row.balance_at,
            last_test_at=row.last_test_at,
            last_test_ms=row.last_test_ms,
            last_test_error=row.last_test_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"

    def config(self, model: str) -> ChannelConfig:
        """The channel serving public `model` (its upstream name from `model_mapping`)."""
        return config_of(dataclasses.asdict(self), model)


def config_of(values: Mapping[str, Any], model: str) -> ChannelConfig:
    """A channel's fields (stored or about to be) as the config serving public `model`."""
    groups = values.get("groups")
    price = values.get("price")
    return ChannelConfig(
        id=values.get("id"),
        name=values.get("name"),
        provider=values["provider"],
        base_url=values.get("base_url"),
        api_keys=[SecretStr(k) for k in values.get("api_keys") or ()],
        upstream_model=(values.get("model_mapping") or {}).get(model, model),
        weight=values.get("weight", 1),
        priority=values.get("priority", 0),
        groups=None if groups is None else list(groups),
        proxy=values.get("proxy"),
        connect_timeout=values.get("connect_timeout", 10.0),
        read_timeout=values.get("read_timeout", 120.0),
        first_token_timeout=values.get("first_token_timeout"),
        idle_timeout=values.get("idle_timeout"),
        price=None if price is None else Price.model_validate(price),
        options=dict(values.get("options") or {}),
    )


def mask_key(key: str) -> str:
    """Enough to tell keys apart, never enough to use one: `sk-a…wxyz`."""
    if len(key) <= 8:
        return "****"
    return f"{key[:4]}…{key[-4:]}"


def masked_options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        name: mask_key(value) if isinstance(value, str) and _SECRET_OPTION.search(name) else value
        for name, value in options.items()
    }
