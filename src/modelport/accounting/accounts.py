"""The money side of accounts, for admins: find accounts, switch them off and on, move them
between groups, set or adjust their quotas. Creating accounts, passwords and roles are
`users.py`'s.

Every change is one conditional UPDATE, so concurrent admins and requests never lose one
another's writes: an adjustment adds a signed delta in SQL (`quota = quota + delta`) rather
than writing back a value read before, and a quota is never put below what the account has
used (plus what its requests in flight hold) unless the admin asks for it.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update

from ..storage.db import Database
from ..storage.user_tables import User, UserGroup

STATUSES = ("active", "disabled")
KINDS = ("tokens", "micros")


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: str
    username: str
    display_name: str | None
    email: str | None
    role: str
    group: str
    status: str
    quota_tokens: int | None
    quota_micros: int | None
    used_tokens: int
    used_micros: int
    reserved_tokens: int
    reserved_micros: int
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class Search:
    q: str | None = None  # in the username, email or display name, any case
    group: str | None = None
    status: str | None = None
    limit: int = 50
    after: str | None = None  # the last id of the previous page


@dataclass(slots=True)
class QuotaChange:
    """Per kind (tokens, micros): a new quota (None: unlimited) or a signed delta."""

    set: dict[str, int | None] = field(default_factory=dict)
    adjust: dict[str, int] = field(default_factory=dict)
    below_used: bool = False  # the admin allows a quota under what is used and held


class QuotaRefused(Exception):
    """The change would put a quota below what is used, or adjusts an unlimited one."""


class UnknownGroup(Exception):
    pass


class Accounts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(self, where: Search) -> builtins.list[AccountRecord]:
        stmt = select(User).order_by(User.id).limit(where.limit)
        if where.q:
            needle = where.q.lower()
            stmt = stmt.where(
                or_(
                    *(
                        func.lower(func.coalesce(col, "")).contains(needle, autoescape=True)
                        for col in (User.username, User.email, User.display_name)
                    )
                )
            )
        if where.group is not None:
            stmt = stmt.where(User.group_name == where.group)
        if where.status is not None:
            stmt = stmt.where(User.status == where.status)
        if where.after is not None:
            stmt = stmt.where(User.id > where.after)
        async with self._db.sessions() as session:
            return [_record(u) for u in (await session.scalars(stmt)).all()]

    async def get(self, user_id: str) -> AccountRecord | None:
        async with self._db.sessions() as session:
            user = await session.get(User, user_id)
            return None if user is None else _record(user)

    async def update(
        self,
        user_id: str,
        *,
        status: str | None = None,
        group: str | None = None,
        quota: QuotaChange | None = None,
    ) -> AccountRecord | None:
        """Applies the changes in one statement; None for an unknown account. Raises
        `UnknownGroup` or `QuotaRefused` (and changes nothing)."""
        values: dict[str, Any] = {}
        conditions: list[ColumnElement[bool]] = []
        if status is not None:
            values["status"] = status
        if group is not None:
            values["group_name"] = group
            conditions.append(exists().where(UserGroup.name == group))
        if quota is not None:
            _quota_terms(quota, values, conditions)
        if values:
            stmt = update(User).where(User.id == user_id, *conditions).values(values)
            async with self._db.engine.begin() as conn:
                changed = (await conn.execute(stmt)).rowcount == 1
            if not changed:
                await self._why_not(user_id, group)
        return await self.get(user_id)

    async def _why_not(self, user_id: str, group: str | None) -> None:
        if await self.get(user_id) is None:
            return  # unknown: the caller's 404
        if group is not None:
            async with self._db.sessions() as session:
                if await session.get(UserGroup, group) is None:
                    raise UnknownGroup(group)
        raise QuotaRefused()


def _quota_terms(
    change: QuotaChange, values: dict[str, Any], conditions: builtins.list[ColumnElement[bool]]
) -> None:
    for kind in KINDS:
        quota = getattr(User, f"quota_{kind}")
        spent = getattr(User, f"used_{kind}") + getattr(User, f"reserved_{kind}")
        if kind in change.set:
            new = change.set[kind]
            values[f"quota_{kind}"] = new
            if new is not None and not change.below_used:
                conditions.append(spent <= new)
        elif kind in change.adjust:
            delta = change.adjust[kind]
            values[f"quota_{kind}"] = quota + delta
            conditions.append(quota.is_not(None))  # an unlimited quota has nothing to adjust
            conditions.append(quota + delta >= 0)
            if not change.below_used and delta < 0:
                conditions.append(quota + delta >= spent)


def _record(u: User) -> AccountRecord:
    return AccountRecord(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        email=u.email,
        role=u.role,
        group=u.group_name,
        status=u.status,
        quota_tokens=u.quota_tokens,
        quota_micros=u.quota_micros,
        used_tokens=u.used_tokens,
        used_micros=u.used_micros,
        reserved_tokens=u.reserved_tokens,
        reserved_micros=u.reserved_micros,
        created_at=u.created_at,
        last_login_at=u.last_login_at,
    )
