"""A fake Hugging Face hub and a fake ModelScope, following the hubs' conventions.

Hugging Face: `GET /api/models/ORG/REPO/tree/REV` lists files (`lfs: {oid: sha256, size}`);
`/ORG/REPO/resolve/REV/PATH` answers 302 to a CDN URL with `X-Repo-Commit`, `ETag`,
`X-Linked-Etag` and `X-Linked-Size`; the CDN honours `Range: bytes=N-` with 206.
ModelScope: `GET /api/v1/models/ORG/REPO/repo/files?Recursive=true` lists files (`Sha256`,
`Size`), and `GET /api/v1/models/ORG/REPO/repo?Revision=…&FilePath=…` serves one.

`cut_after`: the first download response stops after that many bytes (the connection drops
with the body incomplete); `corrupt`: the bytes served differ from the listed SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FakeHubs:
    hf: dict[str, dict[str, bytes]] = field(default_factory=dict)  # repo -> path -> bytes
    modelscope: dict[str, dict[str, bytes]] = field(default_factory=dict)
    cut_after: int | None = None
    corrupt: bool = False
    ranges: list[str | None] = field(default_factory=list)  # each download's Range header
    requests: list[str] = field(default_factory=list)  # each request's method and path

    def _blob(self, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 0xFF]) if self.corrupt else data

    def serve_bytes(self, request: Request, data: bytes) -> Response:
        """The file, or its tail for `Range: bytes=N-` (206); cut short once if asked."""
        header = request.headers.get("range")
        self.ranges.append(header)
        data = self._blob(data)
        start, status, headers = 0, 200, {"Accept-Ranges": "bytes"}
        if header:
            start = int(header.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                return Response(status_code=416, headers={"Content-Range": f"bytes */{len(data)}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if self.cut_after is not None:
            cut, self.cut_after = self.cut_after, None
            return _CutResponse(body, cut, status, headers)
        return Response(body, status_code=status, headers=headers)


class _CutResponse(Response):
    """Announces the whole body, sends `cut` bytes of it, and returns: the server drops the
    connection with the response incomplete."""

    def __init__(self, body: bytes, cut: int, status: int, headers: dict[str, str]) -> None:
        super().__init__(body, status_code=status, headers=headers)
        self.cut = cut

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body[: self.cut], "more_body": True})


def _not_found(code: str, status: int = 404) -> Response:
    return JSONResponse({"error": code}, status_code=status, headers={"X-Error-Code": code})


def make_app(hubs: FakeHubs) -> Starlette:
    async def hf_tree(request: Request) -> Response:
        repo = f"{request.path_params['org']}/{request.path_params['repo']}"
        hubs.requests.append(f"GET {request.url.path}")
        if repo not in hubs.hf:
            return _not_found("RepoNotFound", 401)
        listing: list[dict[str, Any]] = []
        for path, data in hubs.hf[repo].items():
            entry: dict[str, Any] = {
                "type": "file",
                "path": path,
                "size": len(data),
                "oid": hashlib.sha1(data).hexdigest(),
            }
            if path.endswith(".gguf"):
                entry["lfs"] = {"oid": sha256(data), "size": len(data), "pointerSize": 134}
            listing.append(entry)
        return JSONResponse(listing)

    async def hf_resolve(request: Request) -> Response:
        repo = f"{request.path_params['org']}/{request.path_params['repo']}"
        path = request.path_params["path"]
        hubs.requests.append(f"{request.method} {request.url.path}")
        if repo not in hubs.hf:
            return _not_found("RepoNotFound", 401)
        if path not in hubs.hf[repo] or request.path_params["rev"] not in ("main", COMMIT):
            return _not_found("EntryNotFound")
        data = hubs.hf[repo][path]
        digest = sha256(data)
        return Response(
            status_code=302,
            headers={
                "Location": f"/cdn/{digest}",
                "X-Repo-Commit": COMMIT,
                "ETag": f'"{digest}"',
                "X-Linked-Etag": f'"{digest}"',
                "X-Linked-Size": str(len(data)),
            },
        )

    async def cdn(request: Request) -> Response:
        hubs.requests.append(f"GET {request.url.path}")
        key = request.path_params["key"]
        for files in hubs.hf.values():
            for data in files.values():
                if sha256(data) == key:
                    return hubs.serve_bytes(request, data)
        return Response(status_code=404)

    async def ms_files(request: Request) -> Response:
        repo = f"{request.path_params['org']}/{request.path_params['repo']}"
        hubs.requests.append(f"GET {request.url.path}")
        if repo not in hubs.modelscope:
            return JSONResponse(
                {"Code": 10010205001, "Message": "model not found", "Success": False},
                status_code=404,
            )
        files = [
            {
                "Name": p.rsplit("/", 1)[-1],
                "Path": p,
                "Type": "blob",
                "Size": len(d),
                "Sha256": sha256(d),
                "Revision": COMMIT,
            }
            for p, d in hubs.modelscope[repo].items()
        ]
        return JSONResponse({"Code": 200, "Data": {"Files": files}, "Success": True})

    async def ms_file(request: Request) -> Response:
        repo = f"{request.path_params['org']}/{request.path_params['repo']}"
        hubs.requests.append(f"GET {request.url.path}")
        path = request.query_params.get("FilePath", "")
        if path not in hubs.modelscope.get(repo, {}):
            return JSONResponse({"Code": 404, "Message": "file not found"}, status_code=404)
        return hubs.serve_bytes(request, hubs.modelscope[repo][path])

    return Starlette(
        routes=[
            Route("/api/models/{org}/{repo}/tree/{rev}", hf_tree),
            Route("/api/v1/models/{org}/{repo}/repo/files", ms_files),
            Route("/api/v1/models/{org}/{repo}/repo", ms_file),
            Route("/cdn/{key}", cdn),
            Route("/{org}/{repo}/resolve/{rev}/{path:path}", hf_resolve, methods=["GET", "HEAD"]),
        ]
    )
