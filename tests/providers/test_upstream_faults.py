"""The upstream client against an upstream that misbehaves below HTTP, through a real server
driven by the OpenAI SDK: a request is never sent twice once written, and every limit ends
the call with a clean 502 without the server's memory growing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.hostile_upstream import BOMB_BYTES, HostileUpstream
from tests.support.ledger import usage_rows
from tests.support.server import RunningServer, run_server

MODES = (
    "read-close",
    "second-close",
    "gzip-bomb",
    "gzip-bomb-stream",
    "huge-body",
    "huge-header",
    "endless-stream",
    "usage-negative",
    "usage-negative-stream",
    "usage-huge",
    "usage-huge-stream",
    "echo-key",
    "retry-after-utf8",
)
SECRET = "sk-live-0123456789abcdefABCDEF"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileUpstream]:
    upstream = HostileUpstream()
    with upstream.running():
        yield upstream


def _channel(url: str, mode: str, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai_compat",
        "base_url": f"{url}/{mode}/v1",
        "api_key": "sk-up",
        **extra,
    }


@pytest.fixture(scope="module")
def gateway(
    hostile: HostileUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    url = hostile.url
    models: list[dict[str, Any]] = [
        {"name": mode, "channels": [_channel(url, mode, read_timeout=10)]} for mode in MODES
    ]
    echo = models[MODES.index("echo-key")]["channels"][0]
    echo["api_key"] = SECRET
    # Two keys and a spare channel: none of them may see a request that already arrived.
    models[0]["channels"] = [
        _channel(url, "read-close", api_key=None, api_keys=["sk-a", "sk-b"]),
        _channel(url, "spare", weight=0),
    ]
    # A high breaker threshold: these tests fail the same channel on purpose, again and again.
    config = {
        "models": models,
        "routing": {"max_attempts": 3, "breaker_failures": 100, "breaker_window": 100},
    }
    with run_server(tmp_path_factory.mktemp("hostile"), config=config) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(gateway: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.api_url, api_key=gateway.admin_key, max_retries=0)


def _ask(sdk: openai.OpenAI, model: str, **fields: Any) -> Any:
    return sdk.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], **fields
    )


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1)) / 1024


@pytest.mark.parametrize("delay", [0.0, 0.6])
def test_a_request_read_then_dropped_is_sent_once(
    sdk: openai.OpenAI, hostile: HostileUpstream, delay: float
) -> None:
    hostile.close_delay = delay
    before = hostile.arrivals["read-close"]
    with pytest.raises(openai.APIStatusError) as sync:
        _ask(sdk, "read-close")
    assert sync.value.status_code == 502
    assert sync.value.body["code"] == "upstream_connection_error"  # type: ignore[index]
    with pytest.raises(openai.APIStatusError) as streamed:
        _ask(sdk, "read-close", stream=True)
    assert streamed.value.status_code == 502
    # one arrival per client request: no replay, no second key, no spare channel
    assert hostile.arrivals["read-close"] - before == 2
    assert hostile.arrivals["spare"] == 0
    hostile.close_delay = 0.0


def test_a_reused_connection_dropped_after_reading_is_not_replayed(
    sdk: openai.OpenAI, hostile: HostileUpstream
) -> None:
    before = hostile.arrivals["second-close"]
    answer = _ask(sdk, "second-close")  # a fresh connection, answered and kept
    assert answer.choices[0].message.content == "fine"
    with pytest.raises(openai.APIStatusError) as dropped:
        _ask(sdk, "second-close")  # the same connection: read, then closed
    assert dropped.value.status_code == 502
    assert hostile.arrivals["second-close"] - before == 2


def test_limits_refuse_bombs_huge_bodies_and_heads_without_growing(
    sdk: openai.OpenAI, gateway: RunningServer
) -> None:
    peak = _peak_rss_mib(gateway.process.pid)
    for mode, stream in (
        ("gzip-bomb", False),
        ("gzip-bomb-stream", True),
        ("huge-body", False),
        ("huge-header", False),
    ):
        with pytest.raises(openai.APIStatusError) as refused:
            _ask(sdk, mode, stream=stream)
        assert refused.value.status_code == 502, mode
        expected = (
            "upstream_bad_response" if mode == "huge-header" else "upstream_response_too_large"
        )
        assert refused.value.body["code"] == expected, mode  # type: ignore[index]
    grown = _peak_rss_mib(gateway.process.pid) - peak
    assert grown < BOMB_BYTES / 2**20 / 4, f"peak RSS grew {grown:.0f} MiB"


def test_an_endless_stream_is_cut_past_max_tokens_and_billed_for_what_went_through(
    sdk: openai.OpenAI, gateway: RunningServer
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="endless-stream",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=4,
        stream=True,
    )
    request_id = raw.headers["x-request-id"]
    text = ""
    with pytest.raises(openai.APIError) as cut:
        for chunk in raw.parse():
            text += chunk.choices[0].delta.content or ""
    assert "past the output the request allows" in str(cut.value)
    # 4 tokens asked plus the default slack of 64: 68 chunks of "more " went through
    assert text == "more " * 68
    rows = usage_rows(gateway.database_url, request_id)
    assert [(r["status"], r["error_code"]) for r in rows] == [(502, "upstream_overrun")]
    assert rows[0]["completion_tokens"] == 68 * 5 // 4 and rows[0]["estimated"]


@pytest.mark.parametrize("mode", ["usage-negative", "usage-huge"])
@pytest.mark.parametrize("stream", [False, True])
def test_absurd_upstream_usage_is_clamped_and_booked_as_an_estimate(
    gateway: RunningServer, mode: str, stream: bool
) -> None:
    """Negative counts would credit the key (its quota would stop binding); counts past 64 bits
    fit no ledger row. Booked: at least what went through ("hi" in, "fine" out: one token each
    at 32 characters a token), at most what the request could cost (4 per prompt character
    plus the template allowance; max_tokens plus the slack)."""
    admin = {"Authorization": f"Bearer {gateway.admin_key}"}
    created = httpx.post(
        gateway.base_url + "/admin/keys",
        json={"name": "t", "owner": f"o-{mode}-{stream}", "quota_tokens": 100_000},
        headers=admin,
    ).json()
    client = openai.OpenAI(base_url=gateway.api_url, api_key=created["key"], max_retries=0)
    name = f"{mode}-stream" if stream else mode
    raw = client.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": "hi"}], max_tokens=5, stream=stream
    )
    if stream:
        text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    else:
        text = raw.parse().choices[0].message.content or ""
    assert text == "fine"
    rows = usage_rows(gateway.database_url, raw.headers["x-request-id"])
    expected = (1, 1) if mode == "usage-negative" else (4 * 2 + 10_000, 5 + 64)
    assert [(r["prompt_tokens"], r["completion_tokens"], r["estimated"]) for r in rows] == [
        (*expected, True)
    ]
    key = httpx.get(
        gateway.api_url + "/key", headers={"Authorization": f"Bearer {created['key']}"}
    ).json()
    assert key["used_tokens"] == sum(expected)


def test_an_upstream_quoting_its_key_does_not_show_it(gateway: RunningServer) -> None:
    client = openai.OpenAI(base_url=gateway.api_url, api_key=gateway.admin_key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        _ask(client, "echo-key")
    message = refused.value.body["message"]  # type: ignore[index]
    assert message == "Incorrect API key provided: [redacted]"  # a bearer token may hold dots
    assert SECRET[:8] not in gateway.log() and SECRET[-8:] not in gateway.log()


def test_a_retry_after_a_header_cannot_carry_is_dropped_not_a_500(
    gateway: RunningServer,
) -> None:
    response = httpx.post(
        gateway.api_url + "/chat/completions",
        json={"model": "retry-after-utf8", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {gateway.admin_key}"},
    )
    assert response.status_code == 429
    assert response.json()["error"] == {
        "message": "slow down",
        "type": "upstream_error",
        "param": None,
        "code": "rate_limited",
    }
    assert "retry-after" not in response.headers


def test_the_data_dir_and_its_files_are_private(gateway: RunningServer) -> None:
    """Every tenant's data lies there: only the server's user may read it."""
    assert gateway.data_dir.stat().st_mode & 0o777 == 0o700
    tops = {entry.name: entry.stat().st_mode & 0o777 for entry in gateway.data_dir.iterdir()}
    assert tops["modelport.db"] == 0o600 and tops["knowledge.sqlite3"] == 0o600
    assert tops["ledger-journal"] == 0o700
    assert {mode for mode in tops.values()} <= {0o600, 0o700}
