"""Sign-in through OpenID Connect against a fake provider (tests/fakes/oidc.py), on a real
server on SQLite and PostgreSQL: the happy path makes (then finds) the account and opens a
session; a tampered state, id_token signature, nonce, audience, issuer or an expired token
opens none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.accounting.auth.helpers import auth_config
from tests.fakes.oidc import FakeOidc
from tests.fakes.server import free_port, serve_asgi
from tests.support.server import RunningServer
from tests.support.stores import STORES, run_on_store


@pytest.fixture
def provider() -> Iterator[FakeOidc]:
    port = free_port()
    fake = FakeOidc(f"http://127.0.0.1:{port}")
    with serve_asgi(fake.app(), port):
        yield fake


def _config(provider: FakeOidc, **accounts: Any) -> dict[str, Any]:
    oidc = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "button_label": "Sign in with Fake",
    }
    return auth_config(oidc=oidc, **accounts)


def _login(server: RunningServer, *, state: str | None = None) -> httpx.Response:
    """The browser's round trip: our login, the provider's authorize, our callback."""
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        started = browser.get("/auth/oidc/login")
        assert started.status_code == 302, started.text
        flow = started.cookies["modelport_oidc"]
        authorize = started.headers["location"]
        sent = parse_qs(urlsplit(authorize).query)
        assert sent["code_challenge_method"] == ["S256"] and sent["nonce"][0]
        back = httpx.get(authorize, timeout=30)
        assert back.status_code == 302, back.text
        callback = back.headers["location"]
        if state is not None:
            callback = callback.replace(sent["state"][0], state)
        return httpx.get(callback, cookies={"modelport_oidc": flow}, timeout=30)


def _session(reply: httpx.Response) -> str | None:
    return reply.cookies.get("modelport_session")


@pytest.mark.parametrize("store", STORES)
def test_oidc_sign_in_makes_then_finds_the_account(
    store: str, tmp_path: Path, provider: FakeOidc
) -> None:
    with run_on_store(store, tmp_path / "data", _config(provider)) as server:
        options = httpx.get(server.base_url + "/auth/options").json()
        expected = {"signup": True, "oidc": True, "oidc_label": "Sign in with Fake"}
        assert options == {**expected, "signed_in": False}
        done = _login(server)
        assert (done.status_code, done.headers["location"]) == (302, "/console/"), done.text
        cookie = _session(done)
        assert cookie
        me = httpx.get(server.base_url + "/auth/me", cookies={"modelport_session": cookie})
        user = me.json()["user"]
        assert (user["username"], user["email"], user["role"]) == (
            "jane",
            "jane@example.com",
            "root",
        )
        # The provider got the PKCE verifier and the client's secret (checked there).
        assert provider.token_requests[-1]["code_verifier"]
        again = _session(_login(server)) or ""
        me2 = httpx.get(server.base_url + "/auth/me", cookies={"modelport_session": again})
        assert me2.json()["user"]["id"] == user["id"]  # found by (issuer, subject)


@pytest.mark.parametrize("store", STORES)
def test_tampered_answers_open_no_session(store: str, tmp_path: Path, provider: FakeOidc) -> None:
    with run_on_store(store, tmp_path / "data", _config(provider)) as server:
        forged_state = _login(server, state="forged-state")
        assert forged_state.status_code == 400 and _session(forged_state) is None
        assert forged_state.json()["error"]["code"] == "oidc_failed"
        for tamper in ("signature", "nonce", "audience", "issuer", "expired"):
            provider.tamper = tamper
            refused = _login(server)
            assert refused.status_code == 400, (tamper, refused.text)
            assert refused.json()["error"]["code"] == "oidc_failed"
            assert _session(refused) is None, tamper
            assert provider.client_secret not in refused.text
        provider.tamper = None
        assert _session(_login(server))  # and the provider still works
        no_flow = httpx.get(server.base_url + "/auth/oidc/callback?code=x&state=y")
        assert no_flow.status_code == 400


def test_oidc_respects_closed_signup(tmp_path: Path, provider: FakeOidc) -> None:
    with run_on_store("sqlite", tmp_path / "data", _config(provider, signup=False)) as server:
        refused = _login(server)
        assert refused.status_code == 400 and _session(refused) is None
        assert "sign-up is closed" in refused.json()["error"]["message"]
