"""Accounting's share of the gateway's CPU per request, on the same proxy path.

Two `modelport serve` processes behind the same fake OpenAI-compatible upstream (served from
this process, so its CPU is not counted): one with accounting (gate: quota read, allow-list,
RPM/TPM limiter; cost; ledger row + balance debit in one transaction), one with
`MODELPORT_ACCOUNTING=false` (no gate, no ledger). The gateway's CPU time (user + system, from
/proc) is divided by the number of requests. Run: `.venv/bin/python bench/accounting_overhead.py`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.platform.conftest import FAKE_MODEL, Platform, platform_config
from tests.support.postgres import create_database, drop_database
from tests.support.server import run_server

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def run(p: Platform, key: str, n: int, concurrency: int) -> float:
    """CPU seconds of the gateway per request over `n` requests."""
    body = {"model": FAKE_MODEL, "messages": [{"role": "user", "content": "hello"}]}
    headers = {"Authorization": f"Bearer {key}"}

    def one(_: int) -> None:
        r = p.http.post("/v1/chat/completions", json={**body, "max_tokens": 4}, headers=headers)
        assert r.status_code == 200, r.text

    pid = p.server.process.pid
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(50)))  # warm-up
        start = cpu_seconds(pid)
        list(pool.map(one, range(n)))
        return (cpu_seconds(pid) - start) / n


def measure(upstream: str, accounting: bool, env: dict[str, str], n: int, c: int) -> float:
    env = {**env, "MODELPORT_ACCOUNTING": "true" if accounting else "false"}
    env["MODELPORT_LOG_LEVEL"] = "warning"
    config = platform_config(upstream, local=False)
    with tempfile.TemporaryDirectory() as tmp, run_server(Path(tmp), config=config, env=env) as s:
        p = Platform(s)
        # Every check on: a quota (read fresh per request), an allow-list, RPM and TPM.
        key = p.new_key(quota_tokens=10**12, allowed_models=[FAKE_MODEL], rpm=10**6, tpm=10**9)
        return run(p, key["key"], n, c)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    name = None
    env: dict[str, str] = {}
    try:
        with serve_asgi(create_app()) as url:
            off: list[float] = []
            on: list[float] = []
            for _ in range(args.rounds):  # interleaved, so drift hits both alike
                for accounting, into in ((False, off), (True, on)):
                    if args.store == "postgresql":
                        name, db_url = create_database("modelport_bench")
                        env = {"MODELPORT_DATABASE_URL": db_url}
                    into.append(
                        measure(url + "/v1", accounting, env, args.requests, args.concurrency)
                    )
                    if name is not None:
                        drop_database(name)
                        name = None
    finally:
        if name is not None:
            drop_database(name)
    base, full = min(off), min(on)
    print(
        f"store: {args.store}; {args.requests} requests x {args.rounds} rounds, "
        f"concurrency {args.concurrency}"
    )
    print(
        f"gateway CPU per request, accounting off: {base * 1000:.3f} ms  (rounds: "
        + ", ".join(f"{x * 1000:.3f}" for x in off)
        + ")"
    )
    print(
        f"gateway CPU per request, accounting on:  {full * 1000:.3f} ms  (rounds: "
        + ", ".join(f"{x * 1000:.3f}" for x in on)
        + ")"
    )
    print(
        f"accounting overhead: {(full / base - 1) * 100:+.1f}% of per-request CPU (target <= 10%)"
    )


if __name__ == "__main__":
    main()
