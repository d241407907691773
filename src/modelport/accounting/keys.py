"""API keys: shown once at creation, stored only as SHA-256, looked up by hash on each request.

Keys carry 256+ bits of randomness, so a fast unsalted hash is enough: there is nothing to
brute-force, and the lookup stays one indexed equality match. A key made without an owner is
its own tenant: its owner is its id (rows stored as owner "default" stay that owner's).

A key may belong to an account (`user_id`): the record then carries the account's group, the
group's price ratio, its status and whether it has a quota, read with the key in one joined
SELECT and cached with it. A change to an account or group made through this process drops
its keys' entries at once (`forget_user`, `forget_group`); other replicas see it within
`cache_ttl`.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..storage.db import Database
from ..storage.tables import ApiKey, utcnow
from .key_record import (
    ACCOUNT_OF_KEY,
    COLUMNS,
    JOINED,
    check_fields,
    column_values,
    normalise,
)
from .key_record import DEFAULT_GROUP as DEFAULT_GROUP
from .key_record import EDITABLE_FIELDS as EDITABLE_FIELDS
from .key_record import KeyRecord as KeyRecord

KEY_PREFIX = "sk-"
ADMIN_KEY_FILE = "admin_key"
# A fixed id makes the bootstrap insert conflict when two processes race to create it.
BOOTSTRAP_KEY_ID = "key_bootstrap_admin"
_MAX_KEY_LENGTH = 256  # anything longer is not ours; reject before hashing


def generate_key() -> str:
    """A new raw key: `sk-` plus 48 URL-safe characters (288 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(36)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def display_key(raw: str) -> str:
    """A hint that identifies a key to its owner without revealing it: `sk-abcd…wxyz`."""
    body = raw.removeprefix(KEY_PREFIX)
    return f"{KEY_PREFIX}{body[:4]}…{body[-4:]}"


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


class KeyStore:
    """Creates, authenticates, lists and revokes keys.

    `authenticate` is on every request's path, so successful look-ups are cached in-process
    for `cache_ttl` seconds. Revoking through this store drops the entry at once; a revocation
    made by another process (or replica) takes effect within `cache_ttl`. Concurrent misses
    for one key share one look-up: when a hot key's entry expires, the requests in flight
    make one database write, not one each (on SQLite, each would queue for the write lock and
    open a pooled connection of its own).
    """

    def __init__(
        self,
        db: Database,
        *,
        cache_ttl: float = 5.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._ttl = cache_ttl
        self._cache_size = cache_size
        self._clock = clock
        self._cache: dict[str, tuple[float, KeyRecord]] = {}  # key hash → (deadline, record)
        self._lookups: dict[str, asyncio.Task[KeyRecord | None]] = {}  # key hash → in flight
        self._changes = 0  # revocations and updates so far: a look-up that saw one is stale

    async def create(
        self,
        name: str,
        owner: str | None = None,
        is_admin: bool = False,
        expires_at: datetime | None = None,
        user_id: str | None = None,
        **limits: Any,
    ) -> tuple[str, KeyRecord]:
        """Makes a key; the raw key is returned here and never again.

        `limits` are further `EDITABLE_FIELDS` (quotas, allow-lists, rpm/tpm, multiplier).
        """
        check_fields(limits)
        # A fresh random id and key collide with a stored one about never; a conflict that
        # repeats is some other constraint failing, and retrying would spin forever.
        for _ in range(3):
            raw = generate_key()
            record = await self.add(
                raw,
                name=name,
                owner=owner,
                is_admin=is_admin,
                expires_at=expires_at,
                user_id=user_id,
                **limits,
            )
            if record is not None:
                return raw, record
        raise RuntimeError("could not store a new API key: the database refused it three times")

    async def add(
        self,
        raw: str,
        *,
        name: str,
        owner: str | None = None,
        is_admin: bool = False,
        expires_at: datetime | None = None,
        key_id: str | None = None,
        user_id: str | None = None,
        **limits: Any,
    ) -> KeyRecord | None:
        """Stores a key generated elsewhere; None when its id or hash already exists. Without
        an `owner` the key owns its data alone (its owner is its id)."""
        check_fields(limits)
        key_id = key_id or new_key_id()
        record = KeyRecord(
            id=key_id,
            display=display_key(raw),
            name=name,
            owner=owner or key_id,
            is_admin=is_admin,
            created_at=utcnow(),
            expires_at=expires_at,
            user_id=user_id,
            **normalise(limits),
        )
        values = record.row_values()
        try:
            async with self._db.autocommit.connect() as conn:
                await conn.execute(insert(ApiKey).values(key_hash=hash_key(raw), **values))
        except IntegrityError:
            return None
        return record if user_id is None else await self.get(key_id)

    async def authenticate(self, raw: str) -> KeyRecord | None:
        """The key's record if it exists, is not revoked and has not expired; else None."""
        if not raw.startswith(KEY_PREFIX) or len(raw) > _MAX_KEY_LENGTH:
            return None
        digest = hash_key(raw)
        now = utcnow()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > self._clock():
            return cached[1] if cached[1].is_active(now) else None
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = asyncio.get_running_loop().create_task(self._look_up(digest, now))
            self._lookups[digest] = lookup
            lookup.add_done_callback(lambda _: self._lookups.pop(digest, None))
        # Shielded: a waiter whose client leaves must not cancel the others' look-up.
        return await asyncio.shield(lookup)

    async def _look_up(self, digest: str, now: datetime) -> KeyRecord | None:
        changes = self._changes
        # One round trip: find the live key and stamp its last use in the same statement.
        # Misses of the cache are rare (once per key per TTL), so the write is cheap.
        stmt = (
            update(ApiKey)
            .where(
                ApiKey.key_hash == digest,
                ApiKey.revoked_at.is_(None),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
            )
            .values(last_used_at=now)
            .returning(*COLUMNS, *ACCOUNT_OF_KEY)
        )
        async with self._db.autocommit.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            self._cache.pop(digest, None)
            return None
        record = KeyRecord.from_row(row)
        if changes == self._changes:  # no revocation or update raced this read
            self._remember(digest, record)
        return record

    async def refusal(self, raw: str) -> str | None:
        """Why a key that `authenticate` refused is dead: "revoked", "expired", or None when
        no such key exists (so a console can tell its user what happened to their key)."""
        if not raw.startswith(KEY_PREFIX) or len(raw) > _MAX_KEY_LENGTH:
            return None
        stmt = select(ApiKey.revoked_at, ApiKey.expires_at).where(ApiKey.key_hash == hash_key(raw))
        async with self._db.autocommit.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        if row.revoked_at is not None:
            return "revoked"
        expires = row.expires_at  # UTC-aware: the column type puts SQLite's zone back
        return "expired" if expires is not None and expires <= utcnow() else None

    async def list(
        self, owner: str | None = None, user_id: str | None = None
    ) -> builtins.list[KeyRecord]:
        """All keys (revoked ones included), oldest first, optionally of one owner or account."""
        stmt = JOINED.order_by(ApiKey.created_at, ApiKey.id)
        if owner is not None:
            stmt = stmt.where(ApiKey.owner == owner)
        if user_id is not None:
            stmt = stmt.where(ApiKey.user_id == user_id)
        async with self._db.autocommit.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [KeyRecord.from_row(r) for r in rows]

    async def get(self, key_id: str) -> KeyRecord | None:
        async with self._db.autocommit.connect() as conn:
            row = (await conn.execute(JOINED.where(ApiKey.id == key_id))).first()
        return None if row is None else KeyRecord.from_row(row)

    async def revoke(self, key_id: str) -> bool:
        """True when a live key was revoked now; False for unknown or already revoked ids."""
        stmt = (
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(ApiKey.key_hash)
        )
        async with self._db.autocommit.connect() as conn:
            digest = (await conn.execute(stmt)).scalar_one_or_none()
        if digest is None:
            return False
        self._changes += 1
        self._cache.pop(digest, None)
        return True

    async def update(self, key_id: str, changes: dict[str, Any]) -> KeyRecord | None:
        """Sets the given `EDITABLE_FIELDS`; None for an unknown id. Takes effect at once here,
        within the auth cache's TTL on other replicas."""
        check_fields(changes)
        values = column_values(changes)
        if not values:
            return await self.get(key_id)
        stmt = update(ApiKey).where(ApiKey.id == key_id).values(values).returning(ApiKey.id)
        async with self._db.autocommit.connect() as conn:
            found = (await conn.execute(stmt)).first()
        self._forget(key_id)
        return None if found is None else await self.get(key_id)

    async def rotate(self, key_id: str) -> tuple[str, KeyRecord] | None:
        """Replaces a live key's secret, keeping its id, limits and usage; the old secret stops
        working. Returns the new raw key (shown once), or None for an unknown or revoked id."""
        raw = generate_key()
        stmt = (
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(key_hash=hash_key(raw), display=display_key(raw))
            .returning(ApiKey.id)
        )
        async with self._db.autocommit.connect() as conn:
            found = (await conn.execute(stmt)).first()
        self._forget(key_id)
        record = None if found is None else await self.get(key_id)
        return None if record is None else (raw, record)

    def _forget(self, key_id: str) -> None:
        self._drop(lambda record: record.id == key_id)

    def forget_user(self, user_id: str) -> None:
        """The account changed (status, group, quota): its keys are read again."""
        self._drop(lambda record: record.user_id == user_id)

    def forget_group(self, name: str) -> None:
        """The group's ratio changed: its keys are read again."""
        self._drop(lambda record: record.group == name)

    def _drop(self, stale: Callable[[KeyRecord], bool]) -> None:
        self._changes += 1
        for digest, (_, record) in list(self._cache.items()):
            if stale(record):
                self._cache.pop(digest, None)

    async def count(self) -> int:
        async with self._db.autocommit.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(ApiKey))).scalar_one())

    def _remember(self, digest: str, record: KeyRecord) -> None:
        if len(self._cache) >= self._cache_size:
            # Bounded: drop the oldest entry rather than grow without limit.
            self._cache.pop(next(iter(self._cache)))
        self._cache[digest] = (self._clock() + self._ttl, record)


async def ensure_bootstrap_admin(store: KeyStore, data_dir: Path) -> str | None:
    """On an empty key table, creates an admin key and saves it to `data_dir/admin_key` (0600).

    Returns the raw key for the caller to print once, or None when keys already exist or
    another process won the race to create the first one.
    """
    if await store.count() > 0:
        return None
    raw = generate_key()
    # Staged before the insert so that a committed key is never left without its file.
    pending = _stage_private_file(data_dir, ADMIN_KEY_FILE, raw + "\n")
    try:
        record = await store.add(
            raw, name="bootstrap admin", is_admin=True, key_id=BOOTSTRAP_KEY_ID
        )
        if record is not None:
            os.replace(pending, data_dir / ADMIN_KEY_FILE)
    finally:
        _discard(pending)
    return raw if record is not None else None


def _stage_private_file(directory: Path, name: str, content: str) -> Path:
    """Writes a temporary sibling of `directory/name`, readable by its owner only from the
    first byte (no chmod window); `os.replace` then publishes it atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    return path


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
