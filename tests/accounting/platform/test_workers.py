"""`modelport serve --workers N`: several processes on one port, metrics summed across them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.accounting.platform.conftest import Platform, platform_config, settled_usage
from tests.accounting.platform.test_observability import _metric
from tests.support.server import run_server


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, upstream_url: str) -> Iterator[Platform]:
    config = platform_config(upstream_url, local=False)
    data = tmp_path_factory.mktemp("workers")
    with run_server(data, config=config, extra_args=["--workers", "2"]) as running:
        yield Platform(running)


def test_two_workers_serve_and_share_metrics(two_workers: Platform) -> None:
    p = two_workers
    workers = [c for c in _children(p.server.process.pid) if Path(f"/proc/{c}/cmdline").exists()]
    assert len(workers) >= 2, workers  # uvicorn's supervisor runs one process per worker
    key = p.new_key()
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: p.chat(key["key"], max_tokens=1).status_code, range(12)))
    assert statuses == [200] * 12
    route = "/v1/chat/completions"
    # A request is observed just after its last byte is sent: give the workers a moment.
    deadline = time.monotonic() + 5
    while True:
        text = p.http.get("/metrics").text
        seen = _metric(text, "modelport_requests_total", route=route, status="200")
        if seen >= 12 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert seen == 12
    # Each process writes its ledger in batches: wait for theirs, then check nothing more came.
    assert settled_usage(p, key["id"], 12)["requests"] == 12
