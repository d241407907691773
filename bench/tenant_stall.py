"""Tenant stall: how long `/health` waits while tenants send the hostile inputs that used to
stall the event loop (a prompt of 9,000 messages, one of 18 MB, 100,000 messages, a 1 MB
header, 100 half-sent request heads) and hostile files (a DOCX of a megabyte of empty
paragraphs, one nested 200,000 deep, an entity bomb, a PDF whose pages share one content
stream, each attached to a knowledge base and previewed eight times at once), against the
same probe on a quiet server in the same run.

Printed: `/health` p50 / p99 / max, quiet and under the hostile load, and the p99 ratio
[goal: p99 ≤ 100 ms on 2 cores].

Run: `.venv/bin/python bench/tenant_stall.py [--seconds 20]`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.synchronize import Event
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.knowledge.hostile import (
    deep_docx,
    empty_paragraphs_docx,
    entity_bomb_docx,
    shared_stream_pdf,
)
from tests.support.server import RunningServer, run_server

MODEL = "smollm2-135m-instruct"


def probe(server: RunningServer, seconds: float) -> list[float]:
    """`/health` latencies, one probe every 20 ms for `seconds`."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get("/health").raise_for_status()
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    return latencies


def bodies() -> list[bytes]:
    many = [{"role": "user", "content": f"m{i}"} for i in range(9_000)]
    most = [{"role": "user", "content": "y"} for _ in range(100_000)]
    huge = [{"role": "user", "content": "x" * 18_000_000}]
    encode = json.JSONEncoder().encode
    return [
        encode({"model": MODEL, "messages": m, "max_tokens": 4}).encode()
        for m in (many, most, huge)
    ]


def hostile(base_url: str, api_url: str, key: str, stop: Event) -> None:
    """One tenant (its own process, so its work does not delay the probe) sending every
    hostile input in turn until told to stop."""
    host, port = base_url.removeprefix("http://").split(":")
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    payloads = bodies()
    with httpx.Client(base_url=api_url, headers=headers, timeout=120) as client:
        while not stop.is_set():
            for body in payloads:
                client.post("/chat/completions", content=body)
            with socket.create_connection((host, int(port))) as sock:
                sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Huge: ")
                try:
                    for _ in range(16):
                        sock.sendall(b"a" * 65536)
                except OSError:
                    pass
            heads = [socket.create_connection((host, int(port))) for _ in range(100)]
            for sock in heads:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.5)
            for sock in heads:
                sock.close()


def hostile_files(api_url: str, key: str, stop: Event) -> None:
    """A tenant uploading hostile files, attaching them and asking for their previews."""
    files = {
        "paragraphs.docx": empty_paragraphs_docx(),
        "deep.docx": deep_docx(),
        "entities.docx": entity_bomb_docx(),
        "shared.pdf": shared_stream_pdf(),
    }
    with (
        httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}) as client,
        ThreadPoolExecutor(8) as pool,
    ):
        client.timeout = httpx.Timeout(120)
        while not stop.is_set():
            kb = client.post("/kbs", json={"name": f"kb{time.monotonic_ns()}"}).json()["id"]
            for name, data in files.items():
                upload = {"file": (name, data)}
                sent = client.post("/files", files=upload, data={"purpose": "knowledge-base"})
                file_id = sent.json()["id"]
                client.post(f"/kbs/{kb}/files", json={"file_ids": [file_id]})
                previews = [f"/files/{file_id}/parsed-content"] * 8
                list(pool.map(client.get, previews))
                if stop.is_set():
                    break


def summary(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    for name in ("chat", "files"):  # either kind of tenant can be left out, to compare
        parser.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    with TemporaryDirectory() as tmp, run_server(Path(tmp) / "data") as server:
        quiet = summary(probe(server, args.seconds))
        stop = multiprocessing.Event()
        tenant_args = (server.base_url, server.api_url, server.admin_key, stop)
        tenants = [
            multiprocessing.Process(target=hostile, args=tenant_args) for _ in range(2 * args.chat)
        ]
        if args.files:
            files_args = (server.api_url, server.admin_key, stop)
            tenants.append(multiprocessing.Process(target=hostile_files, args=files_args))
        for tenant in tenants:
            tenant.start()
        time.sleep(2)  # the tenants under way
        try:
            loaded = summary(probe(server, args.seconds))
        finally:
            stop.set()
            for tenant in tenants:
                tenant.join()
    print(f"/health quiet:   p50 {quiet[0]:.1f} ms, p99 {quiet[1]:.1f} ms, max {quiet[2]:.1f} ms")
    print(
        f"/health hostile: p50 {loaded[0]:.1f} ms, p99 {loaded[1]:.1f} ms, max {loaded[2]:.1f} ms"
        f"   [goal: p99 ≤ 100 ms]"
    )
    print(f"p99 hostile / quiet: {loaded[1] / quiet[1]:.2f}×")


if __name__ == "__main__":
    main()
