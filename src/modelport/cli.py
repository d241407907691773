"""`modelport`: serve, chat from the terminal, manage keys."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from .cli_kb import kb_app
from .cli_keys import keys_app

app = typer.Typer(
    name="modelport", help="An OpenAI-compatible LLM API platform.", no_args_is_help=True
)
app.add_typer(keys_app)
app.add_typer(kb_app)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the database and files live.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    log_level: Annotated[
        str | None,
        typer.Option(help="Log level of the server and its access lines (default: info)."),
    ] = None,
) -> None:
    """Start the API server (the embedded model is loaded before it accepts requests)."""
    # Workers build their own app from the environment, so options travel through it.
    if log_level is not None:
        os.environ["MODELPORT_LOG_LEVEL"] = log_level
    if config is not None:
        os.environ["MODELPORT_CONFIG"] = str(config)
    if data_dir is not None:
        os.environ["MODELPORT_DATA_DIR"] = str(data_dir)
    metrics_dir = _multiprocess_metrics_dir() if workers > 1 else None
    try:
        _run_uvicorn(host, port, workers, (log_level or "info").lower())
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _multiprocess_metrics_dir() -> str | None:
    """Workers add up their Prometheus metrics in one directory (prometheus-client's
    multiprocess mode); it must be set before they start. None when the user set their own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="modelport-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


KEEP_ALIVE_SECONDS = 75  # nginx's default for idle client connections


def _run_uvicorn(host: str, port: int, workers: int, log_level: str) -> None:
    import uvicorn

    uvicorn.run(
        "modelport.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=5,
        # Longer than clients keep idle pooled connections (httpx, hence the OpenAI SDK: 5 s,
        # uvicorn's own default too): the client drops an idle connection first, instead of
        # both closing and reusing it at the same moment ("Server disconnected without
        # sending a response" on the next request).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,  # the app writes its own access lines, as JSON with the request id
        # Nothing reads the client's address, so uvicorn's X-Forwarded-For layer would only
        # add a coroutine to every request.
        proxy_headers=False,
    )


@app.command()
def chat(
    question: Annotated[str, typer.Argument(help="What to ask.")],
    model: Annotated[
        str | None, typer.Option(help="Model name (default: the first served).")
    ] = None,
    base_url: Annotated[
        str, typer.Option(envvar="MODELPORT_BASE_URL")
    ] = "http://127.0.0.1:8000/v1",
    api_key: Annotated[str | None, typer.Option(envvar="MODELPORT_API_KEY")] = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 256,
) -> None:
    """Ask a running server a question and stream the answer to the terminal."""
    from .cli_chat import stream_answer

    raise typer.Exit(stream_answer(question, model, base_url, api_key, max_tokens))


def main() -> None:
    app()
