"""A fake SearxNG (recorded JSON responses) and a fake web of pages, both on loopback."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

DATA = Path(__file__).parent / "recorded"
HUGE_PAGE_BYTES = 200 * 1024 * 1024  # generated lazily, only as far as it is read
SLOW_SECONDS = 3.0
# query keyword -> recorded SearxNG response (recorded/searxng/<name>.json)
SCENARIOS = {"metadata": "hostile", "catalogue": "heavy", "archived": "unparsable"}


@dataclass
class WebState:
    """What the fakes saw: page hits by path, SearxNG queries, bytes of the huge page sent."""

    hits: Counter[str] = field(default_factory=Counter)
    queries: list[str] = field(default_factory=list)
    huge_bytes_sent: int = 0

    def reset(self) -> None:
        self.hits.clear()
        self.queries.clear()
        self.huge_bytes_sent = 0


def _page(name: str, media_type: str = "text/html; charset=utf-8") -> Response:
    return Response((DATA / "pages" / name).read_bytes(), media_type=media_type)


def pages_app(state: WebState) -> Starlette:
    async def count(request: Request) -> None:
        state.hits[request.url.path] += 1

    async def observatory(request: Request) -> Response:
        await count(request)
        return _page("observatory.html")

    async def mirror(request: Request) -> Response:
        await count(request)
        return _page("mirror.html")

    async def notes(request: Request) -> Response:
        await count(request)
        return _page("notes.txt", "text/plain; charset=utf-8")

    async def huge(request: Request) -> Response:
        await count(request)

        async def body() -> AsyncIterator[bytes]:
            row = b"<p>Telescope catalogue row: refractor, reflector, catadioptric.</p>\n"
            block = row * (65536 // len(row))
            yield b"<html><body><h1>Catalogue</h1>"
            while state.huge_bytes_sent < HUGE_PAGE_BYTES:
                # Stop once the reader hangs up (uvicorn would go on accepting writes).
                if await request.is_disconnected():
                    return
                state.huge_bytes_sent += len(block)
                yield block

        return StreamingResponse(body(), media_type="text/html")

    async def pdf(request: Request) -> Response:
        await count(request)
        return Response(b"%PDF-1.4\n% secret catalogue bytes\n" * 100, media_type="application/pdf")

    async def png(request: Request) -> Response:
        await count(request)
        return Response(b"\x89PNG\r\n\x1a\n" + b"\0" * 4096, media_type="image/png")

    async def slow(request: Request) -> Response:
        await count(request)
        await asyncio.sleep(SLOW_SECONDS)
        return _page("observatory.html")

    async def go(request: Request) -> Response:
        await count(request)
        targets = {
            "metadata": "http://169.254.169.254/latest/meta-data/",
            "loopback6": f"http://[::1]:{request.url.port}/gazette/observatory.html",
            "file": "file:///etc/passwd",
            "loop": "/go/loop",
            "observatory": "/gazette/observatory.html",
            # Locations httpx cannot parse (InvalidURL, a bare ValueError) or httpcore cannot
            "octal": "http://0177.0.0.1/",
            "broken": "http:////[x",
            "port": "http://127.0.0.1:99999/",
        }
        return RedirectResponse(targets[request.path_params["name"]], status_code=302)

    return Starlette(
        routes=[
            Route("/gazette/observatory.html", observatory),
            Route("/optics/mirror.html", mirror),
            Route("/notes.txt", notes),
            Route("/huge.html", huge),
            Route("/catalogue.pdf", pdf),
            Route("/telescope.png", png),
            Route("/slow.html", slow),
            Route("/go/{name}", go),
        ]
    )


def searxng_app(state: WebState, pages_url: str) -> Starlette:
    """`GET /search?q=…&format=json` answered from recorded responses, pointed at `pages_url`.

    Queries containing "explode" get HTTP 500, "stall" an answer after SLOW_SECONDS, and
    requests without format=json the 403 a real instance gives when JSON is disabled.
    """

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        state.queries.append(query)
        if request.query_params.get("format") != "json":
            return PlainTextResponse("Forbidden", status_code=403)
        if "explode" in query:
            return PlainTextResponse("Internal Server Error", status_code=500)
        if "stall" in query:
            await asyncio.sleep(SLOW_SECONDS)
        name = next((v for k, v in SCENARIOS.items() if k in query.lower()), "observatory")
        raw = (DATA / "searxng" / f"{name}.json").read_text()
        netloc = pages_url.split("://", 1)[1]
        raw = raw.replace("{pages}", pages_url).replace("{pages_netloc}", netloc)
        recorded = json.loads(raw)
        recorded["query"] = query
        return JSONResponse(recorded)

    return Starlette(routes=[Route("/search", search)])
