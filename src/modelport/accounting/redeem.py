"""Redemption codes: an admin mints a batch of one-time top-ups, a key's owner redeems one.

Codes are secrets like keys: they are shown once, when the batch is created (that listing is
the export), and stored only as SHA-256. Redeeming is one conditional UPDATE
(`... WHERE redeemed_at IS NULL`) and the key's credit, in one transaction: of any number of
concurrent attempts on one code, exactly one matches the row; the others find it redeemed.

A key owned by an account redeems onto the account (the code remembers both: the key in
`redeemed_by`, the account in `redeemed_user_id`); a key without one onto itself, as before.
A target with no quota at all is unlimited and stays so (the code is spent, nothing changes);
one limited in one kind (tokens or money) that redeems a code of the other kind is given a
quota of that kind: its usage so far plus the credit. A disabled code cannot be redeemed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, delete, func, insert, null, select, update

from ..storage.db import Database
from ..storage.platform_tables import RedemptionCode
from ..storage.tables import ApiKey, utcnow
from ..storage.user_tables import User
from .keys import hash_key

CODE_PREFIX = "rc-"
_MAX_CODE_LENGTH = 128


@dataclass(frozen=True, slots=True)
class CodeRecord:
    id: str
    display: str
    batch: str
    tokens: int
    micros: int
    created_at: datetime
    redeemed_at: datetime | None = None
    redeemed_by: str | None = None  # the key that redeemed it
    redeemed_user_id: str | None = None  # the account it credited (None: the key itself)
    redeemed_username: str | None = None
    disabled_at: datetime | None = None

    @property
    def status(self) -> Literal["unused", "redeemed", "disabled"]:
        if self.redeemed_at is not None:
            return "redeemed"
        return "disabled" if self.disabled_at is not None else "unused"


@dataclass(frozen=True, slots=True)
class Credit:
    """What one redemption added to the key."""

    tokens: int
    micros: int


def generate_code() -> str:
    return CODE_PREFIX + secrets.token_urlsafe(18)


def _display(raw: str) -> str:
    return f"{raw[:7]}…{raw[-4:]}"


class RedemptionCodes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_batch(
        self, batch: str, count: int, *, tokens: int = 0, micros: int = 0
    ) -> list[tuple[str, CodeRecord]]:
        """Mints `count` codes worth `tokens` and/or `micros` each; returns (raw, record)."""
        if count < 1 or (tokens <= 0 and micros <= 0) or tokens < 0 or micros < 0:
            raise ValueError("a batch needs count >= 1 and a positive value")
        now = utcnow()
        minted: list[tuple[str, CodeRecord]] = []
        rows = []
        for _ in range(count):
            raw = generate_code()
            record = CodeRecord(
                "rc_" + secrets.token_hex(8), _display(raw), batch, tokens, micros, now
            )
            minted.append((raw, record))
            rows.append(
                {
                    "id": record.id,
                    "code_hash": hash_key(raw),
                    "display": record.display,
                    "batch": batch,
                    "tokens": tokens,
                    "micros": micros,
                    "created_at": now,
                }
            )
        async with self._db.engine.begin() as conn:
            await conn.execute(insert(RedemptionCode), rows)
        return minted

    async def list(
        self, batch: str | None = None, status: str | None = None, code_id: str | None = None
    ) -> list[CodeRecord]:
        """Codes oldest first, with the account that redeemed each; optionally of one batch,
        one status (unused, redeemed, disabled) or one id."""
        code = RedemptionCode
        stmt = (
            select(code, User.username)
            .outerjoin(User, User.id == code.redeemed_user_id)
            .order_by(code.created_at, code.id)
        )
        if batch is not None:
            stmt = stmt.where(code.batch == batch)
        if code_id is not None:
            stmt = stmt.where(code.id == code_id)
        if status == "redeemed":
            stmt = stmt.where(code.redeemed_at.is_not(None))
        elif status == "disabled":
            stmt = stmt.where(code.redeemed_at.is_(None), code.disabled_at.is_not(None))
        elif status == "unused":
            stmt = stmt.where(code.redeemed_at.is_(None), code.disabled_at.is_(None))
        async with self._db.sessions() as session:
            rows = (await session.execute(stmt)).all()
        return [_record(r, username) for r, username in rows]

    async def get(self, code_id: str) -> CodeRecord | None:
        found = await self.list(code_id=code_id)
        return found[0] if found else None

    async def disable(self, code_id: str) -> CodeRecord | None:
        """Makes an unredeemed code unredeemable (idempotent); None for an unknown id."""
        stmt = (
            update(RedemptionCode)
            .where(
                RedemptionCode.id == code_id,
                RedemptionCode.redeemed_at.is_(None),
                RedemptionCode.disabled_at.is_(None),
            )
            .values(disabled_at=utcnow())
        )
        async with self._db.engine.begin() as conn:
            await conn.execute(stmt)
        return await self.get(code_id)

    async def delete(self, code_id: str) -> bool | None:
        """Deletes an unredeemed code: True when deleted, False when it was redeemed (the
        ledger of who redeemed what stays), None when unknown."""
        stmt = delete(RedemptionCode).where(
            RedemptionCode.id == code_id, RedemptionCode.redeemed_at.is_(None)
        )
        async with self._db.engine.begin() as conn:
            if (await conn.execute(stmt)).rowcount == 1:
                return True
        return None if await self.get(code_id) is None else False

    async def redeem(self, raw: str, key_id: str) -> Credit | None:
        """Credits the code's value to the key's account (or the key, without one); None
        when the code is unknown, spent or disabled."""
        if not raw.startswith(CODE_PREFIX) or len(raw) > _MAX_CODE_LENGTH:
            return None
        owner = select(ApiKey.user_id).where(ApiKey.id == key_id).scalar_subquery()
        claim = (
            update(RedemptionCode)
            .where(
                RedemptionCode.code_hash == hash_key(raw),
                RedemptionCode.redeemed_at.is_(None),
                RedemptionCode.disabled_at.is_(None),
            )
            .values(redeemed_at=utcnow(), redeemed_by=key_id, redeemed_user_id=owner)
            .returning(
                RedemptionCode.tokens, RedemptionCode.micros, RedemptionCode.redeemed_user_id
            )
        )
        async with self._db.engine.begin() as conn:
            row = (await conn.execute(claim)).first()
            if row is None:
                return None
            tokens, micros, user_id = int(row[0]), int(row[1]), row[2]
            target: Any = User if user_id is not None else ApiKey
            await conn.execute(
                update(target)
                .where(target.id == (user_id or key_id))
                .values(
                    quota_tokens=_credited(target, "tokens", tokens),
                    quota_micros=_credited(target, "micros", micros),
                )
            )
        return Credit(tokens, micros)


def _credited(target: Any, kind: str, amount: int) -> object:
    """SQL: the quota plus `amount`. A target without any quota stays unlimited (NULL); one
    without a quota of this kind only is given one of (used + amount)."""
    quota = getattr(target, f"quota_{kind}")
    if amount == 0:
        return quota
    unlimited = and_(target.quota_tokens.is_(None), target.quota_micros.is_(None))
    credited = func.coalesce(quota, getattr(target, f"used_{kind}")) + amount
    return case((unlimited, null()), else_=credited)


def _record(r: RedemptionCode, username: str | None) -> CodeRecord:
    return CodeRecord(
        r.id,
        r.display,
        r.batch,
        r.tokens,
        r.micros,
        r.created_at,
        r.redeemed_at,
        r.redeemed_by,
        r.redeemed_user_id,
        username,
        r.disabled_at,
    )
