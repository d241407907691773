"""The gateway benchmark: runs `gateway_overhead.py` (same-run
aiohttp pass-through baseline, alternating rounds). Same arguments."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_overhead import main

if __name__ == "__main__":
    main()
