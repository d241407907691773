"""Rows of the SQLite index's `chunks` table as `StoredChunk`s, for both of its connections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from .base import StoredChunk

CHUNK_COLUMNS = "c.id, c.kb_id, c.file_id, c.title, c.seq, c.content, c.page, c.heading"


def load(db: apsw.Connection, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
    if not chunk_ids:
        return {}
    marks = ", ".join("?" for _ in chunk_ids)
    rows = db.execute(
        f"SELECT {CHUNK_COLUMNS} FROM chunks AS c WHERE c.id IN ({marks})", tuple(chunk_ids)
    )
    return {int(row[0]): stored(row) for row in rows}


def stored(row: Sequence[Any]) -> StoredChunk:
    chunk_id, kb_id, file_id, title, seq, content, page, heading = row
    return StoredChunk(int(chunk_id), kb_id, file_id, title, int(seq), content, page, heading)


def scalar(db: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """The integer a one-value statement returns (0 when it returns no row)."""
    row = db.execute(sql, tuple(params)).fetchone()
    return int(row[0]) if row else 0
