"""Redemption codes: batches minted by the admin, each redeemed once, also under contention."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from modelport.accounting.keys import KeyStore
from modelport.accounting.redeem import RedemptionCodes
from modelport.storage.db import Database
from modelport.storage.tables import utcnow
from tests.accounting.platform.conftest import Platform


async def test_concurrent_redemptions_credit_once(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    codes = RedemptionCodes(db)
    _, first = await keys.create("a", "alice", quota_tokens=0)
    _, second = await keys.create("b", "bob", quota_tokens=0)
    [(raw, _)] = await codes.create_batch("race", 1, tokens=1000)
    # Separate engines: each attempt has its own connection, as separate replicas would.
    others = [Database(db.url) for _ in range(3)]
    try:
        stores = [codes] + [RedemptionCodes(o) for o in others]
        attempts = [stores[i % 4].redeem(raw, (first if i % 2 else second).id) for i in range(24)]
        results = await asyncio.gather(*attempts)
    finally:
        for other in others:
            await other.dispose()
    credited = [r for r in results if r is not None]
    assert len(credited) == 1 and credited[0].tokens == 1000
    a, b = await keys.get(first.id), await keys.get(second.id)
    assert a is not None and b is not None
    assert sorted([a.quota_tokens or 0, b.quota_tokens or 0]) == [0, 1000]
    winner = a if a.quota_tokens == 1000 else b
    [listed] = await codes.list("race")
    assert listed.redeemed_by == winner.id  # the code names the key it credited
    assert listed.redeemed_at is not None and listed.redeemed_at <= utcnow()


async def test_unlimited_key_gets_a_quota_from_a_currency_code(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    codes = RedemptionCodes(db)
    _, key = await keys.create("a", "alice", quota_tokens=50)
    [(raw, _)] = await codes.create_batch("cash", 1, micros=2_000_000)
    credit = await codes.redeem(raw, key.id)
    assert credit is not None and credit.micros == 2_000_000
    after = await keys.get(key.id)
    assert after is not None
    assert (after.quota_tokens, after.quota_micros) == (50, 2_000_000)
    assert await codes.redeem("rc-unknown", key.id) is None
    assert await codes.redeem(raw, key.id) is None


def test_batch_export_and_redeem_over_http(platform: Platform) -> None:
    created = platform.admin(
        "POST", "/admin/redemption-codes", json={"batch": "promo", "count": 3, "tokens": 500}
    )
    assert created.status_code == 201
    codes = [c["code"] for c in created.json()["data"]]
    assert len(set(codes)) == 3
    csv = platform.admin(
        "POST",
        "/admin/redemption-codes",
        params={"format": "csv"},
        json={"batch": "promo-csv", "count": 2, "amount": 1.25},
    )
    assert csv.status_code == 201 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.strip().splitlines()
    assert rows[0] == "code,id,batch,tokens,micros" and len(rows) == 3
    assert rows[1].endswith(",promo-csv,0,1250000")

    key = platform.new_key(quota_tokens=0)
    assert platform.chat(key["key"], max_tokens=1).status_code == 429

    def redeem(code: str) -> int:
        response = platform.as_key(key["key"], "POST", "/v1/redeem", json={"code": code})
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(redeem, [codes[0]] * 6))
    assert sorted(statuses) == [200] + [400] * 5
    info = platform.as_key(key["key"], "GET", "/v1/key").json()
    assert info["quota_tokens"] == 500
    assert platform.chat(key["key"], max_tokens=1).status_code == 200
    listed = platform.admin("GET", "/admin/redemption-codes", params={"batch": "promo"}).json()
    redeemed = [c for c in listed["data"] if c["redeemed_by"] == key["id"]]
    assert len(redeemed) == 1 and "code" not in redeemed[0]
