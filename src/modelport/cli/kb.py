"""`modelport kb …`: knowledge bases on a running server (create, ls, rm, add files, search)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .chat import default_key

kb_app = typer.Typer(name="kb", help="Manage knowledge bases on a running server.")
out = Console()
err = Console(stderr=True)

BaseUrl = Annotated[str, typer.Option(envvar="MODELPORT_BASE_URL")]
ApiKey = Annotated[str | None, typer.Option(envvar="MODELPORT_API_KEY", show_default=False)]
DEFAULT_URL = "http://127.0.0.1:8000/v1"
# Progress per file: uploaded, attached, then the server's ingestion statuses.
_STEPS = {"upload": 1, "init": 2, "parsing": 3, "online": 4, "fail": 4}


@contextmanager
def _client(base_url: str, api_key: str | None) -> Iterator[httpx.Client]:
    key = api_key or default_key()
    if not key:
        err.print("no API key: pass --api-key or set MODELPORT_API_KEY")
        raise typer.Exit(2)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        yield client


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        err.print(f"[red]error {response.status_code}:[/red] {message}")
        raise typer.Exit(1)
    return response.json()


@kb_app.command()
def create(
    name: Annotated[str, typer.Argument(help="At most 50 characters.")],
    description: Annotated[str, typer.Option(help="At most 100 characters.")] = "",
    chunk_max_len: Annotated[int, typer.Option(min=1, max=512)] = 500,
    chunk_overlap_len: Annotated[int, typer.Option(min=0)] = 50,
    base_url: BaseUrl = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a knowledge base and print its id."""
    split = {"chunk_max_len": chunk_max_len, "chunk_overlap_len": chunk_overlap_len}
    body = {"name": name, "description": description, "split_config": split}
    with _client(base_url, api_key) as client:
        out.print(_ok(client.post("/kbs", json=body))["id"])


@kb_app.command("ls")
def list_kbs(base_url: BaseUrl = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """List your knowledge bases."""
    with _client(base_url, api_key) as client:
        kbs = _ok(client.get("/kbs"))["data"]
    table = Table("id", "name", "status", "files", "description")
    for kb in kbs:
        table.add_row(
            kb["id"], kb["name"], kb["status"], str(len(kb["file_ids"])), kb["description"]
        )
    out.print(table)


@kb_app.command("rm")
def remove(
    kb_ids: Annotated[list[str], typer.Argument(help="Knowledge bases to delete.")],
    base_url: BaseUrl = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Delete knowledge bases (their files stay; their chunks go)."""
    with _client(base_url, api_key) as client:
        for kb_id in kb_ids:
            _ok(client.delete(f"/kbs/{kb_id}"))
            out.print(f"deleted {kb_id}")


@kb_app.command()
def add(
    kb_id: Annotated[str, typer.Argument(help="The knowledge base.")],
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    wait: Annotated[bool, typer.Option(help="Wait until every file is online or failed.")] = True,
    base_url: BaseUrl = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Upload files, attach them, and follow their ingestion with a progress bar each."""
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[state]}"))
    with _client(base_url, api_key) as client, Progress(*columns, TimeElapsedColumn()) as bars:
        tasks: dict[str, TaskID] = {}
        for path in files:
            task = bars.add_task(path.name, total=4, state="uploading")
            with path.open("rb") as fh:
                uploaded = client.post(
                    "/files", files={"file": (path.name, fh)}, data={"purpose": "knowledge-base"}
                )
            tasks[_ok(uploaded)["id"]] = task
            bars.update(task, completed=_STEPS["upload"], state="uploaded")
        _ok(client.post(f"/kbs/{kb_id}/files", json={"file_ids": list(tasks)}))
        failed = _follow(client, kb_id, tasks, bars) if wait else 0
    if failed:
        raise typer.Exit(1)


def _follow(client: httpx.Client, kb_id: str, tasks: dict[str, TaskID], bars: Progress) -> int:
    """Poll the attachments' statuses until each is done; returns how many failed."""
    while True:
        listing = {f["id"]: f for f in _ok(client.get(f"/kbs/{kb_id}/files"))["data"]}
        done = failed = 0
        for file_id, task in tasks.items():
            info = listing.get(file_id, {"status": "fail", "reason": "detached"})
            status = info["status"]
            state = f"fail: {info.get('reason')}" if status == "fail" else status
            if status == "online":
                state = f"online ({info.get('chunks', 0)} chunks)"
            bars.update(task, completed=_STEPS.get(status, 2), state=state)
            done += status in ("online", "fail")
            failed += status == "fail"
        if done == len(tasks):
            return failed
        time.sleep(0.5)


@kb_app.command()
def search(
    kb_id: Annotated[str, typer.Argument(help="The knowledge base.")],
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option(min=1, max=20)] = 5,
    base_url: BaseUrl = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Show the passages a grounded answer would cite."""
    body = {"query": query, "top_k": top_k}
    with _client(base_url, api_key) as client:
        result = _ok(client.post(f"/kbs/{kb_id}/search", json=body))
    for n, hit in enumerate(result["data"], start=1):
        page = f" p.{hit['page']}" if hit.get("page") else ""
        out.print(f"[bold][{n}] {hit['filename']}{page}[/bold]  score {hit['score']:.3f}")
        out.print(hit["content"], markup=False)
    if result.get("pending_files"):
        out.print(f"({result['pending_files']} file(s) still ingesting, not searched)")
