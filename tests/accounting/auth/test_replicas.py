"""Two replicas on one PostgreSQL database and one Redis: a session opened on one works on the
other and, signed out there, ends on both; sign-in attempts are counted across them."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.accounting.auth.helpers import Browser, auth_config
from tests.accounting.platform.conftest import REDIS_URL
from tests.support.postgres import create_database, drop_database
from tests.support.server import run_server

PASSWORD = "correct horse battery"


def test_sessions_and_throttle_span_replicas(tmp_path: Path) -> None:
    name, url = create_database("modelport_auth_replicas")
    env = {"MODELPORT_DATABASE_URL": url, "MODELPORT_REDIS_URL": REDIS_URL}
    config = auth_config(signin_per_minute_user=4)
    try:
        with (
            run_server(tmp_path / "a", config=config, env=env) as one,
            run_server(tmp_path / "b", config=config, env=env) as two,
        ):
            user = "rep" + secrets.token_hex(4)  # Redis outlives the test: a fresh bucket
            browser = Browser(one)
            assert browser.signin(user, PASSWORD, "/auth/signup").status_code == 201
            cookie = {"cookie": f"modelport_session={browser.cookie}"}
            other = httpx.Client(base_url=two.base_url, timeout=30)
            assert other.get("/auth/me", headers=cookie).status_code == 200
            refused = other.post("/auth/signout", headers=cookie)  # no CSRF token
            assert refused.json()["error"]["code"] == "csrf_failed"
            out = other.post("/auth/signout", headers={**cookie, "x-csrf-token": browser.csrf})
            assert out.status_code == 200
            ended = browser.request("GET", "/auth/me")
            assert ended.json()["error"]["code"] == "session_expired"

            codes = [
                Browser(server).signin(user, "wrong password!").status_code
                for server in (one, two, one, two, one)
            ]
            assert codes == [401, 401, 401, 401, 429]  # four a minute, whichever replica
    finally:
        drop_database(name)
