"""`make bench`: run every bench script in turn (each prints ratios against its own baseline).

The long soak is left out unless asked for (`--with-soak`); pass `--only NAME` to run one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LONG = {"soak.py"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", default=[], help="script name, e.g. kb_bench")
    parser.add_argument("--with-soak", action="store_true")
    args = parser.parse_args()
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only}
        scripts = [p for p in scripts if p.stem in wanted]
    elif not args.with_soak:
        scripts = [p for p in scripts if p.name not in LONG]
    failed = 0
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.name}: exit {result.returncode} in {time.monotonic() - started:.0f}s")
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
