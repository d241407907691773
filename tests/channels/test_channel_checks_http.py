"""`POST /admin/channels/{id}/test` and `/balance` through a real server: the outcome is
shown and kept on the channel, the vendor's error without the channel's secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.runtime_support import Setup, channel_body, running
from tests.fakes.balance_vendors import DEEPSEEK
from tests.fakes.balance_vendors import create_app as create_balances
from tests.fakes.server import serve_asgi


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with running("sqlite", tmp_path_factory.mktemp("checks")) as started:
        yield started


def test_a_test_request_shows_latency_or_the_redacted_error(setup: Setup) -> None:
    with setup.admin() as admin:
        good = admin.post("/admin/channels", json=channel_body(setup.vendor_url)).json()
        bad_key = "sk-live-ffff9999ffff"
        bad = admin.post(
            "/admin/channels",
            json=channel_body(setup.vendor_url, name="bad", api_keys=[bad_key]),
        ).json()
        before = len(setup.vendor.state.requests)
        ok = admin.post(f"/admin/channels/{good['id']}/test", json={})
        assert ok.status_code == 200, ok.text
        assert ok.json()["ok"] is True and ok.json()["model"] == "rt-chat"
        sent = setup.vendor.state.requests[before]["body"]
        assert sent["model"] == "gpt-4o-mini" and sent["max_tokens"] == 1
        kept = admin.get(f"/admin/channels/{good['id']}").json()
        assert kept["last_test_ms"] == ok.json()["latency_ms"] and kept["last_test_error"] is None

        failed = admin.post(f"/admin/channels/{bad['id']}/test", json={}).json()
        assert failed["ok"] is False and failed["status"] == 401
        assert "Incorrect API key" in failed["error"] and bad_key[:6] not in failed["error"]
        kept = admin.get(f"/admin/channels/{bad['id']}").json()
        assert "Incorrect API key" in kept["last_test_error"]
        wrong = admin.post(f"/admin/channels/{good['id']}/test", json={"model": "other"})
        assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "model"
        for channel in (good, bad):
            admin.delete(f"/admin/channels/{channel['id']}")


def test_the_balance_is_fetched_and_kept(setup: Setup) -> None:
    vendor = create_balances()
    vendor.state.accounts["sk-live-bbbb2222"] = {"deepseek": DEEPSEEK}
    with serve_asgi(vendor) as url, setup.admin() as admin:
        body = channel_body(url + "/v1", balance_kind="deepseek")
        channel = admin.post("/admin/channels", json=body).json()
        got = admin.post(f"/admin/channels/{channel['id']}/balance")
        assert got.status_code == 200, got.text
        assert (got.json()["balance"], got.json()["currency"]) == ("110.00", "CNY")
        assert got.json()["detail"]["granted_balance"] == "10.00"
        shown = admin.get(f"/admin/channels/{channel['id']}").json()
        assert (shown["balance"], shown["balance_currency"]) == ("110.00", "CNY")

        unknown = admin.post(
            "/admin/channels", json=channel_body(url + "/v1", name="no-balance")
        ).json()
        refused = admin.post(f"/admin/channels/{unknown['id']}/balance")
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "balance_unsupported"
        vendor.state.faults["sk-live-bbbb2222"] = "leak"
        leaked = admin.post(f"/admin/channels/{channel['id']}/balance")
        assert leaked.status_code == 502 and "sk-live-bbbb2222" not in leaked.text
        for made in (channel, unknown):
            admin.delete(f"/admin/channels/{made['id']}")
