"""1,000 mixed requests across two replicas (one PostgreSQL, one Redis): the ledger's totals
must equal the sum of the `usage` the clients were given, to the token.

The mix: sync and streamed completions of random lengths, spread over both replicas by 8
client threads, plus a rate-limited key whose refused requests (429) must leave no row.
Run: `.venv/bin/python bench/ledger_two_replicas.py [--requests 1000]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.accounting.platform.conftest import (
    REDIS_URL,
    Platform,
    platform_config,
    settled_usage,
)
from tests.accounting.platform.test_replicas import FIELDS, mixed_request
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.postgres import create_database, drop_database
from tests.support.server import run_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    name, url = create_database("modelport_bench_ledger")
    env = {"MODELPORT_DATABASE_URL": url, "MODELPORT_REDIS_URL": REDIS_URL}
    try:
        with (
            serve_asgi(create_app()) as upstream,
            tempfile.TemporaryDirectory() as tmp,
        ):
            config = platform_config(upstream + "/v1", local=False)
            with (
                run_server(Path(tmp) / "a", config=config, env=env) as a,
                run_server(Path(tmp) / "b", config=config, env=env) as b,
            ):
                b.admin_key = a.admin_key
                report(Platform(a), Platform(b), args.requests)
    finally:
        drop_database(name)


def report(a: Platform, b: Platform, n: int) -> None:
    key = a.new_key(quota_tokens=10**12)
    limited = b.new_key(rpm=20)
    replicas = [a, b]

    def limited_request(i: int) -> int:
        return replicas[i % 2].chat(limited["key"], max_tokens=2).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        refusals = pool.map(limited_request, range(50))
        usages = list(pool.map(lambda i: mixed_request(replicas[i % 2], key["key"], i), range(n)))
        statuses = list(refusals)
    elapsed = time.perf_counter() - started
    told = {f: sum(u[f] for u in usages) for f in FIELDS}
    ledger = settled_usage(a, key["id"], n)
    limited_rows = settled_usage(b, limited["id"], statuses.count(200))["requests"]
    streamed = n // 2
    print(
        f"{n} requests ({streamed} streamed, {n - streamed} sync) over 2 replicas in "
        f"{elapsed:.1f}s; rate-limited key: {statuses.count(200)} passed, "
        f"{statuses.count(429)} refused (20 RPM), {limited_rows} ledger rows"
    )
    for field in FIELDS:
        print(f"  {field:>17}: responses {told[field]:>8}  ledger {ledger[field]:>8}")
    print(f"  {'requests':>17}: responses {n:>8}  ledger {ledger['requests']:>8}")
    exact = all(told[f] == ledger[f] for f in FIELDS) and ledger["requests"] == n
    exact = exact and limited_rows == statuses.count(200) == 20
    print("ledger == responses, to the token" if exact else "MISMATCH")
    if not exact:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
