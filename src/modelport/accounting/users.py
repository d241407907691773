"""Console accounts: who they are, how they sign in, their role and status.

The money side of an account (quota, group, search for admins) is `accounts.py`'s; this
store creates accounts and keeps their sign-in fields: username, password hash, role, OIDC
identity, last sign-in.

Usernames are kept in lower case, so the unique index makes them unique in any case, and
looked up case-insensitively (accounts migrated from key owners may predate the rule).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from ..storage.db import Database
from ..storage.tables import utcnow
from ..storage.user_tables import User
from .key_record import DEFAULT_GROUP

ROLES = ("user", "admin", "root")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
_PG_FIRST_USER_LOCK = 0x6D7075  # serialises "is this the first account?" across replicas


class BadUsername(ValueError):
    pass


class UsernameTaken(Exception):
    pass


class LastRoot(Exception):
    """The change would leave no active root account."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    display_name: str | None
    email: str | None
    role: str
    group: str
    status: str
    password_hash: str | None
    oidc_issuer: str | None
    oidc_subject: str | None
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "root")


def normalise_username(name: str) -> str:
    """The stored form of a username, or `BadUsername`."""
    name = name.strip().lower()
    if not USERNAME.match(name):
        raise BadUsername(
            "A username has 2 to 64 characters: letters, digits, '_', '.' or '-', "
            "starting with a letter or digit."
        )
    return name


def new_user_id() -> str:
    return "usr_" + secrets.token_hex(8)


class UserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        role: str | None = None,
        email: str | None = None,
        display_name: str | None = None,
        oidc: tuple[str, str] | None = None,
    ) -> UserRecord:
        """A new active account in the default group. `role=None`: `root` for the first
        account ever, else `user`. Raises `BadUsername` or `UsernameTaken`."""
        name = normalise_username(username)
        user_id = new_user_id()
        values = {
            "id": user_id,
            "username": name,
            "display_name": display_name,
            "email": email,
            "password_hash": password_hash,
            "group_name": DEFAULT_GROUP,
            "status": "active",
            "oidc_issuer": oidc[0] if oidc else None,
            "oidc_subject": oidc[1] if oidc else None,
            "created_at": utcnow(),
            "used_tokens": 0,
            "used_micros": 0,
            "reserved_tokens": 0,
            "reserved_micros": 0,
        }
        try:
            async with self._db.engine.begin() as conn:
                if not self._db.is_sqlite:
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_FIRST_USER_LOCK}
                    )
                if role is None:
                    first = (await conn.scalar(select(func.count()).select_from(User))) == 0
                    role = "root" if first else "user"
                await conn.execute(insert(User).values(role=role, **values))
        except IntegrityError as exc:
            raise UsernameTaken(name) from exc
        found = await self.get(user_id)
        assert found is not None
        return found

    async def get(self, user_id: str) -> UserRecord | None:
        return await self._one(select(User).where(User.id == user_id))

    async def by_username(self, username: str) -> UserRecord | None:
        needle = username.strip().lower()
        return await self._one(select(User).where(func.lower(User.username) == needle))

    async def by_oidc(self, issuer: str, subject: str) -> UserRecord | None:
        return await self._one(
            select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
        )

    async def free_username(self, wanted: str) -> str:
        """`wanted` made valid and not taken (a suffix added if it is), for OIDC accounts."""
        base = re.sub(r"[^a-z0-9_.-]+", "-", wanted.lower()).strip("-._")[:56] or "user"
        base = base if len(base) >= 2 else f"{base}-user"
        name, n = base, 1
        while await self.by_username(name) is not None:
            n += 1
            name = f"{base}-{n}"
        return name

    async def set_password(self, user_id: str, password_hash: str) -> bool:
        return await self._set(user_id, password_hash=password_hash)

    async def touch_login(self, user_id: str) -> None:
        await self._set(user_id, last_login_at=utcnow())

    async def set_role(self, user_id: str, role: str) -> bool:
        """Sets the role; refuses (`LastRoot`) to demote the last root, checked in the
        UPDATE itself so two admins demoting the last two roots at once cannot both win."""
        if role not in ROLES:
            raise ValueError(role)
        stmt = update(User).where(User.id == user_id).values(role=role)
        if role != "root":
            other = User.__table__.alias("o")
            other_roots = (
                select(func.count())
                .select_from(other)
                .where(other.c.role == "root", other.c.id != user_id)
                .scalar_subquery()
            )
            stmt = stmt.where((User.role != "root") | (other_roots > 0))
        async with self._db.engine.begin() as conn:
            if not self._db.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_FIRST_USER_LOCK}
                )
            changed = (await conn.execute(stmt)).rowcount == 1
        if not changed and await self.get(user_id) is not None:
            raise LastRoot()
        return changed

    async def _set(self, user_id: str, **values: object) -> bool:
        async with self._db.engine.begin() as conn:
            result = await conn.execute(update(User).where(User.id == user_id).values(values))
            return bool(result.rowcount == 1)

    async def _one(self, stmt: Select[User]) -> UserRecord | None:
        async with self._db.sessions() as session:
            user = (await session.scalars(stmt)).first()
            return None if user is None else _record(user)


def _record(u: User) -> UserRecord:
    return UserRecord(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        email=u.email,
        role=u.role,
        group=u.group_name,
        status=u.status,
        password_hash=u.password_hash,
        oidc_issuer=u.oidc_issuer,
        oidc_subject=u.oidc_subject,
        created_at=u.created_at,
        last_login_at=u.last_login_at,
    )
