"""numpy, imported by the first attribute read rather than at import.

Only knowledge bases and embeddings compute with it, yet their modules are imported by every
server start; numpy's own import was ~0.3 s of a ~2.3 s start to the first answer on a slow
host. `np` here stands in for the module: the first attribute read imports numpy through the
import system (whose per-module lock makes a first use from several threads safe, unlike
importlib's LazyLoader on Python 3.11) and copies its namespace in, so later reads are plain
lookups. `sys.modules` is left alone. Type checkers see plain numpy.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

__all__ = ["np"]


class _OnFirstUse:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        # Only reached for what the instance does not hold yet: everything before the first
        # import, and afterwards what numpy makes on demand (its lazily loaded submodules).
        module: ModuleType = importlib.import_module(self._name)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


if TYPE_CHECKING:
    import numpy as np
else:
    np = _OnFirstUse("numpy")
