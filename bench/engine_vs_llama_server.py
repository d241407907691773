"""modelport's engine against llama.cpp's own `llama-server` (issue 21), over HTTP.

Both serve the same GGUF (the default SmolLM2-135M-Instruct Q4_1) with the same threads;
llama-server is built by scripts/llama-server.sh (`make llama-server`) from the llama.cpp that
llama-cpp-python 0.3.36 vendors, with the same portable flags as the engine's wheel, and runs
8 slots over a context of 8 x 1024 (modelport's default engine.slots x context_per_slot).
The same client code streams `/v1/chat/completions` from each; time to first token is the
first content chunk. Per run, one server is started, measured and stopped, alternately
(A, B, A, B ...), so the two never share the cores and machine noise hits both:

  a. one stream: decode tokens/s (first content chunk to last), 256 tokens, greedy, EOS banned;
  b. four concurrent streams: aggregate decode tokens/s (first first chunk to last last chunk);
  c. time to first token of a short prompt (median of 3, each prompt new to the server);
  d. multi-turn: a ~900-token history (system prompt + three earlier turns, fixed text), turn 1
     (history + a question), then turn 2 (history + turn 1's answer + a new question): turn-2 TTFT
     / turn-1 TTFT; on llama-server with its prompt cache on (the default `cache_prompt: true`)
     and off (`"cache_prompt": false` per request). A fresh nonce opens each conversation so its
     turn 1 is never cached.

Usage: python bench/engine_vs_llama_server.py [--repeats 4] [--out results.json]
       [--llama-server PATH]   (default: the cached build; built first if missing)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._servers import (
    MODEL,
    Server,
    engine_threads,
    llama_server_binary,
    run_llama_server,
    run_modelport,
    version_of,
)

BAN_END = {"0": -100.0, "2": -100.0}  # <|endoftext|> and <|im_end|>: fixed-length generations
STORY = "Write a long story about a lighthouse keeper."
TOKENS = 256
Messages = list[dict[str, str]]


@dataclass
class Stream:
    sent: float
    arrivals: list[float]  # perf_counter of each chunk with content
    completion_tokens: int
    prompt_tokens: int
    cached_tokens: int | None  # as the server reports it, if it does
    text: str

    @property
    def ttft(self) -> float:
        return self.arrivals[0] - self.sent


async def stream_chat(
    client: httpx.AsyncClient,
    server: Server,
    messages: Messages,
    max_tokens: int,
    *,
    ban_end: bool = True,
    extra: dict[str, object] | None = None,
) -> Stream:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 1,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if ban_end:
        body["logit_bias"] = BAN_END
        body.update(server.extra_body)
    body.update(extra or {})
    arrivals: list[float] = []
    parts: list[str] = []
    usage: dict[str, Any] = {}
    cached: int | None = None
    sent = time.perf_counter()
    async with client.stream(
        "POST", server.base_url + "/v1/chat/completions", json=body, headers=server.headers
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{server.name}: {response.status_code} {await response.aread()!r}")
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            now = time.perf_counter()
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                content = (choice.get("delta") or {}).get("content")
                if content:
                    arrivals.append(now)
                    parts.append(content)
            if chunk.get("usage"):
                usage = chunk["usage"]
                details = usage.get("prompt_tokens_details") or {}
                cached = details.get("cached_tokens", cached)
            if "timings" in chunk:  # llama-server: prompt tokens taken from its cache
                cached = chunk["timings"].get("cache_n", cached)
    if not arrivals:
        raise RuntimeError(f"{server.name}: no content streamed")
    return Stream(
        sent,
        arrivals,
        int(usage.get("completion_tokens") or len(arrivals)),
        int(usage.get("prompt_tokens") or 0),
        cached,
        "".join(parts),
    )


def new_client() -> httpx.AsyncClient:
    """A new connection per request: llama-server closes idle keep-alive connections after
    a few seconds, which a pooled client would find only when it reuses one."""
    return httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_keepalive_connections=0))


def decode_rate(streams: list[Stream]) -> float:
    """Aggregate decode tokens/s: tokens after each stream's first, from the first first chunk
    to the last last chunk (so the others' prefill counts against it)."""
    start = min(s.arrivals[0] for s in streams)
    end = max(s.arrivals[-1] for s in streams)
    return sum(s.completion_tokens - 1 for s in streams) / (end - start)


def history(nonce: str) -> Messages:
    """A system prompt and three earlier turns of fixed text (~880 tokens with a question)."""
    facts = " ".join(
        f"Depot {i} in the {c} district holds {40 + 7 * i} crates of part {i * 13 % 97}, "
        f"checked every {i % 5 + 2} days by team {c[0].upper()}{i}."
        for i, c in enumerate(
            ["north", "south", "east", "west", "harbour", "airport", "river", "market"] * 2
        )
    )
    system = (
        f"Session {nonce}. You are the logistics assistant of a regional parts distributor. "
        "Answer briefly and precisely, quoting depot numbers and counts from the inventory. "
        f"Inventory: {facts}"
    )
    turns = [
        (
            "Which depots are checked most often, and what do they hold?",
            "Depots checked every 2 days are depots 0, 5 and 10: depot 0 in the north district "
            "holds 40 crates of part 0, depot 5 in the airport district holds 75 crates of "
            "part 65, and depot 10 in the east district holds 110 crates of part 33. Teams N0, "
            "A5 and E10 check them. Every other depot is checked every 3 to 6 days.",
        ),
        (
            "Summarise the harbour district for the weekly report.",
            "The harbour district has two depots. Depot 4 holds 68 crates of part 52 and is "
            "checked every 6 days by team H4; depot 10 is in the east district, so it is not "
            "part of this summary. Depot 4 is the only harbour depot on the six-day cycle, "
            "so it is the one most likely to show a gap between counts in the report.",
        ),
        (
            "If team W3 is off sick, what should we move and where?",
            "Team W3 checks depot 3 in the west district, which holds 61 crates of part 39 on "
            "a 5-day cycle. The nearest team with spare capacity is W9, which checks depot 9 "
            "every 6 days; it could take depot 3 for one cycle. Nothing needs to move "
            "physically: only the check rota changes, and the counts stay where they are.",
        ),
    ]
    messages = [{"role": "system", "content": system}]
    for question, answer in turns:
        messages += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    return messages


# A conversation is sampled, as chats are: modelport reuses no cached cells for a request
# that asks for reproducible output (temperature 0 or a seed), see docs/engine.md.
SAMPLED: dict[str, object] = {"temperature": 0.7, "seed": None}


async def multi_turn(server: Server, extra: dict[str, object] | None) -> dict[str, Any]:
    extra = {**SAMPLED, **(extra or {})}
    messages = history(uuid.uuid4().hex[:12])
    async with new_client() as client:
        messages.append({"role": "user", "content": "Which depot holds the most crates?"})
        first = await stream_chat(client, server, messages, 32, extra=extra)
        messages.append({"role": "assistant", "content": first.text})
        messages.append({"role": "user", "content": "And which team checks it?"})
        second = await stream_chat(client, server, messages, 8, extra=extra)
    return {
        "turn1_ttft": first.ttft,
        "turn2_ttft": second.ttft,
        "turn2_over_turn1": second.ttft / first.ttft,
        "turn1_prompt_tokens": first.prompt_tokens,
        "turn2_prompt_tokens": second.prompt_tokens,
        "turn2_cached_tokens": second.cached_tokens,
    }


async def measure(server: Server) -> dict[str, Any]:
    story = [{"role": "user", "content": STORY}]
    async with new_client() as client:
        # Warm-up: a few concurrent streams (modelport times its batch widths on its first ones).
        await asyncio.gather(*(stream_chat(client, server, story, 16) for _ in range(4)))
        one = await stream_chat(client, server, story, TOKENS)
        four = await asyncio.gather(*(stream_chat(client, server, story, TOKENS) for _ in range(4)))
        ttfts = []
        for _ in range(3):
            short = [{"role": "user", "content": f"Say hello to {uuid.uuid4().hex[:8]}."}]
            ttfts.append((await stream_chat(client, server, short, 8)).ttft)
    result: dict[str, Any] = {
        "one_stream_tok_s": decode_rate([one]),
        "one_stream_tokens": one.completion_tokens,
        "four_streams_tok_s": decode_rate(list(four)),
        "four_streams_tokens": [s.completion_tokens for s in four],
        "ttft_short_s": statistics.median(ttfts),
    }
    if server.name == "llama-server":
        result["multi_turn_cache_on"] = await multi_turn(server, {"cache_prompt": True})
        result["multi_turn_cache_off"] = await multi_turn(server, {"cache_prompt": False})
    else:
        result["multi_turn"] = await multi_turn(server, None)
    return result


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def git_state() -> dict[str, str]:
    """The commit measured, and whether the engine's source differed from it (uncommitted)."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return out.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "engine_uncommitted": git("status", "--porcelain", "--", "src/modelport/engine"),
    }


def median_of(runs: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in keys:
            value = value[key]
        values.append(float(value))
    return statistics.median(values)


def summarise(runs: dict[str, list[dict[str, Any]]]) -> list[tuple[str, float, float]]:
    """(metric, modelport median, llama-server median) rows."""
    mp, ls = runs["modelport"], runs["llama-server"]
    rows: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        ("1 stream, decode tok/s", ("one_stream_tok_s",), ("one_stream_tok_s",)),
        ("4 streams, aggregate tok/s", ("four_streams_tok_s",), ("four_streams_tok_s",)),
        ("TTFT short prompt, ms", ("ttft_short_s",), ("ttft_short_s",)),
    ]
    for mode in ("on", "off"):
        cached = f"multi_turn_cache_{mode}"
        rows += [
            (f"multi-turn turn-1 TTFT, ms [llama cache {mode}]", ("multi_turn", "turn1_ttft"),
             (cached, "turn1_ttft")),
            (f"multi-turn turn-2 TTFT, ms [llama cache {mode}]", ("multi_turn", "turn2_ttft"),
             (cached, "turn2_ttft")),
            (f"multi-turn turn-2/turn-1 [llama cache {mode}]", ("multi_turn", "turn2_over_turn1"),
             (cached, "turn2_over_turn1")),
        ]  # fmt: skip
    out = []
    for label, mp_keys, ls_keys in rows:
        scale = 1000.0 if ", ms" in label else 1.0
        out.append((label, median_of(mp, *mp_keys) * scale, median_of(ls, *ls_keys) * scale))
    return out


def table(rows: list[tuple[str, float, float]]) -> str:
    lines = [f"{'metric':<46} {'modelport':>10} {'llama-server':>13} {'mp/llama':>9}"]
    for label, mp, ls in rows:
        lines.append(f"{label:<46} {mp:>10.2f} {ls:>13.2f} {mp / ls:>9.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--llama-server", default=None, help="binary (default: cached build)")
    parser.add_argument(
        "--llama-threads-batch", type=int, default=None, help="default: modelport's own"
    )
    args = parser.parse_args()
    binary = llama_server_binary(args.llama_server)
    starters: dict[str, Callable[[], AbstractContextManager[Server]]] = {
        "modelport": run_modelport,
        "llama-server": lambda: run_llama_server(binary, args.llama_threads_batch),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in starters}
    load_before = os.getloadavg()
    git = git_state()  # what is measured: other sessions may commit during the run
    started = datetime.now(UTC)
    for repeat in range(args.repeats):
        for name, start in starters.items():  # A, B, A, B ...: one server up at a time
            with start() as server:
                result = asyncio.run(measure(server))
            runs[name].append(result)
            print(
                f"run {repeat + 1}/{args.repeats} {name}: "
                f"1 stream {result['one_stream_tok_s']:.1f} tok/s, "
                f"4 streams {result['four_streams_tok_s']:.1f} tok/s, "
                f"TTFT {result['ttft_short_s'] * 1000:.0f} ms",
                flush=True,
            )
    rows = summarise(runs)
    print(table(rows))
    threads, threads_batch = engine_threads()
    report = {
        "date": started.isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "python": platform.python_version(),
        },
        "git": git,
        "config": {
            "model": MODEL,
            "threads": threads,
            "threads_batch": threads_batch,
            "llama_threads_batch": args.llama_threads_batch or threads_batch,
            "llama_server_slots": 8,
            "llama_server_ctx": 8 * 1024,
            "tokens": TOKENS,
            "repeats": args.repeats,
            "llama_server": binary,
            "llama_server_version": version_of(binary),
        },
        "medians": {
            label: {"modelport": mp, "llama_server": ls, "ratio": mp / ls} for label, mp, ls in rows
        },
        "runs": runs,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
