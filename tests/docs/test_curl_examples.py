"""Every curl example in README.md and docs/ runs as pasted against a live server.

Each page's `sh` blocks that call curl run in order, in one shell, in the directory whose
`data/` is the server's data dir (so `$(cat data/admin_key)` is the admin key), with the
documented address pointed at the test server. The server has the default catalogue and the
products the pages configure (image models, a Midjourney channel), on fakes of the vendors.
`curl` fails on an HTTP error status, so an example that no longer works fails the test, with
its output.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.midjourney import SECRET as MJ_SECRET
from tests.fakes.midjourney import FakeMidjourney
from tests.fakes.openai_images import create_app as create_images
from tests.fakes.sd_webui import AUTH as SD_AUTH
from tests.fakes.sd_webui import create_app as create_sd
from tests.fakes.server import serve_asgi
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


def products(images_url: str, sd_url: str, mj_url: str) -> dict[str, Any]:
    """The products the pages configure (images.md, midjourney.md), on fakes of the vendors."""
    dalle = {"provider": "openai_images", "base_url": images_url, "api_key": "sk-img-1"}
    return {
        "images": [
            {
                "name": "dall-e-3",
                "sizes": ["1024x1024", "1792x1024"],
                "max_n": 1,
                "edits": False,
                "price": {"1024x1024": {"standard": 0.04, "hd": 0.08}},
                "channels": [dalle | {"upstream_model": "dall-e-3"}],
            },
            {
                "name": "sd-local",
                "price": 0.002,
                "sizes": ["512x512", "768x512"],
                "channels": [{"provider": "sd_webui", "base_url": sd_url, "api_key": SD_AUTH}],
            },
        ],
        "midjourney": {
            "poll_seconds": 0.5,
            "channels": [{"name": "mj-1", "base_url": mj_url, "api_secret": MJ_SECRET}],
        },
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    midjourney = FakeMidjourney(auto=True)
    with (
        serve_asgi(create_images()) as images_url,
        serve_asgi(create_sd()) as sd_url,
        serve_asgi(midjourney.app()) as mj_url,
    ):
        midjourney.base_url = mj_url
        config = products(images_url + "/v1", sd_url, mj_url)
        with run_server(tmp_path_factory.mktemp("docs") / "data", config=config) as running:
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
