"""A local journal under the write-behind ledger, so no answered request loses its usage row.

The buffered ledger writes rows to the database in batches; until a batch is committed its rows
live only in memory. Each row is therefore also appended (unbuffered, one `write`) to a journal
segment file of this process: the bytes are in the kernel at once, so a `kill -9` or a crash of
the process loses nothing. At each flush the ledger rotates to a new segment and deletes the old
ones only after the database has committed their rows.

Segments are held under an exclusive `flock` while their process may still write them; the
kernel drops the lock when the process dies. At start-up, any segment whose lock can be taken
belongs to a process that died: its rows are replayed (ids already in the database are skipped,
so counters are never booked twice) and the segment is removed.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

SUFFIX = ".jsonl"


class LedgerJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._current = self._open_segment()
        self._closed: list[IO[bytes]] = []  # rotated out, locked until their rows are written

    def _open_segment(self) -> IO[bytes]:
        path = self.directory / f"{os.getpid()}-{secrets.token_hex(6)}{SUFFIX}"
        handle = open(path, "ab", buffering=0)  # noqa: SIM115  (held open on purpose)
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle

    def append(self, row: dict[str, Any]) -> None:
        self._current.write(orjson.dumps(row) + b"\n")

    def rotate(self) -> None:
        """Start a new segment; the rows so far will be committed by the flush under way."""
        self._closed.append(self._current)
        self._current = self._open_segment()

    def written(self) -> None:
        """Every rotated-out segment's rows are in the database: drop the segments."""
        for handle in self._closed:
            _remove(handle)
        self._closed.clear()

    def close(self) -> None:
        """Clean shutdown after the final flush: nothing is left to replay."""
        self.written()
        _remove(self._current)

    def orphans(self) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
        """Segments of dead processes (their lock can be taken) and their rows, locked."""
        mine = {h.name for h in [self._current, *self._closed]}
        for path in sorted(self.directory.glob("*" + SUFFIX)):
            if str(path) in mine:
                continue
            try:
                handle = open(path, "rb")  # noqa: SIM115  (closed below or by release)
            except FileNotFoundError:
                continue  # another process replayed it meanwhile
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()  # a live process owns it
                continue
            try:
                yield path, parse_rows(handle.read())
            finally:
                handle.close()


def parse_rows(data: bytes) -> list[dict[str, Any]]:
    """The rows of a segment; a torn last line (the process died mid-write) is skipped."""
    rows = []
    for line in data.splitlines():
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("created_at"), str):
            row["created_at"] = datetime.fromisoformat(row["created_at"])
            for column in ("cached_tokens", "reasoning_tokens"):  # rows journalled before 0007
                row.setdefault(column, 0)
            row.setdefault("detail", None)  # before 0009
            for column in ("channel", "channel_name", "user_id", "ttft_ms"):  # before 0013
                row.setdefault(column, None)
            rows.append(row)
    return rows


def _remove(handle: IO[bytes]) -> None:
    Path(handle.name).unlink(missing_ok=True)
    handle.close()
