"""Quota overdraft over two replicas (one PostgreSQL, one Redis): what a key spends past its
quota when many requests arrive at once, against the bound of one request's hold.

Three rounds, each on a fresh key:
- 20 concurrent streams (200 prompt tokens, `max_tokens` 200) on a 50-token quota;
- 100 concurrent streams on a 20,000-token quota (each spends 400: 50 fit);
- sequential requests alternating between the replicas on a 50-token quota.
Run: `.venv/bin/python bench/quota_overdraft.py`. Exits 1 when a round passes the bound.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.accounting.platform.conftest import REDIS_URL, Platform, platform_config
from tests.accounting.platform.test_quota_overdraft import (
    FAKE_MODEL,
    WORDS,
    _body,
    _burst,
    _hold,
    _spent,
)
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.postgres import create_database, drop_database
from tests.support.server import run_server


def burst(a: Platform, b: Platform, quota: int, n: int) -> bool:
    body = _body(FAKE_MODEL, WORDS, 200)
    key = a.new_key(quota_tokens=quota)
    started = time.perf_counter()
    statuses = _burst([a, b], key["key"], body, n)
    elapsed = time.perf_counter() - started
    admitted = statuses.count(200)
    spent = _spent(b, key["id"], admitted)
    bound = quota + _hold(body)
    print(
        f"{n:>4} concurrent streams, quota {quota:>6}: {admitted:>3} admitted, "
        f"{statuses.count(429):>3} refused, spent {spent:>6} tokens "
        f"({spent / quota:.2f}x quota; bound quota + one hold = {bound}) in {elapsed:.1f}s"
    )
    return spent <= bound


def alternating(a: Platform, b: Platform, quota: int) -> bool:
    key = a.new_key(quota_tokens=quota)
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "one two three"}]}
    admitted = 0
    for i in range(10 * quota):
        if (a, b)[i % 2].chat(key["key"], max_tokens=3, **body).status_code != 200:
            break
        admitted += 1
    spent = _spent(a, key["id"], admitted)
    print(
        f"alternating replicas, quota {quota}: {admitted} admitted, spent {spent} tokens "
        f"({spent / quota:.2f}x quota; one request is 6)"
    )
    return spent <= quota + 6


def main() -> None:
    name, url = create_database("modelport_bench_quota")
    env = {"MODELPORT_DATABASE_URL": url, "MODELPORT_REDIS_URL": REDIS_URL}
    try:
        with serve_asgi(create_app()) as upstream, tempfile.TemporaryDirectory() as tmp:
            config = platform_config(upstream + "/v1", local=False)
            with (
                run_server(Path(tmp) / "a", config=config, env=env) as ra,
                run_server(Path(tmp) / "b", config=config, env=env) as rb,
            ):
                rb.admin_key = ra.admin_key
                a, b = Platform(ra), Platform(rb)
                held = [burst(a, b, 50, 20), burst(a, b, 20_000, 100), alternating(a, b, 50)]
    finally:
        drop_database(name)
    print("every round within quota + one hold" if all(held) else "OVERDRAFT past the bound")
    if not all(held):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
