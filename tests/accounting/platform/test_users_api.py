"""Accounts over HTTP on SQLite and PostgreSQL: a user's keys spend from the user's quota,
its group sets the price, admins find, disable, move and top up users, codes redeem onto the
user, users manage their own keys, and another user's ids are 404s."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import time
from typing import Any

from modelport.storage.db import Database
from modelport.storage.user_tables import User
from tests.accounting.platform.conftest import PRICE, Platform


def _database_url(platform: Platform) -> str:
    url = getattr(platform, "database_url", None)
    if url is not None:
        return str(url)
    return f"sqlite+aiosqlite:///{platform.server.data_dir / 'modelport.db'}"


def new_user(platform: Platform, **fields: Any) -> str:
    """A user row inserted as the sign-up side would (it is not this module's)."""
    user_id = "usr_" + secrets.token_hex(8)
    name = fields.pop("username", "u" + secrets.token_hex(4))

    async def insert() -> None:
        db = Database(_database_url(platform))
        try:
            async with db.sessions() as session:
                session.add(User(id=user_id, username=name, **fields))
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(insert())
    return user_id


def user_key(platform: Platform, user_id: str, **fields: Any) -> dict[str, Any]:
    response = platform.admin(
        "POST", "/admin/keys", json={"name": "k", "user_id": user_id, **fields}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["user_id"] == user_id
    return created


def user_info(platform: Platform, user_id: str) -> dict[str, Any]:
    response = platform.admin("GET", f"/admin/users/{user_id}")
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    return info


def patch(platform: Platform, user_id: str, **body: Any) -> Any:
    return platform.admin("PATCH", f"/admin/users/{user_id}", json=body)


def test_keys_of_a_user_spend_from_its_quota(platform: Platform) -> None:
    user = new_user(platform, quota_tokens=10_000)
    first, second = user_key(platform, user), user_key(platform, user)
    answer = platform.chat(first["key"], max_tokens=3)
    assert answer.status_code == 200, answer.text
    spent = answer.json()["usage"]["total_tokens"]
    info = user_info(platform, user)
    assert (info["used_tokens"], info["reserved_tokens"]) == (spent, 0)
    assert info["used_micros"] > 0  # priced on the user too
    # The user's quota is the bound for every key of it: set to what is used, both refuse.
    assert patch(platform, user, quota_tokens=spent).status_code == 200
    for key in (first, second):
        refused = platform.chat(key["key"], max_tokens=3)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "insufficient_quota"
    # Never below what is used, unless asked; an adjustment is a signed delta.
    below = patch(platform, user, adjust_tokens=-1)
    assert below.status_code == 409 and below.json()["error"]["code"] == "quota_conflict"
    assert patch(platform, user, quota_tokens=spent - 1).status_code == 409
    assert patch(platform, user, adjust_tokens=1000).json()["quota_tokens"] == spent + 1000
    assert platform.chat(second["key"], max_tokens=3).status_code == 200
    forced = patch(platform, user, quota_tokens=0, allow_below_used=True)
    assert forced.status_code == 200 and forced.json()["quota_tokens"] == 0
    both = patch(platform, user, quota_tokens=5, adjust_tokens=5)
    assert both.status_code == 400


def test_a_key_sub_limit_binds_under_an_unlimited_user(platform: Platform) -> None:
    user = new_user(platform)  # unlimited
    capped = user_key(platform, user, quota_tokens=4)
    free = user_key(platform, user)
    assert platform.chat(capped["key"], max_tokens=3).status_code == 200
    assert platform.chat(capped["key"], max_tokens=3).status_code == 429
    assert platform.chat(free["key"], max_tokens=3).status_code == 200
    info = user_info(platform, user)
    assert info["quota_tokens"] is None and info["used_tokens"] > 0


def test_group_ratio_prices_the_users_requests(platform: Platform) -> None:
    name = "vip" + secrets.token_hex(3)
    created = platform.admin("POST", "/admin/groups", json={"name": name, "ratio": 0.5})
    assert created.status_code == 201, created.text
    assert platform.admin("POST", "/admin/groups", json={"name": name}).status_code == 409
    user = new_user(platform)
    key = user_key(platform, user, group_multiplier=2.0)  # the key's own multiplier stays
    usage = platform.chat(key["key"], max_tokens=3).json()["usage"]
    base = int(
        usage["prompt_tokens"] * PRICE["prompt"] * 1000
        + usage["completion_tokens"] * PRICE["completion"] * 1000
    )
    assert user_info(platform, user)["used_micros"] == 2 * base  # default group: ratio 1
    moved = patch(platform, user, group=name)
    assert moved.status_code == 200 and moved.json()["group"] == name
    assert platform.as_key(key["key"], "GET", "/v1/key").json()["group"] == name
    assert platform.chat(key["key"], max_tokens=3).json()["usage"] == usage
    assert user_info(platform, user)["used_micros"] == 2 * base + base  # 0.5 × 2.0
    unknown = patch(platform, user, group="no-such-group")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "group_not_found"
    in_use = platform.admin("DELETE", f"/admin/groups/{name}")
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "group_in_use"
    assert platform.admin("DELETE", "/admin/groups/default").status_code == 409
    assert patch(platform, user, group="default").status_code == 200
    assert platform.admin("PATCH", f"/admin/groups/{name}", json={"ratio": 3}).json()["ratio"] == 3
    assert platform.admin("DELETE", f"/admin/groups/{name}").status_code == 200
    assert platform.admin("GET", f"/admin/groups/{name}").status_code == 404
    listed = platform.admin("GET", "/admin/groups").json()["data"]
    assert {"name": "default", "ratio": 1.0}.items() <= listed[0].items()


def test_a_disabled_users_keys_stop_working(platform: Platform) -> None:
    user = new_user(platform)
    key = user_key(platform, user)
    assert platform.chat(key["key"], max_tokens=2).status_code == 200
    assert patch(platform, user, status="disabled").json()["status"] == "disabled"
    refused = platform.chat(key["key"], max_tokens=2)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "user_disabled"
    assert platform.as_key(key["key"], "GET", "/v1/user/keys").status_code == 401
    assert patch(platform, user, status="active").status_code == 200
    assert platform.chat(key["key"], max_tokens=2).status_code == 200


def test_admins_search_users_and_their_keys(platform: Platform) -> None:
    tag = secrets.token_hex(4)
    ann = new_user(platform, username=f"ann-{tag}", email=f"Ann.{tag}@Example.com")
    new_user(platform, username=f"ben-{tag}", display_name=f"Ben {tag.upper()}", status="disabled")
    key = user_key(platform, ann)
    found = platform.admin("GET", "/admin/users", params={"q": tag}).json()
    assert sorted(u["username"] for u in found["data"]) == [f"ann-{tag}", f"ben-{tag}"]
    by_mail = platform.admin("GET", "/admin/users", params={"q": f"ANN.{tag}@example"}).json()
    assert [u["id"] for u in by_mail["data"]] == [ann]
    off = platform.admin("GET", "/admin/users", params={"q": tag, "status": "disabled"}).json()
    assert [u["username"] for u in off["data"]] == [f"ben-{tag}"]
    page = platform.admin("GET", "/admin/users", params={"q": tag, "limit": 1}).json()
    assert page["has_more"] and len(page["data"]) == 1
    rest = platform.admin(
        "GET", "/admin/users", params={"q": tag, "limit": 1, "after": page["last_id"]}
    ).json()
    assert not rest["has_more"] and rest["data"][0]["id"] != page["data"][0]["id"]
    keys = platform.admin("GET", f"/admin/users/{ann}/keys").json()["data"]
    assert [k["id"] for k in keys] == [key["id"]]
    everyone = platform.admin("GET", "/admin/keys", params={"user_id": ann}).json()["data"]
    assert [k["id"] for k in everyone] == [key["id"]]
    assert platform.admin("GET", "/admin/users/usr_nobody").status_code == 404
    assert patch(platform, "usr_nobody", status="disabled").status_code == 404
    unknown = platform.admin("POST", "/admin/keys", json={"user_id": "usr_nobody"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "user_not_found"
    # Not for users' keys: every admin route is 403 to them.
    for path in ("/admin/users", f"/admin/users/{ann}", "/admin/groups", "/admin/codes"):
        assert platform.as_key(key["key"], "GET", path).status_code == 403


def test_users_manage_their_own_keys_and_nobody_elses(platform: Platform) -> None:
    alice, bob = new_user(platform), new_user(platform)
    a_key, b_key = user_key(platform, alice), user_key(platform, bob)
    made = platform.as_key(
        a_key["key"], "POST", "/v1/user/keys", json={"name": "laptop", "quota_tokens": 50}
    )
    assert made.status_code == 201, made.text
    laptop = made.json()
    assert (laptop["user_id"], laptop["is_admin"], laptop["quota_tokens"]) == (alice, False, 50)
    assert laptop["owner"] == a_key["owner"]  # shares the user's files and knowledge bases
    for sneaky in ({"is_admin": True}, {"group_multiplier": 0}, {"owner": "bob"}):
        refused = platform.as_key(a_key["key"], "POST", "/v1/user/keys", json=sneaky)
        assert refused.status_code == 400, (sneaky, refused.text)
    mine = platform.as_key(a_key["key"], "GET", "/v1/user/keys").json()["data"]
    assert sorted(k["id"] for k in mine) == sorted([a_key["id"], laptop["id"]])
    theirs = platform.as_key(b_key["key"], "GET", "/v1/user/keys").json()["data"]
    assert [k["id"] for k in theirs] == [b_key["id"]]
    # Bob tries alice's key ids: 404, and her keys still work.
    for key_id in (a_key["id"], laptop["id"]):
        hostile = platform.as_key(b_key["key"], "DELETE", f"/v1/user/keys/{key_id}")
        assert hostile.status_code == 404 and alice not in hostile.text
    assert platform.chat(laptop["key"], max_tokens=2).status_code == 200
    revoked = platform.as_key(a_key["key"], "DELETE", f"/v1/user/keys/{laptop['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert platform.chat(laptop["key"], max_tokens=2).status_code == 401
    # A key of no user has no user keys.
    loner = platform.new_key()
    assert platform.as_key(loner["key"], "GET", "/v1/user/keys").status_code == 403
    lone_delete = platform.as_key(loner["key"], "DELETE", f"/v1/user/keys/{a_key['id']}")
    assert lone_delete.status_code == 404


def _mint(platform: Platform, batch: str, count: int, **value: Any) -> list[dict[str, Any]]:
    body = {"batch": batch, "count": count, **value}
    response = platform.admin("POST", "/admin/redemption-codes", json=body)
    assert response.status_code == 201, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_codes_redeem_onto_the_user_and_admins_manage_them(platform: Platform) -> None:
    batch = '=HYPERLINK("x")' + secrets.token_hex(3)  # a formula, if a sheet ran it
    used, spare, gone = _mint(platform, batch, 3, tokens=700)
    user = new_user(platform, quota_tokens=100)
    key = user_key(platform, user, quota_tokens=5)  # the key's sub-limit is not credited
    redeemed = platform.as_key(key["key"], "POST", "/v1/redeem", json={"code": used["code"]})
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["user"]["id"] == user
    assert redeemed.json()["user"]["quota_tokens"] == 800
    assert redeemed.json()["key"]["quota_tokens"] == 5
    assert user_info(platform, user)["quota_tokens"] == 800
    assert platform.admin("GET", f"/admin/keys/{key['id']}").json()["quota_tokens"] == 5
    unlimited = new_user(platform)
    free_key = user_key(platform, unlimited)
    disabled = platform.admin("POST", f"/admin/codes/{spare['id']}/disable")
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    refused = platform.as_key(free_key["key"], "POST", "/v1/redeem", json={"code": spare["code"]})
    assert refused.status_code == 400
    assert platform.as_key(
        free_key["key"], "POST", "/v1/redeem", json={"code": gone["code"]}
    ).is_success
    assert user_info(platform, unlimited)["quota_tokens"] is None  # unlimited stays so
    rows = {c["id"]: c for c in platform.admin("GET", "/admin/codes").json()["data"]}
    assert rows[used["id"]]["status"] == "redeemed"
    assert (rows[used["id"]]["redeemed_by"], rows[used["id"]]["redeemed_user_id"]) == (
        key["id"],
        user,
    )
    assert rows[used["id"]]["redeemed_username"] == user_info(platform, user)["username"]
    assert rows[spare["id"]]["status"] == "disabled" and rows[spare["id"]]["redeemed_at"] is None
    again = platform.admin("POST", f"/admin/codes/{used['id']}/disable")
    assert again.status_code == 409 and again.json()["error"]["code"] == "code_redeemed"
    kept = platform.admin("DELETE", f"/admin/codes/{used['id']}")
    assert kept.status_code == 409
    assert platform.admin("DELETE", f"/admin/codes/{spare['id']}").status_code == 200
    assert platform.admin("DELETE", f"/admin/codes/{spare['id']}").status_code == 404
    assert platform.admin("POST", "/admin/codes/rc_nothing/disable").status_code == 404
    export = platform.admin("GET", "/admin/codes.csv", params={"batch": batch})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert sorted(r["id"] for r in table) == sorted([used["id"], gone["id"]])
    assert all(r["batch"] == "'" + batch for r in table)  # no cell starts a formula
    assert {r["redeemed_username"] for r in table} == {
        user_info(platform, user)["username"],
        user_info(platform, unlimited)["username"],
    }


def test_a_channel_limited_to_a_group_serves_only_its_users(
    platform: Platform, upstream_url: str
) -> None:
    tag = secrets.token_hex(3)
    group, model = f"gold-{tag}", f"gold-model-{tag}"
    assert platform.admin("POST", "/admin/groups", json={"name": group}).status_code == 201
    channel = {
        "name": f"gold {tag}",
        "provider": "openai_compat",
        "base_url": upstream_url,
        "api_keys": ["sk-test-1"],
        "models": [model],
        "groups": [group],
    }
    created = platform.admin("POST", "/admin/channels", json=channel)
    assert created.status_code == 201, created.text
    user = new_user(platform, group_name=group)
    key = user_key(platform, user)
    deadline = time.monotonic() + 10  # runtime channels reach the catalogue within 2 s
    while (member := platform.chat(key["key"], model=model, max_tokens=2)).status_code != 200:
        assert time.monotonic() < deadline, member.text
        time.sleep(0.1)
    assert patch(platform, user, group="default").status_code == 200
    outsider = platform.chat(key["key"], model=model, max_tokens=2)
    assert outsider.status_code == 404, outsider.text  # no channel serves `default` callers
    assert outsider.json()["error"]["code"] == "model_not_found"
    assert patch(platform, user, group=group).status_code == 200
    assert platform.chat(key["key"], model=model, max_tokens=2).status_code == 200
    platform.admin("DELETE", f"/admin/channels/{created.json()['id']}")
