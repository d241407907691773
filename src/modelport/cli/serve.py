"""`modelport serve`: check the configuration, then run the app on uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from ..providers.registry import ChannelConfigError, check_catalogue
from ..settings import Settings


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
    problem = config_problem()
    if problem is not None:
        typer.echo(f"modelport: {problem}", err=True)
        raise typer.Exit(2)
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

    from ..api.bounded_head import BoundedHeadProtocol

    uvicorn.run(
        "modelport.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        loop="uvloop",
        # uvicorn's httptools protocol, with bounds on a request head's size and time
        http=BoundedHeadProtocol,
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


def config_problem() -> str | None:
    """What is wrong with the configuration (the file, model, channel and field), or None."""
    path = os.environ.get("MODELPORT_CONFIG") or "the environment"
    try:
        settings = Settings()
        check_catalogue(settings.models)
    except ChannelConfigError as exc:
        return f"{path}: {exc}"
    except ValidationError as exc:
        error = exc.errors()[0]
        return f"{path}: {_where(error['loc'], path)}: {error['msg']}"
    except (OSError, yaml.YAMLError, ValueError) as exc:
        return f"{path}: {exc}"
    return None


def _where(loc: tuple[int | str, ...], path: str) -> str:
    """A validation error's location, with the model named (`models.3` → `model 'gpt-4'`)."""
    if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
        name = _model_name(path, loc[1])
        rest = loc[2:]
        where = f"model '{name}'" if name else f"model {loc[1]}"
        if len(rest) >= 2 and rest[0] == "channels":
            where += f", channel {rest[1]}"
            rest = rest[2:]
        return where + (": " + ".".join(str(part) for part in rest) if rest else "")
    return ".".join(str(part) for part in loc)


def _model_name(path: str, index: int) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data: Any = yaml.safe_load(fh)
        name = data["models"][index]["name"]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        return None
    return str(name)
