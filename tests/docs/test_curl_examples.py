"""Every curl example in README.md and docs/ runs as pasted against a live server.

Each page's `sh` blocks that call curl run in order, in one shell, in the directory whose
`data/` is the server's data dir (so `$(cat data/admin_key)` is the admin key), with the
documented address pointed at the test server. `curl` fails on an HTTP error status, so an
example that no longer works fails the test, with its output.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningServer, run_server

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^ *```(?:sh|bash)\n(.*?)^ *```", re.S | re.M)
# An HTTP error status fails the example; a hung one fails after two minutes.
PRELUDE = """set -eo pipefail
curl() { command curl --fail-with-body --max-time 120 "$@"; }
"""


def curl_blocks(page: Path) -> list[str]:
    return [block for block in BLOCK.findall(page.read_text()) if "curl " in block]


def test_the_pages_have_examples() -> None:
    """The extraction itself: the pages that document the API are found, with their blocks."""
    with_examples = {page.name for page in PAGES if curl_blocks(page)}
    assert {"README.md", "platform.md", "knowledge-bases.md"} <= with_examples, with_examples


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("docs") / "data") as running:
        yield running


@pytest.mark.parametrize(
    "page", [p for p in PAGES if curl_blocks(p)], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_curl_examples_run_as_pasted(server: RunningServer, page: Path) -> None:
    address = server.base_url.removeprefix("http://")
    script = "\n".join(curl_blocks(page))
    script = script.replace("localhost:8000", address).replace("127.0.0.1:8000", address)
    done = subprocess.run(
        ["bash", "-c", PRELUDE + script],
        cwd=server.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{page.name}:\n{done.stdout[-3000:]}\n{done.stderr[:3000]}"
