"""Runtime channels in the database. Every change that routing sees raises the `channels`
change stamp in the same transaction, so a replica that reads the stamp before the rows
never keeps an old catalogue past its next look at the stamp."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..storage.channel_tables import ChangeStamp, Channel
from ..storage.db import Database
from ..storage.tables import utcnow
from .records import StoredChannel

STAMP = "channels"
# What a new channel has unless the operator says otherwise.
DEFAULTS: dict[str, Any] = {
    "base_url": None,
    "api_keys": [],
    "model_mapping": {},
    "weight": 1,
    "priority": 0,
    "groups": None,
    "proxy": None,
    "connect_timeout": 10.0,
    "read_timeout": 120.0,
    "first_token_timeout": None,
    "idle_timeout": None,
    "price": None,
    "options": {},
    "status": "enabled",
    "auto_probe": False,
    "balance_kind": None,
}


def new_channel_id() -> str:
    return "ch_" + secrets.token_hex(8)


class ChannelStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_stamp(self) -> None:
        """The stamp row exists (a new database is made from the ORM classes, with no rows)."""
        async with self._db.sessions() as session:
            if await session.get(ChangeStamp, STAMP) is not None:
                return
            session.add(ChangeStamp(name=STAMP, version=0))
            try:
                await session.commit()
            except IntegrityError:  # another replica made it first
                await session.rollback()

    async def stamp(self) -> int:
        async with self._db.sessions() as session:
            version = await session.scalar(
                select(ChangeStamp.version).where(ChangeStamp.name == STAMP)
            )
        return int(version or 0)

    async def snapshot(self) -> tuple[int, list[StoredChannel]]:
        """The stamp, then the channels: a change between the two reads is seen again at the
        next look (its stamp is newer), never missed."""
        version = await self.stamp()
        return version, await self.list()

    async def list(self) -> list[StoredChannel]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(Channel).order_by(Channel.created_at, Channel.id))
            return [StoredChannel.of(row) for row in rows]

    async def get(self, channel_id: str) -> StoredChannel | None:
        async with self._db.sessions() as session:
            row = await session.get(Channel, channel_id)
            return None if row is None else StoredChannel.of(row)

    async def create(self, values: dict[str, Any]) -> StoredChannel:
        now = utcnow()
        fields = {**DEFAULTS, **values, "id": new_channel_id(), "created_at": now}
        fields["updated_at"] = now
        async with self._db.sessions() as session, session.begin():
            session.add(Channel(**fields))
            await _bump(session)
        created = await self.get(fields["id"])
        assert created is not None
        return created

    async def update(self, channel_id: str, changes: dict[str, Any]) -> StoredChannel | None:
        if "status" in changes:  # an operator's switch clears the platform's reason
            changes = {**changes, "status_reason": None, "status_at": utcnow()}
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(Channel)
                .where(Channel.id == channel_id)
                .values(**changes, updated_at=utcnow())
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                return None
            await _bump(session)
        return await self.get(channel_id)

    async def delete(self, channel_id: str) -> bool:
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(delete(Channel).where(Channel.id == channel_id))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                return False
            await _bump(session)
        return True

    async def switch(self, channel_id: str, *, to: str, reason: str | None, only_from: str) -> bool:
        """Move a channel from status `only_from` to `to` (the platform's own switches: it
        never turns on a channel an operator turned off). True when it moved."""
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(Channel)
                .where(Channel.id == channel_id, Channel.status == only_from)
                .values(status=to, status_reason=reason, status_at=utcnow(), updated_at=utcnow())
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                return False
            await _bump(session)
        return True

    async def record_test(self, channel_id: str, latency_ms: int, error: str | None) -> None:
        await self._note(
            channel_id, last_test_at=utcnow(), last_test_ms=latency_ms, last_test_error=error
        )

    async def record_balance(
        self, channel_id: str, balance: str | None, currency: str | None, at: datetime
    ) -> None:
        await self._note(channel_id, balance=balance, balance_currency=currency, balance_at=at)

    async def _note(self, channel_id: str, **values: Any) -> None:
        """Facts about a channel that routing does not read: no stamp change."""
        async with self._db.sessions() as session, session.begin():
            await session.execute(update(Channel).where(Channel.id == channel_id).values(**values))


async def _bump(session: AsyncSession) -> None:
    result = await session.execute(
        update(ChangeStamp).where(ChangeStamp.name == STAMP).values(version=ChangeStamp.version + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(insert(ChangeStamp).values(name=STAMP, version=1))
