"""Console sessions on SQLite and PostgreSQL: only the cookie's hash is stored, expiry slides
with use, an expired session is gone, and ending an account's sessions spares the one kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from modelport.accounting.console_sessions import ConsoleSessions, session_id
from modelport.accounting.users import UserStore
from modelport.storage.db import Database
from modelport.storage.tables import utcnow
from modelport.storage.user_tables import ConsoleSession


async def _expires_in(db: Database, token: str, delta: timedelta) -> None:
    stmt = (
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id(token))
        .values(expires_at=utcnow() + delta)
    )
    async with db.engine.begin() as conn:
        await conn.execute(stmt)


async def test_sessions_slide_expire_and_end(db: Database) -> None:
    user = await UserStore(db).create("sam")
    sessions = ConsoleSessions(db, ttl_seconds=3600)
    token, csrf = await sessions.start(user.id, "pytest")
    async with db.sessions() as s:
        stored = (await s.scalars(select(ConsoleSession.id))).all()
    assert stored == [session_id(token)] and token not in stored  # only the hash is kept
    found = await sessions.find(token)
    assert found is not None and (found.csrf, found.user_role) == (csrf, "root")

    await _expires_in(db, token, timedelta(minutes=5))  # used now: slides back to an hour
    slid = await sessions.find(token)
    assert slid is not None and slid.expires_at > utcnow() + timedelta(minutes=59)
    await _expires_in(db, token, timedelta(seconds=-1))
    assert await sessions.find(token) is None
    assert await sessions.find("not-a-session") is None

    kept, _ = await sessions.start(user.id, None)
    other, _ = await sessions.start(user.id, None)
    assert await sessions.end_all(user.id, keep=session_id(kept)) == 1
    assert await sessions.find(kept) is not None and await sessions.find(other) is None
