from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from modelport.accounting.keys import (
    ADMIN_KEY_FILE,
    BOOTSTRAP_KEY_ID,
    KeyStore,
    ensure_bootstrap_admin,
)
from modelport.storage.db import Database


async def test_first_start_creates_an_admin_key_file(db: Database, tmp_path: Path) -> None:
    store = KeyStore(db)
    data_dir = tmp_path / "state"
    raw = await ensure_bootstrap_admin(store, data_dir)
    assert raw is not None
    key_file = data_dir / ADMIN_KEY_FILE
    assert key_file.read_text().strip() == raw
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in data_dir.iterdir()] == [ADMIN_KEY_FILE]  # no temp file left
    record = await store.authenticate(raw)
    assert record is not None and record.is_admin
    assert record.owner == BOOTSTRAP_KEY_ID  # a tenant of its own, like any owner-less key


async def test_bootstrap_runs_once(db: Database, tmp_path: Path) -> None:
    store = KeyStore(db)
    first = await ensure_bootstrap_admin(store, tmp_path)
    assert first is not None
    assert await ensure_bootstrap_admin(store, tmp_path) is None
    assert (tmp_path / ADMIN_KEY_FILE).read_text().strip() == first
    assert await store.count() == 1


async def test_no_bootstrap_when_keys_already_exist(db: Database, tmp_path: Path) -> None:
    store = KeyStore(db)
    await store.create("ci", "alice")
    assert await ensure_bootstrap_admin(store, tmp_path) is None
    assert not (tmp_path / ADMIN_KEY_FILE).exists()


async def test_processes_starting_together_make_one_admin_key(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    # Separate engines stand in for separate processes sharing the database.
    others = [Database(db_url) for _ in range(3)]
    try:
        stores = [KeyStore(d) for d in [db, *others]]
        results = await asyncio.gather(
            *(ensure_bootstrap_admin(s, tmp_path / f"p{i}") for i, s in enumerate(stores))
        )
    finally:
        for d in others:
            await d.dispose()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await stores[0].count() == 1
    key_files = _find(tmp_path, ADMIN_KEY_FILE)
    assert len(key_files) == 1 and key_files[0].read_text().strip() == winners[0]
    assert not _find(tmp_path, f".{ADMIN_KEY_FILE}*")  # losers cleaned up their temp files


def _find(root: Path, pattern: str) -> list[Path]:
    return list(root.rglob(pattern))
