"""Signed-in browsers, kept in the database so that every replica sees them and a sign-out
or a disabled account ends them everywhere.

The cookie holds 32 random bytes; only their SHA-256 is stored (a database leak gives no
usable cookie). Each session has a CSRF token the console echoes in `X-CSRF-Token` on unsafe
requests. Expiry slides: a session used within `ttl` stays alive; the stored deadline is
moved at most once a minute, so reads do not each cost a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update

from ..storage.db import Database
from ..storage.tables import utcnow
from ..storage.user_tables import ConsoleSession, User

SLIDE_STEP = timedelta(seconds=60)
_MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str  # the cookie's SHA-256
    user_id: str
    csrf: str
    user_status: str
    user_role: str
    expires_at: datetime


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ConsoleSessions:
    def __init__(self, db: Database, ttl_seconds: int) -> None:
        self._db = db
        self._ttl = timedelta(seconds=ttl_seconds)

    @property
    def ttl_seconds(self) -> int:
        return int(self._ttl.total_seconds())

    async def start(self, user_id: str, user_agent: str | None) -> tuple[str, str]:
        """A new session: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        values = {
            "id": session_id(token),
            "user_id": user_id,
            "csrf": csrf,
            "created_at": now,
            "expires_at": now + self._ttl,
            "last_seen_at": now,
            "user_agent": (user_agent or "")[:300] or None,
        }
        # The account's sessions that ran out go now: no sweeper is needed to bound the table.
        expired = delete(ConsoleSession).where(
            ConsoleSession.user_id == user_id, ConsoleSession.expires_at <= now
        )
        async with self._db.engine.begin() as conn:
            await conn.execute(expired)
            await conn.execute(insert(ConsoleSession).values(values))
        return token, csrf

    async def find(self, token: str) -> SessionView | None:
        """The live session of a cookie (its deadline slid forward), or None."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        sid, now = session_id(token), utcnow()
        stmt = (
            select(ConsoleSession, User.status, User.role)
            .join(User, User.id == ConsoleSession.user_id)
            .where(ConsoleSession.id == sid)
        )
        async with self._db.sessions() as session:
            row = (await session.execute(stmt)).first()
        if row is None:
            return None
        found, status, role = row
        expires = _aware(found.expires_at)
        if expires <= now:
            await self.end(token)
            return None
        if now + self._ttl - expires >= SLIDE_STEP:
            expires = now + self._ttl
            stmt_slide = (
                update(ConsoleSession)
                .where(ConsoleSession.id == sid)
                .values(expires_at=expires, last_seen_at=now)
            )
            async with self._db.engine.begin() as conn:
                await conn.execute(stmt_slide)
        return SessionView(sid, found.user_id, found.csrf, status, role, expires)

    async def end(self, token: str) -> None:
        async with self._db.engine.begin() as conn:
            await conn.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id(token)))

    async def end_all(self, user_id: str, keep: str | None = None) -> int:
        """Ends every session of an account (disabled, or its password changed), except
        the session id `keep` when given (the browser that changed the password)."""
        stmt = delete(ConsoleSession).where(ConsoleSession.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(ConsoleSession.id != keep)
        async with self._db.engine.begin() as conn:
            return int((await conn.execute(stmt)).rowcount)
