"""Account groups: each sets the price ratio of its accounts' requests (and, through
`ChannelConfig.groups`, which channels serve them).

A group named `default` with ratio 1.0 always exists: new accounts join it, and start-up makes
sure of it (`ensure_default`), since a new database is created from the ORM classes, not by
the migration that inserts it. A group is deleted only while no account is in it, checked in
the DELETE itself, so an account joining at the same moment cannot be left in no group.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..storage.db import Database
from ..storage.tables import utcnow
from ..storage.user_tables import User, UserGroup
from .keys import DEFAULT_GROUP


@dataclass(frozen=True, slots=True)
class GroupRecord:
    name: str
    ratio: float
    description: str | None
    created_at: datetime
    users: int = 0  # accounts in the group


class Deleted(Enum):
    DELETED = "deleted"
    MISSING = "missing"
    IN_USE = "in_use"
    DEFAULT = "default"  # the default group is never deleted


_LISTED = (
    select(UserGroup, func.count(User.id))
    .outerjoin(User, User.group_name == UserGroup.name)
    .group_by(UserGroup.name)
)


class GroupStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_default(self) -> None:
        """Creates the `default` group (ratio 1.0) when it is missing."""
        if await self.get(DEFAULT_GROUP) is None:
            await self.create(DEFAULT_GROUP, 1.0)  # None: another process made it first

    async def list(self) -> builtins.list[GroupRecord]:
        async with self._db.sessions() as session:
            rows = (await session.execute(_LISTED.order_by(UserGroup.name))).all()
        return [_record(group, users) for group, users in rows]

    async def get(self, name: str) -> GroupRecord | None:
        async with self._db.sessions() as session:
            row = (await session.execute(_LISTED.where(UserGroup.name == name))).first()
        return None if row is None else _record(row[0], row[1])

    async def create(
        self, name: str, ratio: float, description: str | None = None
    ) -> GroupRecord | None:
        """The new group, or None when the name is taken."""
        values = {"name": name, "ratio": ratio, "description": description}
        try:
            async with self._db.engine.begin() as conn:
                await conn.execute(insert(UserGroup).values(created_at=utcnow(), **values))
        except IntegrityError:
            return None
        return await self.get(name)

    async def update(
        self, name: str, *, ratio: float | None = None, description: str | None = None
    ) -> GroupRecord | None:
        """Sets the given fields; None for an unknown group."""
        values: dict[str, object] = {}
        if ratio is not None:
            values["ratio"] = ratio
        if description is not None:
            values["description"] = description
        if values:
            async with self._db.engine.begin() as conn:
                await conn.execute(update(UserGroup).where(UserGroup.name == name).values(values))
        return await self.get(name)

    async def delete(self, name: str) -> Deleted:
        if name == DEFAULT_GROUP:
            return Deleted.DEFAULT
        unused = ~exists().where(User.group_name == name)
        stmt = sql_delete(UserGroup).where(UserGroup.name == name, unused)
        async with self._db.engine.begin() as conn:
            if (await conn.execute(stmt)).rowcount == 1:
                return Deleted.DELETED
        return Deleted.MISSING if await self.get(name) is None else Deleted.IN_USE


def _record(group: UserGroup, users: int) -> GroupRecord:
    return GroupRecord(group.name, group.ratio, group.description, group.created_at, int(users))
