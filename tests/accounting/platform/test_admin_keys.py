"""The admin API for keys: admin-only, create/list/get/update/revoke/rotate, allow-lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.accounting.platform.conftest import FAKE_MODEL, LOCAL_MODEL, Platform


def test_admin_endpoints_refuse_other_keys(platform: Platform) -> None:
    user = platform.new_key()
    for method, path in [
        ("GET", "/admin/keys"),
        ("POST", "/admin/keys"),
        ("GET", "/admin/usage"),
        ("POST", f"/admin/keys/{user['id']}/rotate"),
        ("GET", "/admin/redemption-codes"),
    ]:
        response = platform.as_key(user["key"], method, path, json={})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["type"] == "permission_error"
    assert platform.http.get("/admin/keys").status_code == 401


def test_key_lifecycle(platform: Platform) -> None:
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    created = platform.new_key(
        name="svc",
        owner="team-a",
        expires_at=expires,
        quota_tokens=1000,
        quota=2.5,
        allowed_models=[FAKE_MODEL],
        allowed_kbs=["kb_1"],
        rpm=30,
        tpm=9000,
        group_multiplier=1.5,
    )
    raw, key_id = created["key"], created["id"]
    assert raw.startswith("sk-") and created["display"] != raw
    assert created["quota_micros"] == 2_500_000 and created["quota"] == 2.5
    assert (created["rpm"], created["tpm"], created["group_multiplier"]) == (30, 9000, 1.5)

    got = platform.admin("GET", f"/admin/keys/{key_id}").json()
    assert got["allowed_models"] == [FAKE_MODEL] and got["allowed_kbs"] == ["kb_1"]
    assert "key" not in got
    listed = platform.admin("GET", "/admin/keys", params={"owner": "team-a"}).json()["data"]
    assert key_id in [k["id"] for k in listed]
    assert raw not in str(listed)

    patched = platform.admin(
        "PATCH", f"/admin/keys/{key_id}", json={"rpm": None, "quota": None, "name": "svc2"}
    ).json()
    assert (patched["rpm"], patched["quota_micros"], patched["name"]) == (None, None, "svc2")
    assert patched["tpm"] == 9000  # untouched
    assert platform.as_key(raw, "GET", "/v1/key").json()["name"] == "svc2"

    rotated = platform.admin("POST", f"/admin/keys/{key_id}/rotate").json()
    assert rotated["id"] == key_id and rotated["key"] != raw
    assert platform.as_key(raw, "GET", "/v1/key").status_code == 401
    assert platform.as_key(rotated["key"], "GET", "/v1/key").status_code == 200

    revoked = platform.admin("POST", f"/admin/keys/{key_id}/revoke").json()
    assert revoked["status"] == "revoked"
    assert platform.as_key(rotated["key"], "GET", "/v1/key").status_code == 401
    assert platform.admin("POST", f"/admin/keys/{key_id}/rotate").status_code == 404
    assert platform.admin("GET", "/admin/keys/key_nope").status_code == 404


def test_invalid_fields_are_rejected(platform: Platform) -> None:
    bad = platform.admin("POST", "/admin/keys", json={"rpm": 0})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "rpm"
    typo = platform.admin("POST", "/admin/keys", json={"quota_token": 5})
    assert typo.status_code == 400 and typo.json()["error"]["param"] == "quota_token"
    key = platform.new_key()
    null_name = platform.admin("PATCH", f"/admin/keys/{key['id']}", json={"name": None})
    assert null_name.status_code == 400


def test_expired_key_is_refused(platform: Platform) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    key = platform.new_key(expires_at=past)
    assert key["status"] == "expired"
    assert platform.chat(key["key"], max_tokens=1).status_code == 401


def test_model_allow_list(platform: Platform, upstream_app: object) -> None:
    key = platform.new_key(allowed_models=[LOCAL_MODEL])
    calls = len(upstream_app.state.requests)  # type: ignore[attr-defined]
    refused = platform.chat(key["key"], max_tokens=1)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "model_not_allowed"
    assert len(upstream_app.state.requests) == calls  # type: ignore[attr-defined]


def test_knowledge_base_allow_list(platform: Platform) -> None:
    key = platform.new_key(allowed_kbs=["kb_allowed"])
    refused = platform.chat(key["key"], max_tokens=1, knowledge_base={"ids": ["kb_other"]})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "knowledge_base_not_allowed"
