"""numpy loads on first use: a server start imports the knowledge modules but not numpy."""

from __future__ import annotations

import subprocess
import sys

_IMPORT_THEN_USE = """
import sys
import modelport.app, modelport.cli
before = sorted(name for name in sys.modules if name == "numpy" or name.startswith("numpy."))
from modelport.knowledge.embed import normalise
import numpy
vectors = normalise(numpy.array([[3.0, 4.0]], dtype=numpy.float32))
print(len(before), [round(float(v), 3) for v in vectors[0]])
"""

# Eight threads read numpy attributes through `np` at the same moment, before anything has
# imported numpy: each must get the real attribute.
_FIRST_USE_FROM_THREADS = """
import threading
from modelport.lazy_numpy import np
start = threading.Barrier(8)
seen = []
def use():
    start.wait()
    seen.append((np.float32(1.5) * 2, np.linalg.norm([3.0, 4.0])))
threads = [threading.Thread(target=use) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(set((float(a), float(b)) for a, b in seen)), len(seen))
"""


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_numpy_waits_for_its_first_use() -> None:
    loaded_before, vector = _run(_IMPORT_THEN_USE).split(" ", 1)
    assert loaded_before == "0"  # nothing of numpy ran while the app was imported
    assert vector == "[0.6, 0.8]"  # and it works once used


def test_a_first_use_from_several_threads_at_once() -> None:
    assert _run(_FIRST_USE_FROM_THREADS) == "[(3.0, 5.0)] 8"
