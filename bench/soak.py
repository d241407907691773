"""Soak: N minutes of mixed traffic against one `modelport serve` (the embedded model and a
fake OpenAI upstream channel): sync and streamed chats on both, knowledge-base chats,
uploads, clients that leave mid-stream, and reads. Passes with zero 5xx and server RSS growth
under 10% after warm-up; prints request counts, p50/p99 latency per kind, and the RSS curve.

Run: `.venv/bin/python bench/soak.py [--minutes 20] [--concurrency 6]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.hardening.conftest import GOOD_KEYS, KEY_FAULTS, LOCAL_MODEL, server_config
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server

KB_TEXT = (
    "The night ferry to the island leaves at 22:40 from pier seven. Bicycles ride free; "
    "cars must be booked a day ahead. The café on board closes at midnight.\n"
)


class Soak:
    def __init__(self, server: RunningServer, kb_id: str) -> None:
        self.server = server
        self.kb_id = kb_id
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1

    def chat(self, http: httpx.Client, model: str, stream: bool, **extra: object) -> int:
        body = {
            "model": model,
            "messages": [
                {"role": "user", "content": f"Say something about {uuid.uuid4().hex[:6]}"}
            ],
            "max_tokens": 6,
            "stream": stream,
            **extra,
        }
        if not stream:
            return http.post("/v1/chat/completions", json=body).status_code
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            text = response.read().decode()
            if response.status_code == 200 and not text.endswith("data: [DONE]\n\n"):
                raise RuntimeError("a stream ended without [DONE]")
            return response.status_code

    def leave(self, http: httpx.Client, model: str) -> int:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": "Write a long story. FAULT:slow"}],
            "max_tokens": 200,
            "stream": True,
        }
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            for i, _line in enumerate(response.iter_lines()):
                if i >= 6:
                    break  # leave mid-stream
            return response.status_code

    def upload(self, http: httpx.Client) -> int:
        data = f"soak note {uuid.uuid4().hex}\n".encode() * 20
        files = {"file": ("soak.txt", data, "text/plain")}
        response = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"})
        if response.status_code == 200:  # keep the store from growing without bound
            http.delete(f"/v1/files/{response.json()['id']}")
        return response.status_code

    def read(self, http: httpx.Client) -> int:
        path = random.choice(["/v1/files", "/v1/kbs", "/v1/usage", "/v1/models", "/health"])
        return http.get(path).status_code

    def operations(self) -> list[tuple[str, float, Callable[[httpx.Client], int]]]:
        kb = {"knowledge_base": {"ids": [self.kb_id]}}
        return [
            ("upstream-sync", 25, lambda h: self.chat(h, "fake-gpt", False)),
            ("upstream-stream", 20, lambda h: self.chat(h, "fake-gpt", True)),
            ("upstream-failover", 5, lambda h: self.chat(h, "fault-reset", True)),
            ("local-sync", 8, lambda h: self.chat(h, LOCAL_MODEL, False)),
            ("local-stream", 8, lambda h: self.chat(h, LOCAL_MODEL, True)),
            ("kb-chat", 5, lambda h: self.chat(h, LOCAL_MODEL, False, **kb)),
            ("upload", 8, self.upload),
            ("leave-upstream", 5, lambda h: self.leave(h, "fake-gpt")),
            ("leave-local", 4, lambda h: self.leave(h, LOCAL_MODEL)),
            ("read", 12, self.read),
        ]

    def worker(self, stop: threading.Event, seed: int) -> None:
        rng = random.Random(seed)
        ops = self.operations()
        weights = [w for _, w, _ in ops]
        headers = {"Authorization": f"Bearer {self.server.admin_key}"}
        with httpx.Client(base_url=self.server.base_url, headers=headers, timeout=120) as http:
            while not stop.is_set():
                kind, _, run = rng.choices(ops, weights)[0]
                started = time.perf_counter()
                try:
                    status = run(http)
                except Exception as exc:  # a broken connection or stream is a failure too
                    with self.lock:
                        self.failures.append(f"{kind}: {exc!r}")
                    status = 0
                self.record(kind, status, time.perf_counter() - started)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def prepare_kb(server: RunningServer) -> str:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as http:
        files = {"file": ("ferry.txt", KB_TEXT.encode(), "text/plain")}
        file_id = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"}).json()[
            "id"
        ]
        kb_id: str = http.post("/v1/kbs", json={"name": "soak"}).json()["id"]
        http.post(f"/v1/kbs/{kb_id}/files", json={"file_ids": [file_id]})
        deadline = time.monotonic() + 120
        while http.get(f"/v1/kbs/{kb_id}/files").json()["data"][0]["status"] != "online":
            if time.monotonic() > deadline:
                raise RuntimeError("the soak's knowledge base never came online")
            time.sleep(0.5)
    return kb_id


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--warmup", type=float, default=0.2, help="share of the run (1-3 min)")
    args = parser.parse_args()
    duration = args.minutes * 60
    warmup = min(max(duration * args.warmup, 60.0), 180.0, duration / 2)
    upstream = create_app(keys=frozenset(GOOD_KEYS | KEY_FAULTS.keys()))
    upstream.state.key_faults.update(KEY_FAULTS)
    with TemporaryDirectory() as tmp, serve_asgi(upstream) as url:
        config = server_config(url + "/v1")
        with run_server(Path(tmp) / "data", config=config) as server:
            soak = Soak(server, prepare_kb(server))
            stop = threading.Event()
            threads = [
                threading.Thread(target=soak.worker, args=(stop, i), daemon=True)
                for i in range(args.concurrency)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            samples: list[tuple[float, int]] = []
            while (elapsed := time.monotonic() - started) < duration:
                samples.append((elapsed, rss_kb(server.process.pid)))
                time.sleep(5)
            stop.set()
            for thread in threads:
                thread.join(timeout=150)
            health = httpx.get(server.base_url + "/health", timeout=10).json()
    return report(soak, samples, warmup, duration, health)


def report(
    soak: Soak, samples: list[tuple[float, int]], warmup: float, duration: float, health: object
) -> int:
    total = sum(len(v) for v in soak.latencies.values())
    errors_5xx = sum(n for s in soak.statuses.values() for code, n in s.items() if code >= 500)
    print(f"soak: {duration / 60:.1f} min, {total} requests ({total / duration:.1f}/s)")
    print(f"{'kind':<18}{'n':>7}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for kind in sorted(soak.latencies):
        values = soak.latencies[kind]
        codes = dict(sorted(soak.statuses[kind].items()))
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(f"{kind:<18}{len(values):>7}{p50:>9.0f}{p99:>9.0f}  {codes}")
    every = [v for values in soak.latencies.values() for v in values]
    p50, p99 = percentile(every, 0.5) * 1000, percentile(every, 0.99) * 1000
    print(f"all: p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    after = [rss for t, rss in samples if t >= warmup]
    base = after[0] if after else 0
    tail = statistics.mean(after[-6:]) if after else 0
    growth = (tail - base) / base * 100 if base else 0.0
    print(
        f"rss: start {samples[0][1] / 1024:.0f} MiB, after warm-up {base / 1024:.0f} MiB, "
        f"end {tail / 1024:.0f} MiB, growth {growth:+.1f}% (limit 10%)"
    )
    print(f"5xx: {errors_5xx}; client-side failures: {len(soak.failures)}; health at end: {health}")
    for failure in soak.failures[:10]:
        print("  ", failure)
    ok = errors_5xx == 0 and not soak.failures and growth < 10.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
