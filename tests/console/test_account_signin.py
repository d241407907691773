"""Signing in with an account in Chromium: sign up from the sign-in page, the console works
through the session cookie (a reload keeps it), an unsafe call without the CSRF token is
refused, and signing out ends the session on the server."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.console.conftest import Console

PASSWORD = "correct horse battery"
# fetch() as a page script would make it, with the cookie but without the CSRF token.
NO_CSRF = """async () => (await fetch('/v1/user/keys', {
  method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json'}, body: JSON.stringify({name: 'x'}),
})).status"""


def test_sign_up_use_reload_and_sign_out(console: Console) -> None:
    page = console.page
    name = f"ann{uuid.uuid4().hex[:6]}"
    page.goto(console.url)
    page.get_by_test_id("signup-toggle").click()
    page.get_by_test_id("signin-username").fill(name)
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-account-submit").click()
    page.locator("#nav").wait_for(state="visible")
    expect(page.locator("#whoami")).to_contain_text(name)
    cookie = next(c for c in page.context.cookies() if c["name"] == "modelport_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("() => document.cookie") == ""  # out of scripts' reach

    page.reload()  # the cookie, not the tab's storage, keeps the session
    page.locator("#nav").wait_for(state="visible")
    expect(page.locator("#whoami")).to_contain_text(name)
    console.expected.append("403")
    assert page.evaluate(NO_CSRF) == 403
    made = page.evaluate(
        """async () => (await import('/console/js/api.js')).api('/v1/user/keys',
        {method: 'POST', body: {name: 'from-console'}})"""
    )
    assert made["name"] == "from-console" and made["key"].startswith("sk-")

    page.locator("#signout").click()
    page.get_by_test_id("signin-username").wait_for(state="visible")
    page.reload()  # the server ended it: no way back without signing in
    page.get_by_test_id("signin-username").wait_for(state="visible")
    expect(page.locator("#nav")).to_be_hidden()


def test_wrong_password_is_shown(console: Console) -> None:
    page = console.page
    console.expected.append("401")
    page.goto(console.url)
    page.get_by_test_id("signin-username").fill("nobody-here")
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-account-submit").click()
    expect(page.get_by_test_id("signin-account").get_by_role("alert")).to_contain_text(
        "Incorrect username or password"
    )
