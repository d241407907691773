"""Console sign-in through a real server on SQLite and PostgreSQL: sign-up (the first account
is root), the cookie's flags as sent, the session standing in for a key on /v1 and /admin
routes, CSRF refused, roles, a disabled account's sessions ended, sign-out, sign-up closed,
and sign-in attempts throttled."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.accounting.auth.helpers import Browser, auth_server
from tests.support.stores import STORES

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("store", STORES)
def test_session_acts_as_the_accounts_key(store: str, tmp_path: Path) -> None:
    with auth_server(store, tmp_path / "data") as server:
        root = Browser(server)
        made = root.signin("Root", PASSWORD, "/auth/signup")
        assert made.status_code == 201, made.text
        assert made.json()["user"]["role"] == "root"
        flags = [part.strip().lower() for part in root.set_cookie.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # plain HTTP here
        assert len(root.cookie or "") >= 43  # 32 random bytes

        me = root.request("GET", "/auth/me").json()
        assert (me["user"]["username"], me["csrf_token"]) == ("root", root.csrf)
        assert root.request("GET", "/v1/models").status_code == 200
        assert root.request("GET", "/admin/users").status_code == 200  # root: an admin key

        refused = root.request("POST", "/v1/user/keys", json={"name": "k"}, csrf=False)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        wrong = root.request(
            "POST", "/v1/user/keys", json={"name": "k"}, csrf=False, headers={"x-csrf-token": "x"}
        )
        assert wrong.status_code == 403
        made_key = root.request("POST", "/v1/user/keys", json={"name": "k"})
        assert made_key.status_code == 201, made_key.text
        # A Bearer key needs no CSRF token, and a cookie beside it is not looked at.
        raw = made_key.json()["key"]
        plain = httpx.post(
            server.base_url + "/v1/user/keys",
            json={"name": "k2"},
            headers={"authorization": f"Bearer {raw}", "cookie": "modelport_session=bogus"},
        )
        assert plain.status_code == 201, plain.text

        names = [k["name"] for k in root.request("GET", "/v1/user/keys").json()["data"]]
        assert sorted(names) == ["console", "k", "k2"]


@pytest.mark.parametrize("store", STORES)
def test_roles_disable_and_signout(store: str, tmp_path: Path) -> None:
    with auth_server(store, tmp_path / "data") as server:
        root, bob = Browser(server), Browser(server)
        root.signin("root", PASSWORD, "/auth/signup")
        made = bob.signin("bob", PASSWORD, "/auth/signup")
        bob_id = made.json()["user"]["id"]
        assert made.json()["user"]["role"] == "user"
        assert bob.request("GET", "/admin/users").status_code == 403

        promoted = root.request("PATCH", f"/admin/users/{bob_id}/role", json={"role": "admin"})
        assert promoted.status_code == 200, promoted.text
        assert bob.request("GET", "/admin/users").status_code == 200  # its console key too
        # An admin is not root: it makes no admins, and the last root stays root.
        root_id = root.request("GET", "/auth/me").json()["user"]["id"]
        by_admin = bob.request("PATCH", f"/admin/users/{bob_id}/role", json={"role": "root"})
        assert by_admin.json()["error"]["code"] == "root_required"
        last = root.request("PATCH", f"/admin/users/{root_id}/role", json={"role": "user"})
        assert (last.status_code, last.json()["error"]["code"]) == (409, "last_root")
        root.request("PATCH", f"/admin/users/{bob_id}/role", json={"role": "user"})
        assert bob.request("GET", "/admin/users").status_code == 403

        off = root.request("PATCH", f"/admin/users/{bob_id}", json={"status": "disabled"})
        assert off.status_code == 200, off.text
        gone = bob.request("GET", "/v1/models")
        assert (gone.status_code, gone.json()["error"]["code"]) == (401, "user_disabled")
        again = bob.signin("bob", PASSWORD)
        assert (again.status_code, again.json()["error"]["code"]) == (401, "user_disabled")
        root.request("PATCH", f"/admin/users/{bob_id}", json={"status": "active"})
        # Disabling ended the session everywhere: enabling does not bring it back.
        ended = bob.request("GET", "/v1/models")
        assert (ended.status_code, ended.json()["error"]["code"]) == (401, "session_expired")

        out = root.request("POST", "/auth/signout")
        assert out.status_code == 200 and "max-age=0" in out.headers["set-cookie"].lower()
        after = root.request("GET", "/auth/me")
        assert after.json()["error"]["code"] == "session_expired"


@pytest.mark.parametrize("store", STORES)
def test_passwords_and_throttling(store: str, tmp_path: Path) -> None:
    with auth_server(store, tmp_path / "data", signin_per_minute_user=3) as server:
        alice = Browser(server)
        assert alice.signin("alice", "short", "/auth/signup").json()["error"]["code"] == (
            "weak_password"
        )
        alice.signin("alice", PASSWORD, "/auth/signup")
        taken = Browser(server).signin("ALICE", PASSWORD, "/auth/signup")
        assert (taken.status_code, taken.json()["error"]["code"]) == (409, "username_taken")
        other = Browser(server)
        assert other.signin("ALICE", PASSWORD).status_code == 200  # any case
        bad = alice.request(
            "POST", "/auth/password", json={"current_password": "nope", "new_password": "x" * 9}
        )
        assert bad.json()["error"]["code"] == "wrong_password"
        changed = alice.request(
            "POST",
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": "new password 1"},
        )
        assert changed.status_code == 200, changed.text
        assert alice.request("GET", "/auth/me").status_code == 200  # this browser stays in
        assert other.request("GET", "/auth/me").json()["error"]["code"] == "session_expired"

        wrong = Browser(server).signin("alice", PASSWORD)
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "signin_failed")
        unknown = Browser(server).signin("nobody", PASSWORD)
        assert unknown.json()["error"] == wrong.json()["error"]  # no hint that alice exists
        assert Browser(server).signin("alice", "new password 1").status_code == 200  # 3rd
        throttled = Browser(server).signin("alice", "new password 1")  # 4th in a minute
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1


def test_signup_closed(tmp_path: Path) -> None:
    with auth_server("sqlite", tmp_path / "data", signup=False) as server:
        refused = Browser(server).signin("root", PASSWORD, "/auth/signup")
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "signup_closed")
        assert httpx.get(server.base_url + "/auth/options").json()["signup"] is False


def test_secure_cookie_when_configured(tmp_path: Path) -> None:
    # Behind a TLS-terminating proxy the server sees plain HTTP: `cookie_secure: true`.
    with auth_server("sqlite", tmp_path / "data", cookie_secure=True) as server:
        browser = Browser(server)
        browser.signin("root", PASSWORD, "/auth/signup")
        flags = [part.strip().lower() for part in browser.set_cookie.split(";")]
        assert "secure" in flags and "httponly" in flags
