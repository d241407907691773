"""Console sign-in: sign-up, sign-in with a password, the session's stand-in key, password
and role changes. The HTTP side is `api/auth.py`; OIDC is `oidc.py`'s.

A signed-in browser acts through its account's "console" key, made at the first sign-in and
kept an admin key exactly while the account's role is admin or root, so every existing route
(and its accounting) works from the console with the session cookie alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .console_sessions import ConsoleSessions, SessionView
from .key_record import KeyRecord
from .keys import KeyStore
from .oidc import OidcClient
from .passwords import Passwords
from .ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from .users import LastRoot, UserRecord, UserStore

CONSOLE_KEY_NAME = "console"


class SignInRefused(Exception):
    """Wrong username or password (which of the two is never said)."""


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__("too many sign-in attempts")
        self.retry_after = retry_after


class AccountDisabled(Exception):
    pass


class SessionEnded(Exception):
    pass


class RoleRefused(Exception):
    """The actor may not give this role (only root makes admins or roots)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: UserRecord
    token: str  # for the cookie
    csrf: str


@dataclass(frozen=True, slots=True)
class SessionKey:
    key: KeyRecord
    session: SessionView


def build_signin_limiter(redis_url: str | None) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis_url, prefix="modelport:signin:")
    return LocalRateLimiter()


class ConsoleAuth:
    def __init__(
        self,
        users: UserStore,
        sessions: ConsoleSessions,
        keys: KeyStore,
        passwords: Passwords,
        limiter: RateLimiter,
        *,
        per_user: int,
        per_ip: int,
        oidc: OidcClient | None = None,
    ) -> None:
        self.oidc = oidc
        self.users = users
        self.sessions = sessions
        self._keys = keys
        self._passwords = passwords
        self._limiter = limiter
        self._per_user = per_user
        self._per_ip = per_ip

    async def signup(self, username: str, password: str, email: str | None) -> UserRecord:
        """Raises `WeakPassword`, `BadUsername` or `UsernameTaken`."""
        hashed = await self._passwords.hash(password)
        return await self.users.create(username, password_hash=hashed, email=email)

    async def signin(
        self, username: str, password: str, client: str, user_agent: str | None
    ) -> SignedIn:
        for bucket, limit in (
            (f"user:{username.strip().lower()}", self._per_user),
            (f"ip:{client}", self._per_ip),
        ):
            decision = await self._limiter.admit(bucket, limit, None)
            if not decision.allowed:
                raise Throttled(decision.retry_after)
        user = await self.users.by_username(username)
        verdict = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not verdict.ok:
            raise SignInRefused()
        if user.status != "active":
            raise AccountDisabled()
        if verdict.new_hash is not None:
            await self.users.set_password(user.id, verdict.new_hash)
        return await self.open_session(user, user_agent)

    async def open_session(self, user: UserRecord, user_agent: str | None) -> SignedIn:
        await self.console_key(user)
        await self.users.touch_login(user.id)
        token, csrf = await self.sessions.start(user.id, user_agent)
        return SignedIn(user, token, csrf)

    async def console_key(self, user: UserRecord) -> KeyRecord:
        """The account's console key, made if missing, its admin flag matching the role."""
        keys = await self._keys.list(user_id=user.id)
        live = [k for k in keys if k.name == CONSOLE_KEY_NAME and k.revoked_at is None]
        if not live:
            # A migrated account's keys share an owner (its data); a new account owns itself.
            owner = keys[0].owner if keys else user.id
            _, record = await self._keys.create(
                CONSOLE_KEY_NAME, owner, is_admin=user.is_admin, user_id=user.id
            )
            return record
        record = live[0]
        if record.is_admin != user.is_admin:
            updated = await self._keys.update(record.id, {"is_admin": user.is_admin})
            assert updated is not None
            return updated
        return record

    async def key_for_cookie(self, token: str) -> SessionKey:
        """The key a session cookie stands for. Raises `SessionEnded` or `AccountDisabled`
        (the disabled account's sessions are ended everywhere)."""
        session = await self.sessions.find(token)
        if session is None:
            raise SessionEnded()
        if session.user_status != "active":
            await self.sessions.end_all(session.user_id)
            raise AccountDisabled()
        user = await self.users.get(session.user_id)
        if user is None:
            raise SessionEnded()
        return SessionKey(await self.console_key(user), session)

    async def change_password(
        self, user: UserRecord, current: str, new: str, session_id: str | None
    ) -> None:
        """Raises `SignInRefused` for a wrong current password (an account without one, made
        through OIDC, sets its first), `WeakPassword`; other sessions end."""
        if user.password_hash is not None:
            verdict = await self._passwords.verify(user.password_hash, current)
            if not verdict.ok:
                raise SignInRefused()
        await self.users.set_password(user.id, await self._passwords.hash(new))
        await self.sessions.end_all(user.id, keep=session_id)

    async def set_role(self, actor: UserRecord | None, target: UserRecord, role: str) -> UserRecord:
        """`actor` None: a root-equivalent (the CLI, or an admin key of no account). Only
        root gives or takes admin and root; admins manage plain users' nothing here."""
        if actor is not None and actor.role != "root":
            raise RoleRefused()
        await self.users.set_role(target.id, role)  # LastRoot propagates
        updated = await self.users.get(target.id)
        assert updated is not None
        await self.console_key(updated)
        self._keys.forget_user(updated.id)
        return updated

    async def aclose(self) -> None:
        await self._limiter.aclose()


__all__ = ["LastRoot"]
