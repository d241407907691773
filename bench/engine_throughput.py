"""Issue 2's numbers, measured in one run (ratios, since this machine is noisy).

1. One stream through HTTP vs. the engine called directly in-process: decode tokens/s (≥ 0.95).
2. Four concurrent streams through HTTP vs. one stream: aggregate tokens/s (≥ 2×).
   The same for llama-cpp-python's own server (it serialises requests behind a lock: ~1×),
   when its extra packages are installed (`pip install -e '.[bench]'`).
3. Seconds from `modelport serve` starting to answering (≤ 3 s) and the server's idle RSS beyond
   what the engine alone takes (weights, KV cache, buffers) in a bare process (≤ 150 MiB).

Every generation has a fixed length (end-of-generation tokens are banned), so runs compare.
Usage: python bench/engine_throughput.py [--tokens 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.server import free_port  # noqa: E402

MODEL = "smollm2-135m-instruct"
QUESTION = "Write a long story about a lighthouse keeper."
_CONTENT = re.compile(rb'"content": ?"[^"]')  # a non-empty content delta
BAN_END = {"0": -100.0, "2": -100.0}  # <|endoftext|> and <|im_end|>


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def direct_engine(tokens: int, threads_batch: int | None, lanes: int | None) -> float:
    """Decode tokens/s of one sequence, engine called in-process (first token → last)."""
    from modelport.engine.config import EngineSettings
    from modelport.engine.engine import LocalEngine
    from modelport.engine.events import TextDelta
    from modelport.engine.sampling import SamplingParams
    from modelport.settings import default_gguf_path

    settings = EngineSettings()
    if threads_batch is not None:
        settings = settings.model_copy(update={"n_threads_batch": threads_batch})
    if lanes is not None:
        settings = settings.model_copy(update={"lanes": lanes})
    engine = LocalEngine(default_gguf_path(), settings)
    try:
        prompt = engine.render([{"role": "user", "content": QUESTION}])
        params = SamplingParams(max_tokens=tokens, seed=1, logit_bias={0: -100.0, 2: -100.0})
        first = last = 0.0
        count = 0
        async for _, event in engine.submit(prompt, [params]).events():
            if isinstance(event, TextDelta):
                now = time.perf_counter()
                first = first or now
                last = now
                count = event.tokens
        return (count - 1) / (last - first)
    finally:
        engine.close()


async def http_stream(
    client: httpx.AsyncClient, key: str, tokens: int, seed: int
) -> tuple[list[float], int]:
    """(arrival time of each content delta, completion tokens) for one SSE stream."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": QUESTION}],
        "max_tokens": tokens,
        "seed": seed,
        "stream": True,
        "logit_bias": BAN_END,
    }
    arrivals: list[float] = []
    usage = 0
    tail = b""
    headers = {"Authorization": f"Bearer {key}"}
    # The load generator shares the 2 cores with the server, so it parses as little as it
    # can: it only spots content-bearing bytes for timing and reads `usage` from the tail.
    async with client.stream(
        "POST", "/v1/chat/completions", json=body, headers=headers
    ) as response:
        async for block in response.aiter_bytes():
            found = len(_CONTENT.findall(block))
            if found:
                arrivals.extend([time.perf_counter()] * found)
            tail = (tail + block)[-4096:]
    for line in tail.decode(errors="replace").splitlines():
        if line.startswith("data: {") and '"usage":' in line:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                usage = json.loads(line[6:])["usage"]["completion_tokens"]
    return arrivals, usage or len(arrivals)  # a server without stream usage: a chunk a token


async def through_http(base_url: str, key: str, tokens: int, streams: int) -> tuple[float, float]:
    """Aggregate decode tokens/s of `streams` concurrent streams: over the whole run (from the
    first stream's first token to the last one's last, so it includes the other prompts'
    prefill), and over the stretch where every stream is decoding (from the last first token
    to the first last token)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=600) as client:
        results = await asyncio.gather(
            *(http_stream(client, key, tokens, seed) for seed in range(streams))
        )
    start = min(r[0][0] for r in results)
    end = max(r[0][-1] for r in results)
    whole = sum(r[1] - 1 for r in results) / (end - start)  # tokens after each one's first
    since, until = max(r[0][0] for r in results), min(r[0][-1] for r in results)
    if until <= since:  # served one after another: never all decoding at once
        return whole, 0.0
    in_window = sum(
        sum(1 for t in arrivals if since < t <= until) * usage / len(arrivals)
        for arrivals, usage in results
    )
    return whole, in_window / (until - since)


def start_server(
    data_dir: Path, threads_batch: int | None, lanes: int | None
) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    started = time.perf_counter()
    env = dict(os.environ)
    if threads_batch is not None:
        env["MODELPORT_ENGINE__N_THREADS_BATCH"] = str(threads_batch)
    if lanes is not None:
        env["MODELPORT_ENGINE__LANES"] = str(lanes)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelport",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    key = ""
    while True:
        try:
            if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                key = (data_dir / "admin_key").read_text().strip()
                body = {
                    "model": MODEL,
                    "messages": [{"role": "user", "content": "Hi"}],
                    "max_tokens": 1,
                }
                reply = httpx.post(
                    base_url + "/v1/chat/completions",
                    json=body,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=30,
                )
                if reply.status_code == 200:
                    break
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit("server failed to start")
        time.sleep(0.02)
    return process, base_url, time.perf_counter() - started


def start_llama_cpp_server() -> tuple[subprocess.Popen[bytes], str] | None:
    """llama-cpp-python's server on the same weights and threads, or None if not installed."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError:
        return None
    from modelport.engine.config import EngineSettings
    from modelport.settings import default_gguf_path

    port = free_port()
    threads = str(EngineSettings().n_threads)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            default_gguf_path(),
            "--model_alias",
            MODEL,
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--interrupt_requests",  # queue concurrent requests instead of cutting one off
            "False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/v1/models", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    return None


def baseline(tokens: int, repeats: int) -> tuple[float, float, float] | None:
    started = start_llama_cpp_server()
    if started is None:
        return None
    process, base_url = started
    try:
        one = [asyncio.run(through_http(base_url, "none", tokens, 1))[0] for _ in range(repeats)]
        four = [asyncio.run(through_http(base_url, "none", tokens, 4)) for _ in range(repeats)]
        return (
            statistics.median(one),
            statistics.median(f[0] for f in four),
            statistics.median(f[1] for f in four),
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def engine_only_rss() -> float:
    """RSS of a bare process holding just the loaded engine (weights + KV cache + buffers)."""
    code = (
        "import os,time\n"
        "from modelport.engine.engine import LocalEngine\n"
        "from modelport.engine.config import EngineSettings\n"
        "from modelport.settings import default_gguf_path\n"
        "e = LocalEngine(default_gguf_path(), EngineSettings())\n"
        "time.sleep(0.5)\n"
        "print(int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'))\n"
        "e.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads-batch", type=int, default=None, help="engine.n_threads_batch (default: auto)"
    )
    parser.add_argument("--lanes", type=int, default=None, help="engine.lanes (default: auto)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        process, base_url, ready_s = start_server(Path(tmp), args.threads_batch, args.lanes)
        try:
            time.sleep(1.0)
            idle_rss = rss_mib(process.pid)
            direct: list[float] = []
            one: list[float] = []
            four_runs: list[tuple[float, float]] = []
            for _ in range(args.repeats):
                run = direct_engine(args.tokens, args.threads_batch, args.lanes)
                direct.append(asyncio.run(run))
                key = (Path(tmp) / "admin_key").read_text().strip()
                one.append(asyncio.run(through_http(base_url, key, args.tokens, 1))[0])
                four_runs.append(asyncio.run(through_http(base_url, key, args.tokens, 4)))
        finally:
            process.terminate()
            process.wait(timeout=30)
    engine_rss = engine_only_rss()
    reference = baseline(args.tokens, args.repeats)
    four = [w for w, _ in four_runs]
    steady = [s for _, s in four_runs]
    d, o, f, fs = (statistics.median(x) for x in (direct, one, four, steady))
    for label, value, runs in (
        ("engine in-process (1 stream)", d, direct),
        ("through HTTP      (1 stream)", o, one),
        ("through HTTP     (4 streams)", f, four),
        ("  all four decoding         ", fs, steady),
    ):
        print(f"decode tok/s, {label}: {value:7.1f}   runs {[round(x, 1) for x in runs]}")
    print(f"HTTP / direct, one stream:      {o / d:5.2f}  (target >= 0.95)")
    print(f"4 streams / 1 stream, via HTTP: {f / o:5.2f}x whole run (with the other prompts'")
    print(f"  prefill), {fs / o:5.2f}x while all four decode (target >= 2x)")
    # Each repeat times one stream then four back to back: their ratio shares conditions.
    paired = [round(w / s, 2) for w, s in zip(four, one, strict=True)]
    print(f"  per repeat (4 streams whole run / the 1 stream just before): {paired}")
    if reference is None:
        print("llama-cpp-python server: not installed (pip install -e '.[bench]')")
    else:
        r1, r4, r4s = reference
        print(
            f"llama-cpp-python server: 1 stream {r1:.1f} tok/s, 4 streams {r4:.1f} tok/s, "
            f"{r4 / r1:.2f}x whole run, "
            + (f"{r4s / r1:.2f}x while all four decode" if r4s else "never all four at once")
        )
    print(f"ready to answer after start:    {ready_s:5.2f} s (target <= 3 s)")
    print(
        f"idle RSS: server {idle_rss:.0f} MiB, engine alone {engine_rss:.0f} MiB, "
        f"beyond the engine {idle_rss - engine_rss:.0f} MiB (target <= 150 MiB)"
    )


if __name__ == "__main__":
    main()
