"""A channel change reaches every replica within 2 s: on PostgreSQL with Redis announcing it,
and by the database's change stamp alone (PostgreSQL without Redis, two processes on one
SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.channels.runtime_support import GOOD, channel_body, chat, settings_for, wait_for
from tests.fakes.openai_upstream import create_app as create_openai
from tests.fakes.server import serve_asgi
from tests.support.postgres import create_database, drop_database
from tests.support.server import RunningServer, run_server

REDIS_URL = "redis://127.0.0.1:6379/0"
# The stamp poll alone must make the bound; a slow poll shows Redis doing the work.
POLL = {"with-redis": 30.0, "postgres-stamp": 1.0, "sqlite-stamp": 1.0}


@contextmanager
def two_replicas(kind: str, tmp: Path) -> Iterator[tuple[RunningServer, RunningServer, str]]:
    vendor = create_openai(keys=frozenset(GOOD))
    with ExitStack() as stack:
        url = stack.enter_context(serve_asgi(vendor)) + "/v1"
        config = settings_for(url, channels={"poll_seconds": POLL[kind], "probe_seconds": 0})
        env: dict[str, str] = {}
        if kind != "sqlite-stamp":
            name, db_url = create_database("modelport_replicas")
            stack.callback(drop_database, name)
            env["MODELPORT_DATABASE_URL"] = db_url
        else:  # both processes on the first one's database file
            db_file = (tmp / "a" / "modelport.db").resolve()
            env["MODELPORT_DATABASE_URL"] = f"sqlite+aiosqlite:///{db_file}"
        if kind == "with-redis":
            env["MODELPORT_REDIS_URL"] = REDIS_URL
        a = stack.enter_context(run_server(tmp / "a", config=config, env=env))
        b = stack.enter_context(run_server(tmp / "b", config=config, env=env))
        yield a, b, url


@pytest.mark.parametrize("kind", list(POLL))
def test_a_change_reaches_the_other_replica_within_two_seconds(kind: str, tmp_path: Path) -> None:
    with two_replicas(kind, tmp_path) as (a, b, url):
        admin = {"Authorization": f"Bearer {a.admin_key}"}
        assert chat(b.base_url, a.admin_key, "rt-chat").status_code == 404
        created = httpx.post(a.base_url + "/admin/channels", headers=admin, json=channel_body(url))
        assert created.status_code == 201
        channel_id = created.json()["id"]
        took = wait_for(lambda: chat(b.base_url, a.admin_key, "rt-chat").status_code == 200, 5)
        assert took < 2.0
        switched = httpx.patch(
            f"{a.base_url}/admin/channels/{channel_id}", headers=admin, json={"status": "disabled"}
        )
        assert switched.status_code == 200
        took = wait_for(lambda: chat(b.base_url, a.admin_key, "rt-chat").status_code == 404, 5)
        assert took < 2.0
        listed = httpx.get(b.base_url + "/admin/channels", headers=admin).json()["data"]
        assert [c["status"] for c in listed if c["id"] == channel_id] == ["disabled"]
