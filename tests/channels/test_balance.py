"""Channel balances against fakes of each vendor's balance endpoint, and hostile ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from modelport.channels.balance import (
    Balance,
    BalanceError,
    BalanceUnsupported,
    detect_kind,
    fetch_balance,
)
from modelport.channels.balance.openai_billing import usage_window
from modelport.providers.http_client import UpstreamHTTP
from modelport.settings import ChannelConfig, UpstreamSettings
from tests.fakes.balance_vendors import (
    DEEPSEEK,
    OPENROUTER,
    OPENROUTER_UNLIMITED,
    SILICONFLOW,
    SUBSCRIPTION,
    USAGE,
    create_app,
)
from tests.fakes.hostile_upstream import HostileUpstream
from tests.fakes.server import serve_asgi

KEY = "sk-balance-0123456789abcdef"


@pytest.fixture(scope="module")
def vendors() -> Any:
    app = create_app()
    app.state.accounts[KEY] = {
        "deepseek": DEEPSEEK,
        "siliconflow": SILICONFLOW,
        "openrouter": OPENROUTER,
        "billing": {"subscription": SUBSCRIPTION, "usage": USAGE},
    }
    return app


@pytest.fixture(scope="module")
def url(vendors: Any) -> Iterator[str]:
    with serve_asgi(vendors) as base:
        yield base


@pytest.fixture
async def http() -> AsyncIterator[UpstreamHTTP]:
    client = UpstreamHTTP(UpstreamSettings())
    yield client
    await client.aclose()


def channel(base_url: str | None, key: str = KEY, **fields: Any) -> ChannelConfig:
    return ChannelConfig(provider="openai_compat", base_url=base_url, api_key=key, **fields)


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", ""])
async def test_deepseek(url: str, vendors: Any, http: UpstreamHTTP, suffix: str) -> None:
    balance = await fetch_balance(channel(url + suffix), http, "deepseek")
    assert balance == Balance(
        Decimal("110.00"),
        "CNY",
        "deepseek",
        {"granted_balance": "10.00", "topped_up_balance": "100.00", "is_available": "true"},
    )
    assert vendors.state.requests[-1]["path"] == "/user/balance"
    assert vendors.state.requests[-1]["key"] == KEY


async def test_deepseek_second_currency(url: str, vendors: Any, http: UpstreamHTTP) -> None:
    key = "sk-deepseek-two-currencies-01"
    usd = {"currency": "USD", "total_balance": "5.00", "granted_balance": "0.00"}
    cny = {"currency": "CNY", "total_balance": "110.00"}
    vendors.state.accounts[key] = {"deepseek": {"is_available": False, "balance_infos": [usd, cny]}}
    balance = await fetch_balance(channel(url + "/v1", key), http, "deepseek")
    assert (balance.amount, balance.currency) == (Decimal("5.00"), "USD")
    assert balance.detail["is_available"] == "false"
    assert balance.detail["total_balance_CNY"] == "110.00"


async def test_siliconflow(url: str, http: UpstreamHTTP) -> None:
    balance = await fetch_balance(channel(url + "/v1"), http, "siliconflow")
    assert (balance.amount, balance.currency, balance.kind) == (
        Decimal("88.88"),
        "CNY",
        "siliconflow",
    )
    assert balance.detail == {"balance": "0.88", "chargeBalance": "88.00"}


async def test_siliconflow_refusal_in_a_200_is_an_error(
    url: str, vendors: Any, http: UpstreamHTTP
) -> None:
    key = "sk-sf-refused-0123456789"
    refusal = {"code": 20012, "message": f"key {key} is not allowed", "status": False}
    vendors.state.accounts[key] = {"siliconflow": refusal}
    with pytest.raises(BalanceError) as caught:
        await fetch_balance(channel(url + "/v1", key), http, "siliconflow")
    assert str(caught.value) == "SiliconFlow refused: key [redacted] is not allowed"


async def test_openrouter_limited_key(url: str, vendors: Any, http: UpstreamHTTP) -> None:
    balance = await fetch_balance(channel(url + "/api/v1"), http, "openrouter")
    assert (balance.amount, balance.currency) == (Decimal("74.5"), "USD")
    assert balance.detail == {
        "usage": "25.5",
        "limit": "100",
        "is_free_tier": "false",
        "limit_reset": "monthly",
    }
    assert vendors.state.requests[-1]["path"] == "/api/v1/key"


async def test_openrouter_unlimited_key_has_no_amount(
    url: str, vendors: Any, http: UpstreamHTTP
) -> None:
    key = "sk-or-unlimited-0123456789"
    vendors.state.accounts[key] = {"openrouter": OPENROUTER_UNLIMITED}
    balance = await fetch_balance(channel(url + "/api/v1", key), http, "openrouter")
    assert balance.amount is None  # no limit: nothing to run out of, and no invented number
    assert balance.detail == {"usage": "25.5", "limit": "none", "is_free_tier": "false"}


async def test_openai_billing_is_limit_minus_usage(
    url: str, vendors: Any, http: UpstreamHTTP
) -> None:
    balance = await fetch_balance(channel(url + "/v1"), http, "openai_billing")
    assert balance.amount == Decimal("50.0") - Decimal("12.345")
    assert balance.currency == "USD"
    paths = [r["path"] for r in vendors.state.requests[-2:]]
    assert paths == ["/v1/dashboard/billing/subscription", "/v1/dashboard/billing/usage"]
    query = vendors.state.requests[-1]["query"]
    today = date.today()  # the fake and the test share the clock
    assert query["end_date"] in (str(today), str(today + timedelta(days=1)))
    assert date.fromisoformat(query["start_date"]).day == 1  # a paying account: this month


def test_usage_window_follows_one_api() -> None:
    today = date(2026, 12, 8)
    assert usage_window(today, {"has_payment_method": True}) == (date(2026, 12, 1), today)
    assert usage_window(today, {"has_payment_method": False}) == (date(2026, 8, 30), today)


@pytest.mark.parametrize(
    ("kind", "base", "said"),
    [
        ("deepseek", "/v1", "DeepSeek refused the channel's API key (HTTP 401): "),
        ("siliconflow", "/v1", "SiliconFlow refused the channel's API key (HTTP 401): Invalid"),
        ("openrouter", "/api/v1", "OpenRouter refused the channel's API key (HTTP 401): User"),
        ("openai_billing", "/v1", "refused the channel's API key (HTTP 401): 无效的令牌"),
    ],
)
async def test_a_refused_key_is_a_clear_error(
    url: str, http: UpstreamHTTP, kind: str, base: str, said: str
) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnop"
    with pytest.raises(BalanceError) as caught:
        await fetch_balance(channel(url + base, wrong), http, kind)
    assert said in str(caught.value)
    assert "abcdefghijklmnop" not in str(caught.value)


def test_kind_from_the_host() -> None:
    assert detect_kind(channel("https://api.deepseek.com/v1")) == "deepseek"
    assert detect_kind(channel("https://API.SiliconFlow.cn/v1")) == "siliconflow"
    assert detect_kind(channel("https://api.siliconflow.com/v1")) == "siliconflow"
    assert detect_kind(channel("https://openrouter.ai/api/v1")) == "openrouter"
    assert detect_kind(channel("https://api.deepseek.com.evil.example/v1")) is None
    assert detect_kind(channel(None)) is None


async def test_unknown_vendor_is_unsupported(http: UpstreamHTTP) -> None:
    with pytest.raises(BalanceUnsupported, match="balance_kind"):
        await fetch_balance(channel("https://api.example.com/v1"), http)
    with pytest.raises(BalanceUnsupported, match="unknown balance kind 'moonshot'"):
        await fetch_balance(channel("https://api.deepseek.com/v1"), http, "moonshot")


async def test_no_key_is_an_error(url: str, http: UpstreamHTTP) -> None:
    config = ChannelConfig(provider="openai_compat", base_url=url + "/v1")
    with pytest.raises(BalanceError, match="no API key"):
        await fetch_balance(config, http, "deepseek")


@pytest.mark.parametrize(
    ("fault", "kind", "said"),
    [
        ("html", "deepseek", "DeepSeek sent a balance that is not JSON"),
        ("huge", "deepseek", "DeepSeek sent a body larger than the limit of 262144 bytes"),
        ("shape", "deepseek", "DeepSeek sent no balance"),
        ("shape", "siliconflow", "SiliconFlow sent a balance without `totalBalance`"),
        ("shape", "openrouter", "OpenRouter sent a balance without `usage`"),
        ("shape", "openai_billing", "sent a balance without `hard_limit_usd`"),
        ("numbers", "deepseek", "DeepSeek sent no readable `granted_balance`"),
        ("numbers", "siliconflow", "SiliconFlow sent no readable `totalBalance`"),
        ("numbers", "openrouter", "OpenRouter sent no readable `usage`"),
        ("numbers", "openai_billing", "sent no readable `hard_limit_usd`"),
        ("redirect", "deepseek", "DeepSeek answered HTTP 302"),
        ("500", "openrouter", "OpenRouter answered HTTP 500: The server had an error"),
    ],
)
async def test_hostile_answers_are_clear_errors(
    url: str, vendors: Any, http: UpstreamHTTP, fault: str, kind: str, said: str
) -> None:
    key = f"sk-hostile-{fault}-0123456789"
    vendors.state.faults[key] = fault
    base = url + ("/api/v1" if kind == "openrouter" else "/v1")
    with pytest.raises(BalanceError) as caught:
        await fetch_balance(channel(base, key), http, kind)
    assert said in str(caught.value)
    assert key not in str(caught.value)


async def test_a_leaked_key_is_redacted(url: str, vendors: Any, http: UpstreamHTTP) -> None:
    key = "plain-secret-0123456789abcdef"  # not shaped like a credential: only we know it
    vendors.state.faults[key] = "leak"
    with pytest.raises(BalanceError) as caught:
        await fetch_balance(channel(url + "/v1", key), http, "deepseek")
    message = str(caught.value)
    assert "Incorrect API key provided: [redacted]" in message
    assert "0123456789" not in message and "plain-se" not in message


async def test_the_channels_read_timeout_applies(
    url: str, vendors: Any, http: UpstreamHTTP
) -> None:
    key = "sk-hostile-stall-0123456789"
    vendors.state.faults[key] = "stall"
    vendors.state.stall_seconds = 2.0
    config = channel(url + "/v1", key, read_timeout=0.3)
    with pytest.raises(BalanceError, match="DeepSeek timed out"):
        await fetch_balance(config, http, "deepseek")


async def test_a_gzip_bomb_and_an_echoed_header_are_handled() -> None:
    hostile = HostileUpstream()
    http = UpstreamHTTP(UpstreamSettings())
    with hostile.running() as base:
        try:
            with pytest.raises(BalanceError, match="larger than the limit of 262144 bytes"):
                await fetch_balance(channel(base + "/gzip-bomb/v1"), http, "deepseek")
            with pytest.raises(BalanceError) as caught:  # quotes the Authorization it got
                await fetch_balance(channel(base + "/echo-key/v1"), http, "deepseek")
        finally:
            await http.aclose()  # before the server stops: no connection left to it
            await asyncio.sleep(0.2)  # for the server to see the connections close
    assert hostile.last_authorization == f"Bearer {KEY}"
    assert "HTTP 401" in str(caught.value) and KEY not in str(caught.value)
