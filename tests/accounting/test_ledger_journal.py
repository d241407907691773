"""The write-behind ledger's journal: usage of answered requests survives a crash of the process."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from modelport.accounting.keys import KeyStore
from modelport.accounting.ledger_buffer import BufferedLedger
from modelport.accounting.ledger_journal import LedgerJournal, parse_rows
from modelport.accounting.usage import UsageEntry, UsageLedger, usage_row, write_rows
from modelport.storage.db import Database


def entry(key_id: str, n: int) -> UsageEntry:
    return UsageEntry(
        request_id=f"r{n}",
        key_id=key_id,
        owner="o",
        model="m",
        provider="local",
        prompt_tokens=10,
        completion_tokens=n,
    )


def die(ledger: BufferedLedger) -> None:
    """What the kernel does to a killed process: its tasks stop, its files and locks go."""
    assert ledger._task is not None
    ledger._task.cancel()
    journal = ledger._journal
    assert journal is not None
    for handle in [journal._current, *journal._closed]:
        handle.close()


async def test_rows_not_yet_written_are_replayed_after_a_crash(
    db: Database, tmp_path: Path
) -> None:
    _, key = await KeyStore(db).create("k", "o")
    crashed = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    for n in (1, 2, 3):
        await crashed.record(entry(key.id, n))
    assert (await UsageLedger(db).totals(key_id=key.id))["requests"] == 0  # nothing written yet
    die(crashed)
    restarted = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    assert await restarted.recover() == 3
    totals = await UsageLedger(db).totals(key_id=key.id)
    assert totals["requests"] == 3 and totals["completion_tokens"] == 6
    stored = await KeyStore(db, cache_ttl=0).get(key.id)
    assert stored is not None
    # The key's counters are booked with the replayed rows: 3 x 10 prompt + 1 + 2 + 3.
    assert (stored.used_tokens, stored.used_micros) == (36, 0)
    assert len(list(tmp_path.glob("*.jsonl"))) == 1  # only the new process's own segment
    await restarted.aclose()
    assert list(tmp_path.glob("*.jsonl")) == []  # a clean shutdown leaves nothing to replay


async def test_rows_committed_before_the_crash_are_not_booked_twice(
    db: Database, tmp_path: Path
) -> None:
    _, key = await KeyStore(db).create("k", "o")
    crashed = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    await crashed.record(entry(key.id, 5))
    await write_rows(db, list(crashed._rows))  # committed, but the segment was not yet dropped
    die(crashed)
    restarted = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    assert await restarted.recover() == 0
    assert (await UsageLedger(db).totals(key_id=key.id))["requests"] == 1
    stored = await KeyStore(db, cache_ttl=0).get(key.id)
    assert stored is not None and stored.used_tokens == 15  # 10 + 5, counted once
    await restarted.aclose()


async def test_a_live_process_segment_is_left_alone(db: Database, tmp_path: Path) -> None:
    _, key = await KeyStore(db).create("k", "o")
    alive = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    await alive.record(entry(key.id, 1))
    other = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    assert await other.recover() == 0  # its lock is held: that process still owns the rows
    await alive.aclose()  # and writes them itself
    assert (await UsageLedger(db).totals(key_id=key.id))["requests"] == 1
    await other.aclose()


async def test_flushed_rows_leave_the_journal_and_a_torn_line_is_skipped(
    db: Database, tmp_path: Path
) -> None:
    _, key = await KeyStore(db).create("k", "o")
    ledger = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    await ledger.record(entry(key.id, 1))
    await ledger.flush()
    (segment,) = tmp_path.glob("*.jsonl")  # the flushed segment is gone, a fresh one is open
    assert segment.read_bytes() == b""
    await ledger.record(entry(key.id, 2))
    with open(segment, "ab") as fh:  # a write cut short by the crash
        fh.write(b'{"id": "use_torn", "key_i')
    die(ledger)
    restarted = BufferedLedger(db, interval=3600, journal=LedgerJournal(tmp_path))
    assert await restarted.recover() == 1
    assert (await UsageLedger(db).totals(key_id=key.id))["requests"] == 2
    await restarted.aclose()
    await asyncio.sleep(0)


_KILLED_MID_BATCH = """
import os, signal, sys
from pathlib import Path
from modelport.accounting.ledger_journal import LedgerJournal, parse_rows
journal = LedgerJournal(Path(sys.argv[1]))
for n in range(3):
    journal.append({"id": f"use_{n}", "created_at": "2026-01-01T00:00:00+00:00", "n": n})
os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush, no exit handlers
"""


def test_rows_outlive_a_killed_process(tmp_path: Path) -> None:
    """Each row is in the kernel once `append` returns: a SIGKILL right after loses none."""
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_BATCH, str(tmp_path)])
    assert killed.returncode == -signal.SIGKILL
    (segment,) = tmp_path.glob("*.jsonl")
    assert [row["n"] for row in parse_rows(segment.read_bytes())] == [0, 1, 2]


def test_row_round_trips_through_the_journal(tmp_path: Path) -> None:
    row = usage_row(entry("key_x", 3))
    journal = LedgerJournal(tmp_path)
    journal.append(row)
    (path,) = tmp_path.glob("*.jsonl")
    assert parse_rows(path.read_bytes()) == [row]
    journal.close()
