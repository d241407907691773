"""A Midjourney task end to end: submit → progress → SUCCESS → upscale, through keys, quotas
and the ledger, with the upstream's ids, secret and webhook kept from the client."""

from __future__ import annotations

import secrets
from typing import Any

from tests.api.midjourney.conftest import (
    IMAGINE_MICROS,
    MJ,
    UPSCALE_MICROS,
    FakeMidjourney,
    wait_for,
)
from tests.fakes.midjourney import SECRET


def upstream_task(fake: FakeMidjourney, prompt: str) -> dict[str, Any]:
    found = [t for t in fake.tasks.values() if t["prompt"] == prompt and t["action"] == "IMAGINE"]
    assert len(found) == 1, found
    return found[0]


def fetch(mj: MJ, key: str, task_id: str) -> dict[str, Any]:
    with mj.client(key) as client:
        answer = client.get(f"/mj/task/{task_id}/fetch")
    assert answer.status_code == 200, answer.text
    task: dict[str, Any] = answer.json()
    return task


def test_imagine_progress_success_and_upscale(mj: MJ) -> None:
    key = mj.new_key("mj-painter")
    prompt = f"a lighthouse in fog {secrets.token_hex(3)}"
    with mj.client(key["key"], header="mj") as client:  # as midjourney-proxy clients sign in
        answer = client.post(
            "/mj/submit/imagine",
            json={"prompt": prompt, "notifyHook": mj.fakes.hook_url, "state": "s-1"},
        )
    assert answer.status_code == 200, answer.text
    submitted = answer.json()
    assert submitted["code"] == 1 and submitted["description"] == "提交成功"
    task_id = submitted["result"]
    upstream = upstream_task(mj.fakes.main, prompt)
    assert task_id != upstream["id"]  # the upstream's id never reaches the client
    sent = mj.fakes.main.submissions[-1]
    assert sent["body"]["notifyHook"].startswith(f"{mj.server.base_url}/mj/notify/main?token=")
    wait_for(lambda: mj.cost(key["id"]) == IMAGINE_MICROS)

    mj.fakes.main.progress(upstream["id"], 40)  # the upstream calls our webhook
    task = wait_for(lambda: (t := fetch(mj, key["key"], task_id))["progress"] == "40%" and t)
    assert task["status"] == "IN_PROGRESS" and task["state"] == "s-1"

    mj.fakes.main.succeed(upstream["id"])
    task = wait_for(lambda: (t := fetch(mj, key["key"], task_id))["status"] == "SUCCESS" and t)
    assert task["progress"] == "100%" and task["action"] == "IMAGINE"
    assert task["imageUrl"].startswith(f"{mj.server.base_url}/mj/image/{task_id}?")
    assert "notifyHook" not in task["properties"] and "discordInstanceId" not in task["properties"]
    labels = [b["label"] or b["emoji"] for b in task["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]

    image = mj.client().get(task["imageUrl"].removeprefix(mj.server.base_url))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png"

    # the client's own hook heard every change, with our id and our image URL
    heard = wait_for(lambda: [c for c in mj.fakes.hooks.calls if c["id"] == task_id and c])
    wait_for(lambda: any(c["id"] == task_id and c["status"] == "SUCCESS" for c in heard))
    assert {c["status"] for c in heard if c["id"] == task_id} >= {"IN_PROGRESS", "SUCCESS"}

    u2 = next(b["customId"] for b in task["buttons"] if b["label"] == "U2")
    with mj.client(key["key"]) as client:
        answer = client.post("/mj/submit/action", json={"customId": u2, "taskId": task_id})
    assert answer.status_code == 200 and answer.json()["code"] == 1, answer.text
    upscale_id = answer.json()["result"]
    sent = mj.fakes.main.submissions[-1]
    assert sent["kind"] == "action" and sent["body"]["taskId"] == upstream["id"]
    upscale = fetch(mj, key["key"], upscale_id)
    assert upscale["action"] == "UPSCALE" and upscale["status"] == "SUBMITTED"
    wait_for(lambda: mj.cost(key["id"]) == IMAGINE_MICROS + UPSCALE_MICROS)


def test_a_failed_task_is_refunded_once(mj: MJ) -> None:
    key = mj.new_key("mj-unlucky")
    prompt = f"a failing cat {secrets.token_hex(3)}"
    with mj.client(key["key"]) as client:
        task_id = client.post("/mj/submit/imagine", json={"prompt": prompt}).json()["result"]
    wait_for(lambda: mj.cost(key["id"]) == IMAGINE_MICROS)
    upstream = upstream_task(mj.fakes.main, prompt)
    mj.fakes.main.fail(upstream["id"], "Banned prompt detected by Midjourney")
    task = wait_for(lambda: (t := fetch(mj, key["key"], task_id))["status"] == "FAILURE" and t)
    assert task["failReason"] == "Banned prompt detected by Midjourney"
    wait_for(lambda: mj.cost(key["id"]) == 0)
    with mj.client(key["key"]) as client:
        logged = client.get("/v1/usage/requests").json()["data"]
    assert sorted(r["detail"] for r in logged) == [
        f"IMAGINE fast task {task_id}",
        f"refund of IMAGINE task {task_id}",
    ]
    # the same news again (the webhook retried, then the poll): still one refund
    mj.fakes.main.fail(upstream["id"], "again")
    with mj.client() as admin:
        notify = [s for s in mj.fakes.main.submissions if s["body"].get("prompt") == prompt]
        hook = notify[0]["body"]["notifyHook"]
        news = mj.fakes.main.tasks[upstream["id"]]
        replay = admin.post(hook.removeprefix(mj.server.base_url), json=news)
    assert replay.status_code == 200
    wait_for(lambda: mj.cost(key["id"]) == 0)
    assert fetch(mj, key["key"], task_id)["failReason"] == "Banned prompt detected by Midjourney"
    with mj.client() as admin:
        rows = admin.get("/admin/usage", params={"key_id": key["id"]}).json()["totals"]
    assert rows["requests"] == 2  # the charge and one refund


def test_a_missed_webhook_is_reconciled_by_the_poll(mj: MJ) -> None:
    key = mj.new_key("mj-patient")
    prompt = f"a quiet harbour {secrets.token_hex(3)}"
    with mj.client(key["key"]) as client:
        task_id = client.post("/mj/submit/imagine", json={"prompt": prompt}).json()["result"]
    upstream = upstream_task(mj.fakes.main, prompt)
    mj.fakes.main.hooks = False
    try:
        mj.fakes.main.succeed(upstream["id"])
    finally:
        mj.fakes.main.hooks = True
    task = wait_for(lambda: (t := fetch(mj, key["key"], task_id))["status"] == "SUCCESS" and t)
    assert task["imageUrl"]


def test_a_task_without_progress_times_out_and_is_refunded(mj: MJ) -> None:
    key = mj.new_key("mj-stuck")
    with mj.client(key["key"]) as client:
        prompt = f"stuck {secrets.token_hex(3)}"
        answer = client.post("/mj/submit/imagine", json={"prompt": prompt})
    task_id = answer.json()["result"]
    wait_for(lambda: mj.cost(key["id"]) == IMAGINE_MICROS)
    task = wait_for(
        lambda: (t := fetch(mj, key["key"], task_id))["status"] == "FAILURE" and t,
        timeout=mj.stuck_seconds + 10,
    )
    assert "no progress" in task["failReason"]
    wait_for(lambda: mj.cost(key["id"]) == 0)


def test_the_upstream_secret_and_webhook_token_stay_with_the_upstream(mj: MJ) -> None:
    sent = mj.fakes.main.submissions[-1]
    with mj.client() as client:
        tasks = client.post("/mj/task/list-by-condition", json={"ids": []}).json()
        turbo = client.post("/mj-turbo/mj/submit/imagine", json={"prompt": "a fast car"})
    text = str(tasks)
    assert SECRET not in text and "token=" not in text
    assert turbo.status_code == 502
    assert turbo.json()["code"] == 9 and "sk-leak-me" not in turbo.text
    assert "notifyHook" not in sent["body"] or "/mj/notify/" in sent["body"]["notifyHook"]
