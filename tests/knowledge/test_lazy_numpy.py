"""numpy loads on first use: a server start imports the knowledge modules but not numpy."""

from __future__ import annotations

import subprocess
import sys

_IMPORT_THEN_USE = """
import sys
import modelport.app, modelport.cli
before = sorted(name for name in sys.modules if name.startswith("numpy."))
from modelport.knowledge.embed import normalise
import numpy
vectors = normalise(numpy.array([[3.0, 4.0]], dtype=numpy.float32))
print(len(before), [round(float(v), 3) for v in vectors[0]])
"""


def test_numpy_waits_for_its_first_use() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_THEN_USE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded_before, vector = done.stdout.split(" ", 1)
    assert loaded_before == "0"  # nothing of numpy ran while the app was imported
    assert vector.strip() == "[0.6, 0.8]"  # and it works once used
