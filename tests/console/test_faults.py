"""The faults issue 18 lists, each shown in Chromium (and the API where the server changed):
revoked keys, a key revoked mid-session, a code redeemed onto an unlimited key, stale
success lines, knowledge bases of one name, tables on a phone, money without a currency,
the viewer's days, and a server out of reach."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import Request, Route, expect

from tests.console.conftest import Console


def admin(console: Console, method: str, path: str, **body: Any) -> Any:
    response = httpx.request(
        method,
        console.server.base_url + path,
        json=body or None,
        headers={"Authorization": f"Bearer {console.server.admin_key}"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    return response.json()


def new_key(console: Console, **limits: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    created: dict[str, Any] = admin(
        console, "POST", "/admin/keys", name=f"fault-{tag}", owner=f"o-{tag}", **limits
    )
    return created


def revoke(console: Console, key: dict[str, Any]) -> None:
    admin(console, "POST", f"/admin/keys/{key['id']}/revoke")


def test_the_api_tells_a_revoked_key_from_an_unknown_one(console: Console) -> None:
    key = new_key(console)
    revoke(console, key)
    url = console.server.base_url + "/v1/key"
    revoked = httpx.get(url, headers={"Authorization": f"Bearer {key['key']}"}, timeout=30)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "key_revoked"
    unknown = httpx.get(
        url, headers={"Authorization": "Bearer sk-nosuchkey000000000000"}, timeout=30
    )
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_api_key"


def test_the_api_tells_an_expired_key(console: Console) -> None:
    key = new_key(console, expires_at="2020-01-01T00:00:00Z")
    answer = httpx.get(
        console.server.base_url + "/v1/key",
        headers={"Authorization": f"Bearer {key['key']}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "key_expired"


def test_a_revoked_key_signing_in_is_told_so(console: Console) -> None:
    key = new_key(console)
    revoke(console, key)
    console.expected.append("401")
    page = console.page
    page.goto(console.url)
    page.get_by_test_id("signin-key").fill(key["key"])
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_role("alert")).to_contain_text("revoked")


def test_a_key_revoked_mid_session_goes_back_to_sign_in(console: Console) -> None:
    key = new_key(console)
    console.expected.append("401")
    console.sign_in(key["key"])
    revoke(console, key)
    console.open("usage")
    page = console.page
    expect(page.get_by_test_id("signin-submit")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("revoked")
    expect(page.locator("#nav")).to_be_hidden()


def mint_code(console: Console, tokens: int) -> str:
    minted = admin(
        console, "POST", "/admin/redemption-codes", batch="faults", count=1, tokens=tokens, amount=0
    )
    code: str = minted["data"][0]["code"]
    return code


def test_redeeming_onto_an_unlimited_key_says_it_stays_unlimited(console: Console) -> None:
    key = new_key(console)  # no quota: unlimited
    console.sign_in(key["key"])
    console.open("usage")
    page = console.page
    page.get_by_test_id("redeem-code").fill(mint_code(console, 500))
    page.get_by_test_id("redeem-submit").click()
    expect(page.get_by_test_id("redeem-result")).to_contain_text("stays unlimited")
    info = httpx.get(
        console.server.base_url + "/v1/key",
        headers={"Authorization": f"Bearer {key['key']}"},
        timeout=30,
    ).json()
    assert info["quota_tokens"] is None


def test_a_new_attempt_clears_the_last_success(console: Console) -> None:
    key = new_key(console, quota_tokens=100)
    console.expected.append("404")
    console.expected.append("400")
    console.sign_in(key["key"])
    console.open("usage")
    page = console.page
    page.get_by_test_id("redeem-code").fill(mint_code(console, 50))
    page.get_by_test_id("redeem-submit").click()
    result = page.get_by_test_id("redeem-result")
    expect(result).to_contain_text("150")
    page.get_by_test_id("redeem-code").fill("rc-no-such-code")
    page.get_by_test_id("redeem-submit").click()
    expect(page.get_by_role("alert").last).to_be_visible()
    expect(result).to_have_text("")


def test_knowledge_bases_of_one_name_are_told_apart(console: Console) -> None:
    name = f"dup-{uuid.uuid4().hex[:6]}"
    first = admin(console, "POST", "/v1/kbs", name=name)
    second = admin(console, "POST", "/v1/kbs", name=name)
    console.sign_in()
    page = console.page
    choices = page.get_by_test_id(f"kb-choice-{name}")
    expect(choices).to_have_count(2)
    ids = page.locator("label.check", has=choices).get_by_test_id("kb-choice-id")
    shown = ids.all_inner_texts()
    assert len(set(shown)) == 2, shown
    assert first["id"] != second["id"]
    console.open("kbs")
    page.get_by_test_id("kb-name").fill(name)
    expect(page.get_by_test_id("kb-notice")).to_contain_text("already exists")
    page.get_by_test_id("kb-name").fill(name + "-other")
    expect(page.get_by_test_id("kb-notice")).to_be_hidden()


def test_tables_on_a_phone_scroll_with_a_hint(phone: Console) -> None:
    page = phone.page
    rows = [
        {
            "request_id": f"req-{i}",
            "key_id": "k",
            "model": "a-rather-long-model-name-for-a-phone",
            "provider": "local",
            "status": 200,
            "error_code": None,
            "stream": True,
            "latency_ms": 1234,
            "prompt_tokens": 123456,
            "completion_tokens": 654321,
            "total_tokens": 777777,
            "cost_micros": 1234567,
            "cost": 1.234567,
            "currency": "USD",
            "created_at": "2026-01-02T03:04:05Z",
        }
        for i in range(3)
    ]

    def answer(route: Route) -> None:
        route.fulfill(json={"object": "list", "data": rows})

    page.route("**/admin/usage/requests*", answer)
    phone.sign_in()
    phone.open("usage")
    expect(page.get_by_test_id("request-row")).to_have_count(3)
    box = page.locator(".table-box", has=page.get_by_test_id("recent-requests"))
    wrap = box.get_by_test_id("table-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    hint = box.get_by_test_id("scroll-hint")
    expect(hint).to_be_visible()
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    expect(hint).to_be_hidden()  # at the right edge: nothing more to see
    phone.screenshot("phone-usage-scroll-hint")


def test_money_shows_its_currency(console: Console) -> None:
    console.sign_in()
    console.open("usage")
    page = console.page
    expect(page.get_by_test_id("usage-totals")).to_contain_text("USD")


def test_usage_is_asked_for_in_the_viewers_zone(console: Console) -> None:
    # A browser in Shanghai (closed with the package's browser; the fixture screenshots it)
    browser = console.page.context.browser
    assert browser is not None
    console.page = browser.new_context(timezone_id="Asia/Shanghai").new_page()
    seen: list[str] = []
    console.page.on("request", lambda request: seen.append(request.url))
    console.sign_in()
    console.open("usage")
    expect(console.page.get_by_test_id("usage-totals")).not_to_have_text("")
    usage = [u for u in seen if "/admin/usage?" in u and "group_by=day" in u]
    assert usage and all("tz=Asia%2FShanghai" in u for u in usage), usage
    expect(console.page.locator("main")).to_contain_text("Asia/Shanghai")


def test_a_server_out_of_reach_says_so_and_retries(console: Console) -> None:
    page = console.page
    console.expected.append("net::ERR_FAILED")
    console.sign_in()
    requests: list[Request] = []

    def down(route: Route) -> None:
        requests.append(route.request)
        route.abort()

    page.route("**/v1/models*", down)
    page.reload()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Cannot reach the server")
    expect(alert).not_to_contain_text("Failed to fetch")
    page.unroute("**/v1/models*")
    alert.get_by_test_id("retry").click()
    expect(page.get_by_test_id("send")).to_be_enabled()
    assert requests
