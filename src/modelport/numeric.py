"""numpy, loaded on first use rather than at import.

Only knowledge bases and embeddings compute with it, yet their modules are imported by every
server start; numpy's own import was ~0.3 s of a ~2.3 s start to the first answer on a slow
host. This is the lazy-import recipe of the `importlib` docs: the module object is in place at
once and runs numpy's import when an attribute is first read. Type checkers see plain numpy.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["np"]


def _lazy(name: str) -> ModuleType:
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import numpy as np
else:
    np = _lazy("numpy")
