"""A conversation's next turn with the prefix cache: time to first token of turn 2 over turn 1,
on a history of about 1,000 tokens, with the cache on and off (issue 21: ≤ 0.3× with it on).

Both engines run in this process, alternately, with the default settings; each repeat uses a
new conversation (the cache could otherwise serve turn 1 from the previous repeat). The turns are
sampled (temperature 0.7), as chats are: a greedy or seeded request reuses no cached cells.
Usage: python bench/prefix_cache.py [--repeats 4] [--history 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from modelport.engine.config import EngineSettings  # noqa: E402
from modelport.engine.engine import LocalEngine  # noqa: E402
from modelport.engine.events import TextDelta  # noqa: E402
from modelport.engine.sampling import SamplingParams  # noqa: E402
from modelport.settings import default_gguf_path  # noqa: E402

FACTS = [
    "The lighthouse on the northern cape was built in 1874 from granite quarried nearby.",
    "Its lamp burned paraffin until 1923, when an electric lamp replaced it.",
    "Three keepers lived there at a time, working four-hour watches through the night.",
    "Supplies came by boat every fortnight, weather permitting, with letters and flour.",
    "In the great storm of 1911 the keepers kept the light burning for sixty hours.",
]


def history(engine: LocalEngine, tokens: int, tag: int) -> list[dict[str, str]]:
    """A system prompt and earlier turns adding up to about `tokens` tokens."""
    messages = [{"role": "system", "content": f"Session {tag}. You answer about lighthouses."}]
    turn = 0
    while len(engine.render(messages)) < tokens:
        fact = FACTS[turn % len(FACTS)]
        messages.append({"role": "user", "content": f"Tell me fact number {turn}."})
        messages.append({"role": "assistant", "content": f"Fact {turn}: {fact} " * 2})
        turn += 1
    return messages


async def first_token(engine: LocalEngine, messages: list[dict[str, str]]) -> tuple[float, str]:
    """Seconds to the first text, and the whole answer."""
    started = time.perf_counter()
    generation = engine.submit(
        engine.render(messages), [SamplingParams(temperature=0.7, max_tokens=32)]
    )
    ttft = 0.0
    text = ""
    async for _, event in generation.events():
        if isinstance(event, TextDelta) and event.text:
            ttft = ttft or time.perf_counter() - started
            text += event.text
    return ttft, text


async def conversation(engine: LocalEngine, tokens: int, tag: int) -> tuple[float, float]:
    messages = [*history(engine, tokens, tag), {"role": "user", "content": "Summarise it."}]
    first, answer = await first_token(engine, messages)
    messages += [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "Which fact do you like best?"},
    ]
    second, _ = await first_token(engine, messages)
    return first, second


async def main(repeats: int, tokens: int) -> dict[str, Any]:
    path = default_gguf_path()
    engines = {
        "cache on": LocalEngine(path, EngineSettings()),
        "cache off": LocalEngine(path, EngineSettings(prefix_cache=False)),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    try:
        for repeat in range(repeats):
            for name, engine in engines.items():
                runs[name].append(await conversation(engine, tokens, repeat))
    finally:
        for engine in engines.values():
            engine.close()
    report: dict[str, Any] = {"history_tokens": tokens, "repeats": repeats}
    for name, pairs in runs.items():
        first = statistics.median(p[0] for p in pairs)
        second = statistics.median(p[1] for p in pairs)
        report[name] = {
            "turn1_ttft_ms": round(first * 1000, 1),
            "turn2_ttft_ms": round(second * 1000, 1),
            "turn2_over_turn1": round(second / first, 3),
        }
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--history", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.repeats, args.history)), indent=2))
