"""The stored Midjourney tasks: per owner for clients, per channel for the poll.

Every change is one conditional UPDATE on the row's `version` (two replicas applying the same
upstream news cannot both win), and a refund is written in the same transaction as the flag
that records it, so a task is refunded at most once and never lost between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..accounting.usage import write_rows_in
from ..storage.db import Database
from ..storage.mj_tables import MidjourneyTask


class TaskStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, values: dict[str, Any]) -> None:
        async with self._db.engine.begin() as conn:
            await conn.execute(insert(MidjourneyTask), [values])

    async def _all(self, stmt: Any) -> list[MidjourneyTask]:
        async with self._db.sessions() as session:
            return list((await session.scalars(stmt)).all())

    async def get(self, owner: str, task_id: str) -> MidjourneyTask | None:
        stmt = select(MidjourneyTask).where(
            MidjourneyTask.id == task_id, MidjourneyTask.owner == owner
        )
        found = await self._all(stmt)
        return found[0] if found else None

    async def by_id(self, task_id: str) -> MidjourneyTask | None:
        found = await self._all(select(MidjourneyTask).where(MidjourneyTask.id == task_id))
        return found[0] if found else None

    async def by_upstream(self, channel: str, upstream_id: str) -> MidjourneyTask | None:
        stmt = select(MidjourneyTask).where(
            MidjourneyTask.channel == channel, MidjourneyTask.upstream_id == upstream_id
        )
        found = await self._all(stmt)
        return found[0] if found else None

    async def of_owner(self, owner: str, ids: Sequence[str], limit: int) -> list[MidjourneyTask]:
        """The owner's tasks among `ids` (all of theirs when empty), newest first."""
        stmt = select(MidjourneyTask).where(MidjourneyTask.owner == owner)
        if ids:
            stmt = stmt.where(MidjourneyTask.id.in_(list(ids)))
        stmt = stmt.order_by(MidjourneyTask.submit_time.desc(), MidjourneyTask.id).limit(limit)
        return await self._all(stmt)

    async def unfinished(self, channel: str, limit: int) -> list[MidjourneyTask]:
        stmt = (
            select(MidjourneyTask)
            .where(MidjourneyTask.finished.is_(False), MidjourneyTask.channel == channel)
            .order_by(MidjourneyTask.changed_at)
            .limit(limit)
        )
        return await self._all(stmt)

    async def stalled(self, before: datetime, limit: int) -> list[MidjourneyTask]:
        stmt = (
            select(MidjourneyTask)
            .where(MidjourneyTask.finished.is_(False), MidjourneyTask.changed_at < before)
            .order_by(MidjourneyTask.changed_at)
            .limit(limit)
        )
        return await self._all(stmt)

    async def change(
        self,
        task: MidjourneyTask,
        values: dict[str, Any],
        refund_row: dict[str, Any] | None = None,
    ) -> bool:
        """Applies `values` if nobody changed the task since it was read, with its refund
        (a ledger row) when one is due and not yet made; False when another writer won."""

        def work(conn: Connection) -> bool:
            done = conn.execute(
                update(MidjourneyTask)
                .where(MidjourneyTask.id == task.id, MidjourneyTask.version == task.version)
                .values(**values, version=task.version + 1)
            )
            if done.rowcount != 1:
                return False
            if refund_row is not None:
                flagged = conn.execute(
                    update(MidjourneyTask)
                    .where(
                        MidjourneyTask.id == task.id,
                        MidjourneyTask.refunded.is_(False),
                        MidjourneyTask.price_micros > 0,
                    )
                    .values(refunded=True)
                )
                if flagged.rowcount == 1:
                    write_rows_in(conn, [refund_row])
            return True

        return await self._db.write_batch(work)
