"""`modelport chat`: stream an answer from a running server to the terminal."""

from __future__ import annotations

import json
import sys

import httpx

from ..settings import Settings


def default_key() -> str | None:
    path = Settings().data_dir / "admin_key"
    return path.read_text().strip() if path.exists() else None


def stream_answer(
    question: str, model: str | None, base_url: str, api_key: str | None, max_tokens: int
) -> int:
    key = api_key or default_key()
    if not key:
        print("no API key: pass --api-key or set MODELPORT_API_KEY", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(
        base_url=base_url, headers=headers, timeout=httpx.Timeout(10, read=300)
    ) as client:
        if model is None:
            listing = client.get("/models")
            if listing.status_code != 200:
                print(listing.text, file=sys.stderr)
                return 1
            model = listing.json()["data"][0]["id"]
        body = {
            "model": model,
            "messages": [{"role": "user", "content": question}],
            "stream": True,
            "max_tokens": max_tokens,
        }
        with client.stream("POST", "/chat/completions", json=body) as response:
            if response.status_code != 200:
                response.read()
                print(response.text, file=sys.stderr)
                return 1
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                event = json.loads(data)
                if "error" in event:
                    print(f"\nerror: {event['error']['message']}", file=sys.stderr)
                    return 1
                for choice in event.get("choices", []):
                    sys.stdout.write(choice.get("delta", {}).get("content") or "")
                    sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


__all__ = ["stream_answer"]
