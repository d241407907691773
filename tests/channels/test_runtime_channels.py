"""Channels added, changed and removed at runtime through `/admin/channels`, served at once,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.channels.runtime_support import Setup, channel_body, chat, running, wait_for
from tests.support.stores import STORES


@pytest.fixture(scope="module", params=STORES)
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    with running(request.param, tmp_path_factory.mktemp(request.param)) as started:
        yield started


def test_a_channel_added_at_runtime_serves_its_models(setup: Setup) -> None:
    with setup.admin() as admin:
        created = admin.post("/admin/channels", json=channel_body(setup.vendor_url))
        assert created.status_code == 201, created.text
        info = created.json()
        assert info["id"].startswith("ch_") and info["source"] == "database"
        assert info["api_keys"] == ["sk-l…2222"]  # masked once saved
        assert "sk-live-bbbb2222" not in created.text
        sdk = openai.OpenAI(base_url=setup.server.api_url, api_key=setup.server.admin_key)
        reply = sdk.chat.completions.create(
            model="rt-chat", messages=[{"role": "user", "content": "你好 there"}]
        )
        assert reply.choices[0].message.content == "Echo: 你好 there"
        assert reply.model == "rt-chat"
        assert setup.upstream_models()[-1] == "gpt-4o-mini"  # the mapping
        assert setup.keys_seen()[-1] == "sk-live-bbbb2222"
        assert "rt-chat" in [m.id for m in sdk.models.list().data]
        listed = {c["id"]: c for c in admin.get("/admin/channels").json()["data"]}
        assert listed["from-yaml#0"]["source"] == "config"
        assert listed[info["id"]]["state"] == "closed"
        assert listed[info["id"]]["total_successes"] == 1

        changed = admin.patch(f"/admin/channels/{info['id']}", json={"status": "disabled"})
        assert changed.json()["status"] == "disabled"
        refused = chat(setup.server.base_url, setup.server.admin_key, "rt-chat")
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "model_not_found"

        admin.patch(f"/admin/channels/{info['id']}", json={"status": "enabled"})
        assert chat(setup.server.base_url, setup.server.admin_key, "rt-chat").status_code == 200
        assert admin.delete(f"/admin/channels/{info['id']}").json()["deleted"] is True
        assert chat(setup.server.base_url, setup.server.admin_key, "rt-chat").status_code == 404
        assert admin.get(f"/admin/channels/{info['id']}").status_code == 404


def test_runtime_channels_join_the_settings_model_of_the_same_name(setup: Setup) -> None:
    """The settings' model keeps its channel; a stored channel for the same name is added
    after it (a lower priority tier here, so only the settings' one answers until it fails)."""
    body = channel_body(
        setup.vendor_url,
        models=["from-yaml"],
        model_mapping={},
        api_keys=["sk-live-cccc3333"],
        priority=-1,
    )
    with setup.admin() as admin:
        created = admin.post("/admin/channels", json=body).json()
        try:
            for _ in range(3):
                assert chat(setup.server.base_url, setup.server.admin_key, "from-yaml").is_success
            assert setup.keys_seen()[-3:] == ["sk-live-aaaa1111"] * 3
            setup.vendor.state.key_faults["sk-live-aaaa1111"] = "503"
            answered = chat(setup.server.base_url, setup.server.admin_key, "from-yaml")
            assert answered.is_success
            assert setup.keys_seen()[-2:] == ["sk-live-aaaa1111", "sk-live-cccc3333"]
        finally:
            setup.vendor.state.key_faults.pop("sk-live-aaaa1111", None)
            admin.delete(f"/admin/channels/{created['id']}")


def test_a_lower_tier_only_when_the_higher_tier_is_down(setup: Setup) -> None:
    url = setup.vendor_url
    high = channel_body(url, name="high", models=["tiered"], model_mapping={}, priority=10)
    low = channel_body(
        url, name="low", models=["tiered"], model_mapping={}, api_keys=["sk-live-cccc3333"]
    )
    with setup.admin() as admin:
        ids = [admin.post("/admin/channels", json=b).json()["id"] for b in (high, low)]
        try:
            before = len(setup.keys_seen())
            for _ in range(6):
                assert chat(setup.server.base_url, setup.server.admin_key, "tiered").is_success
            assert setup.keys_seen()[before:] == ["sk-live-bbbb2222"] * 6
            setup.vendor.state.key_faults["sk-live-bbbb2222"] = "500"
            before = len(setup.keys_seen())
            assert chat(setup.server.base_url, setup.server.admin_key, "tiered").is_success
            assert setup.keys_seen()[before:] == ["sk-live-bbbb2222", "sk-live-cccc3333"]
        finally:
            setup.vendor.state.key_faults.pop("sk-live-bbbb2222", None)
            for channel_id in ids:
                admin.delete(f"/admin/channels/{channel_id}")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [(None, "authentication"), ("quota", "quota")],
)
def test_an_upstream_refusing_the_channel_switches_it_off(
    setup: Setup, fault: str | None, reason: str
) -> None:
    """A refused key (401) or a spent account (429 insufficient_quota) switches the channel
    off with the reason; the request moves on to the next channel. With `auto_probe`, the
    channel comes back once its upstream answers again."""
    bad_key = "sk-live-dddd4444"
    broken = channel_body(
        setup.vendor_url,
        name="broken",
        models=["refused"],
        model_mapping={},
        api_keys=[bad_key],
        priority=5,
        auto_probe=True,
    )
    backup = channel_body(setup.vendor_url, name="backup", models=["refused"], model_mapping={})
    if fault is not None:  # a known key whose account is empty
        broken["api_keys"] = ["sk-live-aaaa1111"]
        setup.vendor.state.key_faults["sk-live-aaaa1111"] = fault
    with setup.admin() as admin:
        first = admin.post("/admin/channels", json=broken).json()
        second = admin.post("/admin/channels", json=backup).json()
        try:
            answered = chat(setup.server.base_url, setup.server.admin_key, "refused")
            assert answered.status_code == 200, answered.text
            shown = admin.get(f"/admin/channels/{first['id']}").json()
            assert shown["status"] == "auto_disabled"
            assert reason in shown["status_reason"].lower()
            assert bad_key not in shown["status_reason"]
            before = len(setup.keys_seen())
            assert chat(setup.server.base_url, setup.server.admin_key, "refused").is_success
            assert setup.keys_seen()[before:] == ["sk-live-bbbb2222"]  # not tried again
            # the upstream takes the channel back: the probe turns it on again
            if fault is None:
                admin.patch(f"/admin/channels/{first['id']}", json={"api_keys": [bad_key]})
                setup.vendor.state.keys = frozenset({*setup.vendor.state.keys, bad_key})
            else:
                setup.vendor.state.key_faults.pop("sk-live-aaaa1111")

            def back_on() -> bool:
                got = admin.get(f"/admin/channels/{first['id']}").json()
                return bool(got["status"] == "enabled")

            if fault is None:  # an operator's edit does not switch it on by itself
                assert admin.get(f"/admin/channels/{first['id']}").json()["status"] == (
                    "auto_disabled"
                )
            wait_for(back_on, timeout=10)
            assert admin.get(f"/admin/channels/{first['id']}").json()["last_test_error"] is None
        finally:
            setup.vendor.state.key_faults.pop("sk-live-aaaa1111", None)
            setup.vendor.state.keys = frozenset(k for k in setup.vendor.state.keys if k != bad_key)
            for channel_id in (first["id"], second["id"]):
                admin.delete(f"/admin/channels/{channel_id}")


def test_a_channel_limited_to_groups_is_not_offered_to_others(setup: Setup) -> None:
    body = channel_body(setup.vendor_url, models=["vip-only"], model_mapping={}, groups=["vip"])
    with setup.admin() as admin:
        created = admin.post("/admin/channels", json=body).json()
        try:
            refused = chat(setup.server.base_url, setup.server.admin_key, "vip-only")
            assert refused.status_code == 404
            assert refused.json()["error"]["code"] == "model_not_found"
            sdk = openai.OpenAI(base_url=setup.server.api_url, api_key=setup.server.admin_key)
            assert "vip-only" not in [m.id for m in sdk.models.list().data]
            with pytest.raises(openai.NotFoundError):
                sdk.models.retrieve("vip-only")
        finally:
            admin.delete(f"/admin/channels/{created['id']}")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"provider": "nosuch"}, "provider"),
        ({"provider": "local"}, "provider"),
        ({"models": []}, "models"),
        ({"model_mapping": {"other": "x"}}, "model_mapping"),
        ({"options": {"no_such_option": 1}}, "options.no_such_option"),
    ],
)
def test_a_channel_the_catalogue_could_not_use_is_refused(
    setup: Setup, body: dict[str, object], param: str
) -> None:
    with setup.admin() as admin:
        refused = admin.post("/admin/channels", json=channel_body(setup.vendor_url, **body))
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["code"] == "invalid_channel" and error["param"] == param


def test_channels_need_an_admin(setup: Setup) -> None:
    with setup.admin() as admin:
        user_key = admin.post("/admin/keys", json={"name": "tenant"}).json()["key"]
    body = channel_body(setup.vendor_url)
    for key, status in (("sk-nope", 401), (user_key, 403)):
        headers = {"Authorization": f"Bearer {key}"}
        listed = httpx.get(setup.server.base_url + "/admin/channels", headers=headers)
        assert listed.status_code == status
        posted = httpx.post(setup.server.base_url + "/admin/channels", headers=headers, json=body)
        assert posted.status_code == status
