"""A write-behind ledger: the hot path appends to memory, a background task writes batches.

Each usage row costs a database transaction when written on its own (about 3 ms of CPU with
SQLite through aiosqlite, more than the whole proxy path). Batched, one transaction carries
every row of the last `interval` seconds and one counter update per key. Until a row is
written its request's quota hold stays in place (`reservations.py`), so quotas stay exact
while rows wait; readers of the ledger call `flush()` first. With a journal
(`ledger_journal.py`), rows not yet written survive a crash of the process and are replayed
by `recover()` at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import select

from ..storage.db import Database
from ..storage.tables import UsageRecord
from .ledger_journal import LedgerJournal
from .usage import UsageEntry, UsageLedger, usage_row, write_rows

PROGRESS = "progress"  # marks a journal row as a stream's progress, not its final row

log = logging.getLogger("modelport.accounting")

MAX_BUFFERED = 100_000  # rows held while the database is unreachable, then the oldest go


class BufferedLedger(UsageLedger):
    def __init__(
        self,
        db: Database,
        interval: float = 0.1,
        batch: int = 500,
        journal: LedgerJournal | None = None,
    ) -> None:
        super().__init__(db)
        self._journal = journal
        self._interval = interval
        self._batch = batch
        self._rows: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._progress: dict[str, dict[str, Any]] = {}  # request id → its last progress row

    def progress(self, entry: UsageEntry) -> None:
        """Journal (only) what a stream under way has produced: after a crash the last such
        row of a request that never got its final row is replayed, so a stream loses at most
        what it produced since its last progress row."""
        if self._journal is None:
            return
        row = usage_row(entry)
        row[PROGRESS] = True
        self._progress[entry.request_id] = row
        self._journal.append(row)

    async def record(self, entry: UsageEntry) -> str:
        row = usage_row(entry)
        self._progress.pop(entry.request_id, None)
        if self._journal is not None:
            self._journal.append(row)
        self._rows.append(row)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if len(self._rows) >= self._batch:
            self._wake.set()
        return str(row["id"])

    async def flush(self) -> None:
        async with self._lock:
            rows, self._rows = self._rows, []
            if not rows:
                return
            if self._journal is not None:
                self._journal.rotate()  # rows from now on go to a segment of the next flush
                for row in self._progress.values():  # the old segment goes once written
                    self._journal.append(row)
            try:
                await write_rows(self._db, rows)
            except Exception:
                log.exception("could not write %d usage rows; will retry", len(rows))
                self._rows = (rows + self._rows)[-MAX_BUFFERED:]
                return
            if self._journal is not None:
                self._journal.written()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def recover(self) -> int:
        """Replay the journal segments of processes that died; returns the rows restored."""
        if self._journal is None:
            return 0
        restored = 0
        for path, rows in self._journal.orphans():
            fresh = await self._not_yet_written(await self._interrupted(rows))
            if fresh:
                await write_rows(self._db, fresh)
                restored += len(fresh)
            path.unlink(missing_ok=True)
        if restored:
            log.warning("restored %d usage rows from the ledger journal", restored)
        return restored

    async def _interrupted(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The final rows, plus, for a stream that never got one (here or in the database),
        its last progress row: booked as interrupted."""
        finals = [row for row in rows if not row.get(PROGRESS)]
        last: dict[str, dict[str, Any]] = {}
        for row in rows:
            if row.pop(PROGRESS, False):
                last[row["request_id"]] = row
        for row in finals:
            last.pop(row["request_id"], None)
        if last:
            async with self._db.sessions() as session:
                booked = await session.scalars(
                    select(UsageRecord.request_id).where(UsageRecord.request_id.in_(list(last)))
                )
                for request_id in booked:
                    last.pop(request_id, None)
        return finals + list(last.values())

    async def _not_yet_written(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows whose ids the database lacks (the crash may have come after a commit)."""
        known: set[str] = set()
        ids = [row["id"] for row in rows]
        async with self._db.sessions() as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                found = await session.scalars(
                    select(UsageRecord.id).where(UsageRecord.id.in_(chunk))
                )
                known.update(found)
        return [row for row in rows if row["id"] not in known]

    async def aclose(self) -> None:
        """Stops the writer after its current batch (never mid-transaction); writes the rest."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()
        if self._journal is not None and not self._rows:
            self._journal.close()
