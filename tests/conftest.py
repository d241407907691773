"""Fixtures shared across suites: a real server on the embedded model, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.support.postgres import create_database, drop_database
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`modelport serve` on a free port with the default embedded setup and a SQLite file."""
    with run_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The same server on a fresh PostgreSQL database."""
    name, url = create_database()
    try:
        env = {"MODELPORT_DATABASE_URL": url}
        with run_server(tmp_path_factory.mktemp("pg-server"), env=env) as running:
            yield running
    finally:
        drop_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def any_server(request: pytest.FixtureRequest) -> RunningServer:
    """Each test that takes this runs on both stores."""
    name = "server" if request.param == "sqlite" else "pg_server"
    running: RunningServer = request.getfixturevalue(name)
    return running


@pytest.fixture(scope="session")
def client(server: RunningServer) -> openai.OpenAI:
    """The official OpenAI SDK, unchanged, pointed at the server."""
    return openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)


@pytest.fixture(scope="session")
def model_name() -> str:
    return "smollm2-135m-instruct"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
