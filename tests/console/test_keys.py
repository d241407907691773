"""Keys (admin): create with limits (the secret shown once, copy button), the key works,
limits can be changed, revoke makes it stop working; redemption codes; non-admins see no Keys."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import expect

from tests.console.conftest import Console


def own_key(console: Console, key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(console.server.api_url + "/key", headers=headers, timeout=30)


def create_key(console: Console, name: str, **limits: int) -> str:
    page = console.page
    page.get_by_test_id("key-name").fill(name)
    for field, value in limits.items():
        page.get_by_test_id(f"new-{field}").fill(str(value))
    page.get_by_test_id("key-create").click()
    expect(page.get_by_test_id("new-key")).to_contain_text(f"Key “{name}” created")
    return page.get_by_test_id("new-key-value").text_content() or ""


def test_create_copy_limit_and_revoke_a_key(console: Console) -> None:
    page = console.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    name = f"console-{uuid.uuid4().hex[:6]}"
    console.sign_in()
    console.open("keys")
    secret = create_key(console, name, quota_tokens=5000, rpm=30)
    assert secret.startswith("sk-")
    page.get_by_test_id("new-key-copy").click()
    expect(page.get_by_test_id("new-key-copy")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret

    info = own_key(console, secret)
    assert info.status_code == 200, info.text
    assert (info.json()["quota_tokens"], info.json()["rpm"]) == (5000, 30)
    row = page.get_by_test_id(f"key-row-{name}")
    expect(row.get_by_test_id("key-status")).to_have_text("active")
    expect(row).to_contain_text("0 / 5000 tokens")
    expect(row).not_to_contain_text(secret)  # the list shows only the display hint

    page.reload()  # shown once: gone after a reload
    # The keys page is back (still signed in, same route) and has listed the keys again...
    expect(page.locator("#nav")).to_be_visible()
    expect(page.get_by_role("heading", name="Keys", exact=True)).to_be_visible()
    row = page.get_by_test_id(f"key-row-{name}")
    expect(row.get_by_test_id("key-status")).to_have_text("active")
    expect(row).to_contain_text("0 / 5000 tokens")
    expect(row).to_contain_text("rpm 30")
    # ...with its create form and an empty, hidden place for a new secret: not the old one.
    expect(page.get_by_test_id("key-create")).to_be_visible()
    expect(page.get_by_test_id("new-key")).to_have_count(1)
    expect(page.get_by_test_id("new-key")).to_be_hidden()
    expect(page.get_by_test_id("new-key-value")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(secret)

    row.get_by_role("button", name="Limits").click()
    editor = row.locator("xpath=following-sibling::tr[1]")
    editor.get_by_test_id(f"{info.json()['id']}-tpm").fill("900")
    editor.get_by_test_id(f"{info.json()['id']}-quota_tokens").fill("")
    editor.get_by_role("button", name="Save limits").click()
    expect(page.get_by_test_id(f"key-row-{name}")).to_contain_text("tpm 900")
    changed = own_key(console, secret).json()
    assert (changed["tpm"], changed["quota_tokens"], changed["rpm"]) == (900, None, 30)

    revoke = page.get_by_test_id(f"key-revoke-{name}")
    revoke.click()
    revoke.click()  # the second click confirms
    expect(page.get_by_test_id(f"key-row-{name}").get_by_test_id("key-status")).to_have_text(
        "revoked"
    )
    assert own_key(console, secret).status_code == 401


def test_redemption_codes_are_shown_once_and_listed(console: Console) -> None:
    page = console.page
    batch = f"promo-{uuid.uuid4().hex[:6]}"
    console.sign_in()
    console.open("keys")
    page.get_by_test_id("code-batch").fill(batch)
    page.get_by_test_id("code-tokens").fill("1000")
    page.get_by_test_id("code-create").click()
    minted = page.get_by_test_id("new-codes")
    expect(minted).to_contain_text("1 code(s) minted")
    code = (minted.locator("pre").text_content() or "").strip()
    assert re.fullmatch(r"rc-[A-Za-z0-9_-]{24}", code), code  # one code, in its documented shape
    rows = page.get_by_test_id("code-rows")
    expect(rows).to_contain_text(batch)
    expect(rows).to_contain_text("1000 tokens")
    expect(rows).to_contain_text("unused")
    expect(rows).not_to_contain_text(code)


def test_a_key_that_is_not_admin_sees_no_keys_page(console: Console) -> None:
    page = console.page
    console.sign_in()
    console.open("keys")
    secret = create_key(console, f"user-{uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Sign out").click()
    console.sign_in(secret)
    expect(page.locator('#nav a[data-page="keys"]')).to_be_hidden()
    expect(page.locator('#nav a[data-page="usage"]')).to_be_visible()
    page.goto(console.url + "#/keys")  # typed by hand: falls back to the playground
    expect(page.get_by_test_id("prompt")).to_be_visible()
    expect(page.get_by_test_id("key-create")).to_have_count(0)
