"""The pulled models: `<models dir>/<file>.gguf`, each with a `<file>.gguf.json` record of
where it came from and its SHA-256; partial downloads wait in `<models dir>/.downloads/`."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .download import PullError

RECORD_SUFFIX = ".json"
DOWNLOADS = ".downloads"


@dataclass(frozen=True)
class PulledModel:
    name: str  # the file name without `.gguf`
    path: Path
    size: int
    sha256: str
    origin: str


def default_models_dir() -> Path:
    """`$MODELPORT_MODELS_DIR`, else `<data_dir>/models` (`data_dir` from the settings)."""
    explicit = os.environ.get("MODELPORT_MODELS_DIR")
    if explicit:
        return Path(explicit)
    from ..settings import Settings

    return Settings().data_dir / "models"


def partial_path(models_dir: Path, sha256: str) -> Path:
    """Where a download of the file with this SHA-256 waits until it is whole and checked."""
    return models_dir / DOWNLOADS / f"{sha256}.part"


def write_record(path: Path, sha256: str, origin: str) -> PulledModel:
    model = PulledModel(path.name.removesuffix(".gguf"), path, path.stat().st_size, sha256, origin)
    record = {"sha256": sha256, "origin": origin, "size": model.size}
    tmp = path.with_name(path.name + RECORD_SUFFIX + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path.with_name(path.name + RECORD_SUFFIX))
    return model


def read_model(path: Path) -> PulledModel:
    record: dict[str, object] = {}
    with contextlib.suppress(OSError, ValueError):
        record = json.loads(path.with_name(path.name + RECORD_SUFFIX).read_text("utf-8"))
    return PulledModel(
        name=path.name.removesuffix(".gguf"),
        path=path,
        size=path.stat().st_size,
        sha256=str(record.get("sha256", "")),
        origin=str(record.get("origin", "")),
    )


def list_models(models_dir: Path) -> list[PulledModel]:
    if not models_dir.is_dir():
        return []
    return [read_model(p) for p in sorted(models_dir.glob("*.gguf")) if p.is_file()]


def find_model(models_dir: Path, name: str) -> PulledModel:
    """A pulled model by name (with or without `.gguf`)."""
    path = models_dir / (name if name.endswith(".gguf") else f"{name}.gguf")
    if "/" in name or "\\" in name or not path.is_file():
        raise PullError(f"no pulled model {name!r} in {models_dir}")
    return read_model(path)


def remove_model(models_dir: Path, name: str) -> PulledModel:
    model = find_model(models_dir, name)
    model.path.unlink()
    model.path.with_name(model.path.name + RECORD_SUFFIX).unlink(missing_ok=True)
    model.path.with_name(model.path.name + ".NOTICE").unlink(missing_ok=True)
    return model


def already_pulled(dest: Path, sha256: str, size: int) -> PulledModel | None:
    """The model at `dest` if it is there with this SHA-256 (as recorded) and size."""
    if not dest.is_file():
        return None
    model = read_model(dest)
    if model.sha256 == sha256 and model.size == size:
        return model
    return None


PULLED = "pulled:"


def resolve_model_path(model_path: str, data_dir: Path) -> str:
    """A catalogue `model_path`: `pulled:NAME` is a model pulled into the models directory
    (`$MODELPORT_MODELS_DIR`, else `<data_dir>/models`); anything else is a file path."""
    if not model_path.startswith(PULLED):
        return model_path
    explicit = os.environ.get("MODELPORT_MODELS_DIR")
    models_dir = Path(explicit) if explicit else data_dir / "models"
    name = model_path.removeprefix(PULLED)
    try:
        return str(find_model(models_dir, name).path)
    except PullError as exc:
        raise PullError(f"{exc} (model_path {model_path!r}; modelport pull it first)") from None
