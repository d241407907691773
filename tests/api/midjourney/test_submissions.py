"""Midjourney submissions: tenants kept apart, refusals not charged, quotas held before the
upstream, a channel out of accounts disabled, speed modes, changes, modals and the errors'
envelope."""

from __future__ import annotations

import secrets
from typing import Any

from tests.api.midjourney.conftest import IMAGINE_MICROS, MJ, wait_for


def imagine(mj: MJ, key: str, prompt: str, path: str = "/mj/submit/imagine") -> dict[str, Any]:
    with mj.client(key) as client:
        answer = client.post(path, json={"prompt": prompt})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def finish(mj: MJ, key: str, task_id: str, prompt: str) -> dict[str, Any]:
    upstream = next(t for t in mj.fakes.main.tasks.values() if t["prompt"] == prompt)
    mj.fakes.main.succeed(upstream["id"])

    def done() -> dict[str, Any] | None:
        with mj.client(key) as client:
            task: dict[str, Any] = client.get(f"/mj/task/{task_id}/fetch").json()
        return task if task["status"] == "SUCCESS" else None

    finished: dict[str, Any] = wait_for(done)
    return finished


def test_tenants_see_only_their_own_tasks(mj: MJ) -> None:
    alice, bob = mj.new_key("mj-alice"), mj.new_key("mj-bob")
    task_id = imagine(mj, alice["key"], f"alice's garden {secrets.token_hex(3)}")["result"]
    with mj.client(bob["key"]) as client:
        fetched = client.get(f"/mj/task/{task_id}/fetch")
        listed = client.post("/mj/task/list-by-condition", json={"ids": [task_id]})
        acted = client.post(
            "/mj/submit/action", json={"customId": "MJ::JOB::upsample::1::x", "taskId": task_id}
        )
        seed = client.get(f"/mj/task/{task_id}/image-seed")
    assert fetched.status_code == 404 and fetched.json()["code"] == 3
    assert listed.status_code == 200 and listed.json() == []
    assert acted.status_code == 404 and acted.json()["code"] == 3
    assert seed.status_code == 404
    with mj.client(alice["key"]) as client:
        mine = client.post("/mj/task/list-by-condition", json={}).json()
    assert [t["id"] for t in mine] == [task_id]


def test_refusals_are_not_charged(mj: MJ) -> None:
    key = mj.new_key("mj-refused")
    banned = imagine(mj, key["key"], "a banned picture")
    assert banned["code"] == 24 and banned["result"] is None
    with mj.client(key["key"]) as client:
        empty = client.post("/mj/submit/imagine", json={"prompt": ""})
        bad_hook = client.post(
            "/mj/submit/imagine", json={"prompt": "x", "notifyHook": "file:///etc/passwd"}
        )
        no_key = client.post(
            "/mj/submit/imagine", json={"prompt": "x"}, headers={"authorization": ""}
        )
    assert empty.status_code == 400 and empty.json()["code"] == 4
    assert bad_hook.status_code == 400 and bad_hook.json()["code"] == 4
    assert no_key.status_code == 401 and set(no_key.json()) == {
        "code",
        "description",
        "properties",
        "result",
    }
    mj.fakes.main.mode = "full"
    try:
        full = imagine(mj, key["key"], "queue is full")
    finally:
        mj.fakes.main.mode = "ok"
    assert full["code"] == 23
    assert mj.cost(key["id"]) == 0


def test_a_spent_quota_is_refused_before_the_upstream_is_called(mj: MJ) -> None:
    poor = mj.new_key("mj-poor", quota=IMAGINE_MICROS / 1_000_000)  # one task's worth
    assert imagine(mj, poor["key"], f"the only one {secrets.token_hex(3)}")["code"] == 1
    wait_for(lambda: mj.cost(poor["id"]) == IMAGINE_MICROS)
    calls = len(mj.fakes.main.submissions)
    with mj.client(poor["key"]) as client:
        answer = client.post("/mj/submit/imagine", json={"prompt": "one too many"})
    assert answer.status_code == 429 and answer.json()["code"] == 9
    assert "quota" in answer.json()["description"]
    assert len(mj.fakes.main.submissions) == calls
    assert mj.cost(poor["id"]) == IMAGINE_MICROS


def test_a_channel_out_of_accounts_is_disabled_and_the_next_one_draws(mj: MJ) -> None:
    key = mj.new_key("mj-fallback")
    prompt = f"fallback {secrets.token_hex(3)}"
    result = imagine(mj, key["key"], prompt)
    assert result["code"] == 1
    assert any(t["prompt"] == prompt for t in mj.fakes.main.tasks.values())
    with mj.client() as admin:
        channels = {c["name"]: c for c in admin.get("/admin/midjourney/channels").json()}
    assert channels["dead"]["enabled"] is False
    assert "无可用的账号实例" in channels["dead"]["disabled_reason"]
    assert channels["main"]["enabled"] is True
    wait_for(lambda: mj.cost(key["id"]) == IMAGINE_MICROS)


def test_speed_mode_prefixes_pick_channels_and_upstream_paths(mj: MJ) -> None:
    key = mj.new_key("mj-relax")
    prompt = f"slow clouds {secrets.token_hex(3)}"
    result = imagine(mj, key["key"], prompt, path="/mj-relax/mj/submit/imagine")
    assert result["code"] == 1
    sent = mj.fakes.relaxed.submissions[-1]
    assert sent["path"] == "/mj-relax/mj/submit/imagine" and sent["body"]["prompt"] == prompt
    with mj.client(key["key"]) as client:
        task = client.get(f"/mj-relax/mj/task/{result['result']}/fetch").json()
    assert task["properties"]["mode"] == "relax"


def test_simple_change_and_a_modal_action(mj: MJ) -> None:
    key = mj.new_key("mj-changer")
    prompt = f"a red boat {secrets.token_hex(3)}"
    task_id = imagine(mj, key["key"], prompt)["result"]
    upstream_id = next(t["id"] for t in mj.fakes.main.tasks.values() if t["prompt"] == prompt)
    finish(mj, key["key"], task_id, prompt)
    with mj.client(key["key"]) as client:
        bad = client.post("/mj/submit/simple-change", json={"content": f"{task_id} X9"})
        changed = client.post("/mj/submit/simple-change", json={"content": f"{task_id} U3"})
    assert bad.status_code == 400 and bad.json()["code"] == 4
    assert changed.json()["code"] == 1, changed.text
    sent = mj.fakes.main.submissions[-1]
    assert sent["kind"] == "change"
    assert sent["body"] == sent["body"] | {"action": "UPSCALE", "index": 3, "taskId": upstream_id}
    upscale_id = changed.json()["result"]
    upscaled = list(mj.fakes.main.tasks.values())[-1]  # the task the change just made
    assert upscaled["action"] == "UPSCALE" and "::upsample::3::" in upscaled["customId"]
    mj.fakes.main.succeed(upscaled["id"])

    def upscale_done() -> dict[str, Any] | None:
        with mj.client(key["key"]) as client:
            task: dict[str, Any] = client.get(f"/mj/task/{upscale_id}/fetch").json()
        return task if task["status"] == "SUCCESS" else None

    upscale = wait_for(upscale_done)
    zoom = next(b["customId"] for b in upscale["buttons"] if b["label"] == "Custom Zoom")
    before = mj.cost(key["id"])
    with mj.client(key["key"]) as client:
        opened = client.post("/mj/submit/action", json={"customId": zoom, "taskId": upscale_id})
        assert opened.json()["code"] == 21, opened.text
        modal_id = opened.json()["result"]
        assert client.get(f"/mj/task/{modal_id}/fetch").json()["status"] == "MODAL"
        sent = client.post(
            "/mj/submit/modal", json={"taskId": modal_id, "prompt": "zoomed --zoom 1.5"}
        )
    assert sent.json() == sent.json() | {"code": 1, "result": modal_id}
    # the zoom was charged once, when the upstream opened it
    wait_for(lambda: mj.cost(key["id"]) == before + 80_000)
