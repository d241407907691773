"""Accounting's share of the gateway's CPU per request, on the same proxy path.

Two `modelport serve` processes behind the same fake OpenAI-compatible upstream (served from
this process, so its CPU is not counted): one with accounting (gate: allow-list, quota hold,
RPM/TPM limiter; cost; the hold settled; ledger row, counters and the hold's release in one
transaction), one with `MODELPORT_ACCOUNTING=false` (no gate, no ledger). The gateway's CPU
time (user + system, from /proc) is divided by the number of requests. With
`--store postgresql` each gets a fresh database on the local PostgreSQL server.

On a machine shared with other work the difference of two such figures is noisy, so the bench
also measures the accounting steps alone, in this process, exactly as the chat service runs
them per request (gate, cost, ledger record, settle; a ledger flush per 250 rows, as at
~500 requests/s with the 0.5 s flush interval; the database thread's CPU included), and states
that against the gateway's per-request CPU without accounting.
Run: `.venv/bin/python bench/accounting_overhead.py [--store postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.accounting.platform.conftest import FAKE_MODEL, PRICE, Platform, platform_config
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.postgres import create_database, drop_database
from tests.support.server import run_server

from modelport.accounting.gate import Gate
from modelport.accounting.keys import KeyStore
from modelport.accounting.ledger_buffer import BufferedLedger
from modelport.accounting.ratelimit import LocalRateLimiter
from modelport.accounting.reservations import Reservations
from modelport.accounting.usage import UsageEntry
from modelport.settings import ChannelConfig, ModelConfig, Price
from modelport.storage.db import Database

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def send(p: Platform, key: str, n: int, pool: ThreadPoolExecutor) -> None:
    body = {"model": FAKE_MODEL, "messages": [{"role": "user", "content": "hello"}]}
    headers = {"Authorization": f"Bearer {key}"}

    def one(_: int) -> None:
        r = p.http.post("/v1/chat/completions", json={**body, "max_tokens": 4}, headers=headers)
        assert r.status_code == 200, r.text

    list(pool.map(one, range(n)))


@contextmanager
def gateway(upstream: str, accounting: bool, env: dict[str, str]) -> Iterator[tuple[Platform, str]]:
    env = {**env, "MODELPORT_ACCOUNTING": "true" if accounting else "false"}
    env["MODELPORT_LOG_LEVEL"] = "warning"
    config = platform_config(upstream, local=False)
    with tempfile.TemporaryDirectory() as tmp, run_server(Path(tmp), config=config, env=env) as s:
        p = Platform(s)
        # Every check on: a quota, a model allow-list, RPM and TPM.
        key = p.new_key(quota_tokens=10**12, allowed_models=[FAKE_MODEL], rpm=10**6, tpm=10**9)
        yield p, key["key"]


def measure(upstream: str, envs: list[dict[str, str]], n: int, rounds: int, c: int) -> list[float]:
    """Both gateways run side by side and take turns, so that whatever else the machine is
    doing weighs on both alike; returns [off, on] CPU seconds per request."""
    with (
        gateway(upstream, False, envs[0]) as off,
        gateway(upstream, True, envs[1]) as on,
        ThreadPoolExecutor(c) as pool,
    ):
        pairs = [off, on]
        for p, key in pairs:
            send(p, key, 100, pool)  # warm-up
        spent = [0.0, 0.0]
        chunk = 100
        for _ in range(rounds * n // chunk):
            for i, (p, key) in enumerate(pairs):
                start = cpu_seconds(p.server.process.pid)
                send(p, key, chunk, pool)
                spent[i] += cpu_seconds(p.server.process.pid) - start
        return [x / (rounds * n) for x in spent]


async def accounting_alone(db_url: str, n: int) -> float:
    """CPU seconds of the accounting steps per request, with no HTTP around them."""
    db = Database(db_url)
    await db.migrate()
    keys = KeyStore(db)
    raw, _ = await keys.create(
        "bench", "o", quota_tokens=10**12, allowed_models=[FAKE_MODEL], rpm=10**6, tpm=10**9
    )
    key = await keys.authenticate(raw)
    assert key is not None
    key_id = key.id
    ledger = BufferedLedger(db, interval=3600)  # flushed below, every 250 rows
    gate = Gate(Reservations(db), LocalRateLimiter())
    model = ModelConfig(name=FAKE_MODEL, price=Price(**PRICE), channels=[ChannelConfig()])
    started = time.process_time()
    for i in range(n):
        hold = await gate.admit(key, FAKE_MODEL, [], gate.hold(key, model, 2, 4))
        cost = gate.cost(key, model, 2, 4)
        entry = UsageEntry(
            f"req_{i}", key_id, "o", model.name, "x", 2, 4, cost_micros=cost, reservation=hold
        )
        await ledger.record(entry)
        await gate.settle(key, entry.total, cost, hold)
        if i % 250 == 249:
            await ledger.flush()
    await ledger.aclose()
    await gate.aclose()
    spent = time.process_time() - started
    await db.dispose()
    return spent / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    names: list[str] = []
    envs: list[dict[str, str]] = [{}, {}]
    try:
        if args.store == "postgresql":
            for env in envs:  # one database per gateway, on the same server
                name, db_url = create_database("modelport_bench")
                names.append(name)
                env["MODELPORT_DATABASE_URL"] = db_url
        with serve_asgi(create_app()) as url:
            base, full = measure(url + "/v1", envs, args.requests, args.rounds, args.concurrency)
        if args.store == "postgresql":
            name, alone_url = create_database("modelport_bench")
            names.append(name)
        else:
            tmp = tempfile.mkdtemp()
            alone_url = f"sqlite+aiosqlite:///{tmp}/alone.db"
        alone = asyncio.run(accounting_alone(alone_url, 20_000))
    finally:
        for name in names:
            drop_database(name)
    print(
        f"store: {args.store}; {args.rounds} x {args.requests} requests per gateway, "
        f"concurrency {args.concurrency}, the two gateways taking turns every 100 requests"
    )
    print(f"gateway CPU per request, accounting off: {base * 1000:.3f} ms")
    print(f"gateway CPU per request, accounting on:  {full * 1000:.3f} ms")
    print(
        f"  side by side: accounting adds {(full / base - 1) * 100:+.1f}% of per-request CPU "
        "(noisy: the difference of two busy processes)"
    )
    print(f"accounting steps alone: {alone * 1000:.3f} ms CPU per request (20,000 requests)")
    print(
        f"  = {alone / base * 100:.1f}% of the gateway's per-request CPU without accounting "
        "(target <= 10%)"
    )


if __name__ == "__main__":
    main()
