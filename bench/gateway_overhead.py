"""How much modelport costs on top of an upstream, against a minimal aiohttp pass-through.

Everything runs in one go on this machine: a fast fake OpenAI upstream (its own process), a
bare aiohttp proxy in front of it (the baseline, its own process) and `modelport serve` with a
one-model catalogue pointing at the same upstream. The load comes from this process.

Printed (the targets in brackets):
- CPU time per proxied request, modelport / aiohttp proxy, non-stream and a 20-chunk stream
  (CPU of the proxy process only, from /proc)                                    [≤ 2.5×]
- added latency at concurrency 1: p50 through modelport − p50 straight to the upstream
                                                                                  [≤ 1.5 ms]
- startup to first answer, no local model configured                              [≤ 2 s]
- idle RSS of the server, no local model, before and after the load              [≤ 150 MiB]

modelport runs twice: as shipped (keys, quotas, a ledger row per request) and with
`accounting: false`, which isolates what the gateway itself (routing, conversion, SSE) costs.
A third process, the same pass-through as a bare ASGI app on uvicorn with modelport's server
settings, is measured in the same rounds: the share of the ratio that the server stack
(uvicorn, ASGI) accounts for, and so what is left to modelport's own work.

Usage: python bench/gateway_overhead.py [--requests 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
WORDS = " ".join(f"w{i}" for i in range(19))  # "Echo:" + 19 words = 20 content chunks
UPSTREAM_KEY = "sk-test-1"

UPSTREAM = textwrap.dedent(
    """
    import sys, uvicorn
    sys.path.insert(0, {root!r})
    from tests.fakes.openai_upstream import create_app
    uvicorn.run(create_app(), host="127.0.0.1", port={port}, log_level="warning",
                loop="uvloop", http="httptools", lifespan="off", access_log=False)
    """
)

PROXY = textwrap.dedent(
    """
    import aiohttp, uvloop
    from aiohttp import web
    UPSTREAM = "{upstream}"

    async def chat(request):
        body = await request.read()
        headers = {{"Authorization": "Bearer {key}", "Content-Type": "application/json"}}
        async with request.app["session"].post(UPSTREAM, data=body, headers=headers) as up:
            out = web.StreamResponse(status=up.status,
                                     headers={{"Content-Type": up.headers["Content-Type"]}})
            await out.prepare(request)
            async for chunk in up.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out

    async def start(app):
        app["session"] = aiohttp.ClientSession()

    async def stop(app):
        await app["session"].close()

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port={port}, access_log=None, print=None)
    """
)

# The pass-through again, as a bare ASGI app served the way `modelport serve` serves modelport.
ASGI_PASS_THROUGH = textwrap.dedent(
    """
    import aiohttp, uvicorn
    UPSTREAM = "{upstream}"
    HEADERS = {{"Authorization": "Bearer {key}", "Content-Type": "application/json"}}
    session = None

    async def app(scope, receive, send):
        global session
        if session is None:
            session = aiohttp.ClientSession()
        parts = []
        while True:
            message = await receive()
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        async with session.post(UPSTREAM, data=b"".join(parts), headers=HEADERS) as up:
            kind = up.headers["Content-Type"].encode()
            await send({{"type": "http.response.start", "status": up.status,
                         "headers": [(b"content-type", kind)]}})
            async for chunk in up.content.iter_any():
                await send({{"type": "http.response.body", "body": chunk, "more_body": True}})
            await send({{"type": "http.response.body", "body": b""}})

    uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", loop="uvloop",
                http="httptools", lifespan="off", access_log=False, proxy_headers=False)
    """
)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of `pid`, to the nanosecond where the kernel tells
    (`sum_exec_runtime` in /proc/PID/task/TID/sched): /proc/PID/stat counts 10 ms ticks, which
    over a few hundred sub-millisecond requests is as much noise as signal."""
    total = 0.0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            for line in Path(f"/proc/{pid}/task/{tid}/sched").read_text().splitlines():
                if line.startswith("se.sum_exec_runtime"):
                    total += float(line.split(":")[1]) / 1000  # ms
                    break
            else:
                raise OSError("no sum_exec_runtime")
        return total
    except OSError:  # a kernel without scheduler debug data
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise OSError("no VmRSS")


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not come up")


def body(stream: bool) -> dict[str, object]:
    return {
        "model": "gpt-bench",
        "messages": [{"role": "user", "content": WORDS}],
        "stream": stream,
    }


async def one(client: httpx.AsyncClient, url: str, key: str, stream: bool) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    if not stream:
        response = await client.post(url, json=body(False), headers=headers)
        assert response.status_code == 200, response.text
        return
    async with client.stream("POST", url, json=body(True), headers=headers) as response:
        assert response.status_code == 200
        data = b"".join([part async for part in response.aiter_bytes()])
        assert data.rstrip().endswith(b"[DONE]"), data[-200:]


async def load(url: str, key: str, stream: bool, n: int, concurrency: int) -> list[float]:
    """Send n requests, `concurrency` at a time; the latency of each, in seconds."""
    latencies: list[float] = []
    queue = iter(range(n))
    limits = httpx.Limits(max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                await one(client, url, key, stream)
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def measure_cpu(pid: int, run: Coroutine[Any, Any, list[float]], n: int) -> float:
    """CPU seconds the process `pid` spent while `run` ran, divided by `n`."""
    before = cpu_seconds(pid)
    asyncio.run(run)
    return (cpu_seconds(pid) - before) / n


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def start_modelport(
    data_dir: Path, upstream: str, accounting: bool
) -> tuple[subprocess.Popen[bytes], str, float]:
    """Start `modelport serve`; (process, base URL, seconds from spawn to the first answer)."""
    config: dict[str, object] = {
        "accounting": accounting,
        "models": [
            {
                "name": "gpt-bench",
                "channels": [
                    {"provider": "openai_compat", "base_url": upstream, "api_key": UPSTREAM_KEY}
                ],
            }
        ],
    }
    (data_dir / "config.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    args = [sys.executable, "-m", "modelport", "serve", "--port", str(port)]
    args += ["--data-dir", str(data_dir), "--config", str(data_dir / "config.yaml")]
    args += ["--log-level", "warning"]
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = started + 60
    while time.perf_counter() < deadline:
        key_file = data_dir / "admin_key"
        if key_file.exists():
            try:
                headers = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
                r = httpx.post(url + "/v1/chat/completions", json=body(False), headers=headers)
                if r.status_code == 200:
                    return process, url, time.perf_counter() - started
            except httpx.HTTPError:
                pass
        time.sleep(0.01)
    raise RuntimeError("modelport did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10, help="alternating CPU rounds")
    args = parser.parse_args()
    n, c = args.requests, args.concurrency

    up_port, proxy_port, floor_port = free_port(), free_port(), free_port()
    upstream = f"http://127.0.0.1:{up_port}/v1"
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", UPSTREAM.format(root=str(ROOT), port=up_port)]
                )
            )
            chat_url = upstream + "/chat/completions"
            for template, port in ((PROXY, proxy_port), (ASGI_PASS_THROUGH, floor_port)):
                source = template.format(upstream=chat_url, key=UPSTREAM_KEY, port=port)
                procs.append(subprocess.Popen([sys.executable, "-c", source]))
            for port in (up_port, proxy_port, floor_port):
                wait_http(f"http://127.0.0.1:{port}/")
            baselines = Baselines(
                (f"http://127.0.0.1:{proxy_port}/v1/chat/completions", UPSTREAM_KEY),
                procs[1].pid,
                (f"http://127.0.0.1:{floor_port}/v1/chat/completions", UPSTREAM_KEY),
                procs[2].pid,
            )
            for accounting in (True, False):
                data_dir = Path(tmp) / f"accounting-{accounting}"
                data_dir.mkdir()
                mp, mp_url, startup = start_modelport(data_dir, upstream, accounting)
                procs.append(mp)
                idle_before = rss_mib(mp.pid)
                admin = (data_dir / "admin_key").read_text().strip()
                print(f"\n== modelport, accounting {'on' if accounting else 'off'} ==")
                gateway = (mp_url + "/v1/chat/completions", admin)
                report(
                    n, c, args.rounds, args.latency_requests, upstream, baselines, gateway, mp.pid
                )
                print(f"startup to first answer (no local model): {startup:.2f} s   [≤ 2 s]")
                print(
                    f"idle RSS: {idle_before:.0f} MiB after the first answer, "
                    f"{rss_mib(mp.pid):.0f} MiB after the load   [≤ 150 MiB]"
                )
                mp.terminate()
                mp.wait(timeout=20)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)


@dataclass(frozen=True)
class Baselines:
    """The aiohttp proxy (the issue's baseline) and the same pass-through on uvicorn."""

    proxy: tuple[str, str]  # (URL, key)
    proxy_pid: int
    asgi: tuple[str, str]
    asgi_pid: int


def report(
    n: int,
    c: int,
    rounds: int,
    latency_n: int,
    upstream: str,
    baselines: Baselines,
    gateway: tuple[str, str],
    mp_pid: int,
) -> None:
    direct = (upstream + "/chat/completions", UPSTREAM_KEY)
    proxy, asgi = baselines.proxy, baselines.asgi
    per_round = n // rounds
    print(f"{n} requests per case in {rounds} alternating rounds, concurrency {c}")
    for stream in (False, True):
        label = "20-chunk stream" if stream else "non-stream     "
        for url, key in (proxy, asgi, gateway):  # warm all three
            asyncio.run(load(url, key, stream, 50, c))
        base: list[float] = []
        floor: list[float] = []
        ours: list[float] = []
        for _ in range(rounds):  # alternate, so all see the same background load
            base.append(
                measure_cpu(baselines.proxy_pid, load(*proxy, stream, per_round, c), per_round)
            )
            floor.append(
                measure_cpu(baselines.asgi_pid, load(*asgi, stream, per_round, c), per_round)
            )
            ours.append(measure_cpu(mp_pid, load(*gateway, stream, per_round, c), per_round))
        # A round that a neighbour's burst of work lands on skews a sum; the median of the
        # paired rounds' ratios does not care which side it hit.
        paired = statistics.median(o / b for o, b in zip(ours, base, strict=True))
        mean_ours, mean_base = statistics.fmean(ours), statistics.fmean(base)
        print(
            f"CPU/request {label}: modelport {mean_ours * 1000:.2f} ms, aiohttp proxy "
            f"{mean_base * 1000:.2f} ms → {mean_ours / mean_base:.2f}× overall, "
            f"{paired:.2f}× median of {rounds} paired rounds   [≤ 2.5×]"
        )
        mean_floor = statistics.fmean(floor)
        print(
            f"    the same pass-through as bare ASGI on uvicorn: {mean_floor * 1000:.2f} ms → "
            f"{mean_floor / mean_base:.2f}× (so modelport's own work: "
            f"{(mean_ours - mean_floor) / mean_base:.2f}× of the proxy)"
        )
    for stream in (False, True):
        label = "stream    " if stream else "non-stream"
        straight, via_proxy, via_mp = asyncio.run(
            interleaved(direct, proxy, gateway, stream, latency_n)
        )
        print(
            f"p50 latency {label}, concurrency 1: direct {straight:.2f} ms, aiohttp proxy "
            f"{via_proxy:.2f} ms, modelport {via_mp:.2f} ms → added {via_mp - straight:.2f} ms"
            "   [≤ 1.5 ms]"
        )


async def interleaved(
    direct: tuple[str, str],
    proxy: tuple[str, str],
    gateway: tuple[str, str],
    stream: bool,
    n: int,
) -> tuple[float, float, float]:
    """p50 of each target at concurrency 1, one request to each in turn (same conditions)."""
    targets = (direct, proxy, gateway)
    latencies: list[list[float]] = [[], [], []]
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(n):
            for i, (url, key) in enumerate(targets):
                started = time.perf_counter()
                await one(client, url, key, stream)
                latencies[i].append(time.perf_counter() - started)
    return p50_ms(latencies[0]), p50_ms(latencies[1]), p50_ms(latencies[2])


if __name__ == "__main__":
    main()
