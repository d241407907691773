"""Redemption codes: an admin mints a batch of one-time top-ups, a key's owner redeems one.

Codes are secrets like keys: they are shown once, when the batch is created (that listing is
the export), and stored only as SHA-256. Redeeming is one conditional UPDATE
(`... WHERE redeemed_at IS NULL`) and the key's credit, in one transaction: of any number of
concurrent attempts on one code, exactly one matches the row; the others find it redeemed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update

from ..storage.db import Database
from ..storage.platform_tables import RedemptionCode
from ..storage.tables import ApiKey, utcnow
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
    redeemed_by: str | None = None


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

    async def list(self, batch: str | None = None) -> list[CodeRecord]:
        stmt = select(RedemptionCode).order_by(RedemptionCode.created_at, RedemptionCode.id)
        if batch is not None:
            stmt = stmt.where(RedemptionCode.batch == batch)
        async with self._db.sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            CodeRecord(
                r.id,
                r.display,
                r.batch,
                r.tokens,
                r.micros,
                r.created_at,
                r.redeemed_at,
                r.redeemed_by,
            )
            for r in rows
        ]

    async def redeem(self, raw: str, key_id: str) -> Credit | None:
        """Credits the code's value to the key's quota; None when the code is unknown or spent.

        A key without a quota of that kind gets one: its usage so far plus the credit.
        """
        if not raw.startswith(CODE_PREFIX) or len(raw) > _MAX_CODE_LENGTH:
            return None
        claim = (
            update(RedemptionCode)
            .where(RedemptionCode.code_hash == hash_key(raw), RedemptionCode.redeemed_at.is_(None))
            .values(redeemed_at=utcnow(), redeemed_by=key_id)
            .returning(RedemptionCode.tokens, RedemptionCode.micros)
        )
        async with self._db.engine.begin() as conn:
            row = (await conn.execute(claim)).first()
            if row is None:
                return None
            tokens, micros = int(row[0]), int(row[1])
            credit = (
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .values(
                    quota_tokens=_credited(ApiKey.quota_tokens, ApiKey.used_tokens, tokens),
                    quota_micros=_credited(ApiKey.quota_micros, ApiKey.used_micros, micros),
                )
            )
            await conn.execute(credit)
        return Credit(tokens, micros)


def _credited(quota: object, used: object, amount: int) -> object:
    """SQL: the quota plus `amount`; NULL (unlimited) stays NULL unless the code carries this
    kind of value, in which case the key is given a quota of (used + amount)."""
    if amount == 0:
        return quota
    return func.coalesce(quota, used) + amount
