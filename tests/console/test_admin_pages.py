"""Admin pages: users (search, quota set and adjusted, group, disable and enable, their keys),
groups (create, ratio, delete) and redemption codes (who redeemed, disable, delete, CSV)."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import expect

from tests.console.conftest import Console
from tests.console.operator_flow_support import console_key_of, sign_up


def admin(console: Console) -> httpx.Client:
    headers = {"Authorization": f"Bearer {console.server.admin_key}"}
    return httpx.Client(base_url=console.server.base_url, headers=headers, timeout=30)


def test_users_search_quota_group_status_and_keys(console: Console) -> None:
    page = console.page
    run = uuid.uuid4().hex[:6]
    session = sign_up(console.server, f"ann{run}")
    sign_up(console.server, f"bob{run}")
    key = console_key_of(session, "laptop")
    user_id = session.get("/auth/me").json()["user"]["id"]
    with admin(console) as api:
        assert (
            api.post("/admin/groups", json={"name": f"vip{run}", "ratio": 0.8}).status_code == 201
        )
    console.sign_in()
    console.open("users")
    page.get_by_test_id("user-search").fill(f"ann{run}")
    page.get_by_test_id("user-search-go").click()
    rows = page.get_by_test_id("user-rows").locator("tr[data-testid^=user-row-]")
    expect(rows).to_have_count(1)
    row = page.get_by_test_id(f"user-row-ann{run}")
    expect(row.get_by_test_id("user-quota")).to_contain_text("Unlimited")

    row.get_by_test_id("user-quota-edit").click()
    page.get_by_test_id("user-set-tokens").fill("1000")
    page.get_by_test_id("user-quota-save").click()
    expect(row.get_by_test_id("user-quota")).to_contain_text("0 / 1,000 tokens")
    row.get_by_test_id("user-quota-edit").click()
    page.get_by_test_id("user-adjust-tokens").fill("500")
    page.get_by_test_id("user-quota-save").click()
    expect(row.get_by_test_id("user-quota")).to_contain_text("0 / 1,500 tokens")
    with admin(console) as api:
        assert api.get(f"/admin/users/{user_id}").json()["quota_tokens"] == 1500

    row.get_by_test_id("user-group").select_option(f"vip{run}")
    expect(page.get_by_test_id("user-note")).to_have_text(f"ann{run} moved to group vip{run}.")
    with admin(console) as api:
        assert api.get(f"/admin/users/{user_id}").json()["group"] == f"vip{run}"

    own = console.server.base_url + "/v1/key"
    bearer = {"Authorization": f"Bearer {key}"}
    row.get_by_test_id("user-toggle").click()
    expect(row.get_by_test_id("user-status")).to_have_text("Disabled")
    refused = httpx.get(own, headers=bearer, timeout=30)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "user_disabled")
    row.get_by_test_id("user-toggle").click()
    expect(row.get_by_test_id("user-status")).to_have_text("Active")
    assert httpx.get(own, headers=bearer, timeout=30).status_code == 200

    row.get_by_test_id("user-keys-open").click()
    keys = page.get_by_test_id("user-key-rows")
    expect(keys).to_contain_text("laptop")
    with admin(console) as api:
        names = [k["name"] for k in api.get(f"/admin/users/{user_id}/keys").json()["data"]]
    assert "laptop" in names  # beside the console key its session made
    expect(keys.locator("tr")).to_have_count(len(names))


def test_groups_ratio_and_delete(console: Console) -> None:
    page = console.page
    name = f"gold{uuid.uuid4().hex[:6]}"
    console.sign_in()
    console.open("groups")
    page.get_by_test_id("group-name").fill(name)
    page.get_by_test_id("group-ratio").fill("0.8")
    page.get_by_test_id("group-create").click()
    row = page.get_by_test_id(f"group-row-{name}")
    expect(row.get_by_test_id("group-ratio-edit")).to_have_value("0.8")
    row.get_by_test_id("group-ratio-edit").fill("0.7")
    row.get_by_test_id("group-save").click()
    expect(page.get_by_test_id("group-note")).to_have_text(f"Group {name} saved.")
    with admin(console) as api:
        assert api.get(f"/admin/groups/{name}").json()["ratio"] == 0.7
    row.locator("button.danger").click()
    row.locator("button.danger").click()  # the second click confirms
    expect(row).to_have_count(0)
    with admin(console) as api:
        assert api.get(f"/admin/groups/{name}").status_code == 404


def test_codes_who_redeemed_disable_delete_and_csv(console: Console) -> None:
    page = console.page
    batch = f"b{uuid.uuid4().hex[:6]}"
    with admin(console) as api:
        minted = api.post(
            "/admin/redemption-codes", json={"batch": batch, "count": 3, "tokens": 10}
        ).json()["data"]
        listed = {
            c["id"]: c for c in api.get("/admin/codes", params={"batch": batch}).json()["data"]
        }
    redeemed, disabled, deleted = (listed[c["id"]]["display"] for c in minted)
    user = f"cy{batch}"
    key = console_key_of(sign_up(console.server, user), "k")
    answer = httpx.post(
        console.server.base_url + "/v1/redeem",
        json={"code": minted[0]["code"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text

    console.sign_in()
    console.open("codes")
    expect(page.get_by_test_id(f"code-row-{redeemed}").get_by_test_id("code-who")).to_contain_text(
        user
    )
    expect(
        page.get_by_test_id(f"code-row-{redeemed}").get_by_test_id("code-disable")
    ).to_have_count(0)

    page.get_by_test_id(f"code-row-{disabled}").get_by_test_id("code-disable").click()
    expect(page.get_by_test_id(f"code-row-{disabled}").get_by_test_id("code-state")).to_have_text(
        "Disabled"
    )
    victim = page.get_by_test_id(f"code-row-{deleted}").get_by_test_id("code-delete")
    victim.click()
    victim.click()  # the second click confirms
    expect(page.get_by_test_id(f"code-row-{deleted}")).to_have_count(0)
    with admin(console) as api:
        states = {
            c["display"]: c["status"]
            for c in api.get("/admin/codes", params={"batch": batch}).json()["data"]
        }
    assert states == {redeemed: "redeemed", disabled: "disabled"}

    with page.expect_download() as download:
        page.get_by_test_id("code-export").click()
    assert download.value.suggested_filename == "redemption-codes.csv"
    body = download.value.path().read_text(encoding="utf-8")
    assert body.startswith("\ufeff")
    assert redeemed in body and disabled in body and deleted not in body
    assert user in body
