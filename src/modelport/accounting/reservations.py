"""Quota reservations: a request holds its worst case against its key before any upstream call.

The database is the one arbiter, so the bound holds across replicas. At admission one
conditional UPDATE adds the request's worst case (its prompt estimate plus `max_tokens` × n,
priced) to the key's `reserved_*` counters, and only if `used + reserved` is still below the
quota; a `quota_reservations` row remembers the hold. When the request ends its hold shrinks to
what it spent, and the ledger releases it in the same transaction that writes the usage row and
raises `used_*`, so spending is never out of both counters. A request is admitted while
anything is left, so a key overdraws by at most one in-flight reservation (the last one
admitted).

A process that dies holding reservations leaves them behind: rows whose usage was journalled
are released when the journal is replayed; the rest expire after `ttl` seconds and are swept by
any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from ..protocol.ids import hex_id
from ..storage.db import Database
from ..storage.tables import ApiKey, QuotaReservation, utcnow
from .group_write import GroupWriter

log = logging.getLogger("modelport.accounting")
_HELD = (QuotaReservation.key_id, QuotaReservation.tokens, QuotaReservation.micros)


@dataclass(frozen=True, slots=True)
class Hold:
    """A request's worst case: tokens, and their price in micro-units."""

    tokens: int
    micros: int


class Reservations:
    def __init__(self, db: Database, ttl: float = 900.0, sweep_every: float = 60.0) -> None:
        self._db = db
        self._ttl = timedelta(seconds=ttl)
        self._sweep_every = sweep_every
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # holds being given back
        self._writer = GroupWriter(db)

    async def reserve(self, key_id: str, hold: Hold) -> str | None:
        """The reservation's id, or None when the key has nothing left."""
        reservation = "rsv_" + hex_id(16)
        expires = utcnow() + self._ttl

        def work(conn: Connection) -> bool:
            taken = conn.execute(_TAKE, {"key": key_id, "t": hold.tokens, "m": hold.micros})
            if taken.rowcount != 1:
                return False
            row = {"id": reservation, "key_id": key_id, "expires_at": expires, "settled": False}
            conn.execute(_REMEMBER, {**row, "tokens": hold.tokens, "micros": hold.micros})
            return True

        self._start_sweeping()
        write = asyncio.ensure_future(self._writer.run(work))
        try:
            taken = await asyncio.shield(write)
        except asyncio.CancelledError:  # the client left; the write goes on and is undone
            self._undo_later(write, reservation)
            raise
        return reservation if taken else None

    def _undo_later(self, write: asyncio.Future[bool], reservation: str) -> None:
        async def undo() -> None:
            with contextlib.suppress(Exception):
                if await write:
                    await self.release([reservation])

        task = asyncio.get_running_loop().create_task(undo())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def spent(self, key_id: str) -> bool:
        """Whether the key's quota is used up by finished requests (booked, or settled and
        not yet booked), not only held by requests in flight."""
        async with self._db.autocommit.connect() as conn:
            return (await conn.execute(_SPENT, {"key": key_id})).first() is not None

    async def grow(self, reservation: str, key_id: str, extra: Hold) -> None:
        """Adds to a hold what the request turned out to carry (grounding passages, searches);
        unconditionally: the request was admitted already."""
        if extra.tokens <= 0 and extra.micros <= 0:
            return

        def work(conn: Connection) -> None:
            grown = conn.execute(
                update(QuotaReservation)
                .where(QuotaReservation.id == reservation)
                .values(
                    tokens=QuotaReservation.tokens + extra.tokens,
                    micros=QuotaReservation.micros + extra.micros,
                )
            )
            if grown.rowcount == 1:  # not yet released or swept
                _move(conn, {key_id: (extra.tokens, extra.micros)})

        await self._writer.run(work)

    async def settle(self, reservation: str, key_id: str, spent: Hold) -> None:
        """The request is over: its hold becomes exactly what it spent, until its usage row
        is written (which releases it), so the key's next request sees the true balance."""

        def work(conn: Connection) -> None:
            held = conn.execute(_HELD_BY, {"rid": reservation}).first()
            if held is None:  # its usage row was written first
                return
            conn.execute(_RESIZE, {"rid": reservation, "t": spent.tokens, "m": spent.micros})
            _move(conn, {key_id: (spent.tokens - held[0], spent.micros - held[1])})

        try:
            await self._writer.run(work)
        except Exception:  # the hold stays as large as it was: safe, and released with the row
            log.exception("could not settle the quota hold %s", reservation)

    async def release(self, reservations: Iterable[str]) -> None:
        """Gives holds back without booking anything (a request refused after its hold)."""
        ids = list(reservations)
        if ids:
            await self._writer.run(lambda conn: _move(conn, released(conn, ids)))

    async def sweep(self) -> int:
        """Releases the holds that outlived `ttl` (their process died); returns how many."""

        def work(conn: Connection) -> int:
            gone = conn.execute(
                delete(QuotaReservation)
                .where(QuotaReservation.expires_at < utcnow())
                .returning(
                    QuotaReservation.key_id, QuotaReservation.tokens, QuotaReservation.micros
                )
            ).all()
            _move(conn, _negated(gone))
            return len(gone)

        swept = await self._db.write_batch(work)
        if swept:
            log.warning("released %d expired quota reservations", swept)
        return swept

    def _start_sweeping(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the database may be down for a while; holds just wait
                log.exception("could not sweep expired quota reservations")
            await asyncio.sleep(self._sweep_every)

    async def aclose(self) -> None:
        """Stops sweeping, after the holds of clients that left mid-admission are given back."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._writer.aclose()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None


def released(conn: Connection, reservations: list[str]) -> dict[str, tuple[int, int]]:
    """Deletes the holds (in the caller's transaction) and returns, per key, what must come
    off its `reserved_*` counters. A hold swept or released before is not found, so it is
    never taken off twice."""
    gone = conn.execute(
        delete(QuotaReservation).where(QuotaReservation.id.in_(reservations)).returning(*_HELD)
    ).all()
    return _negated(gone)


def _negated(rows: Iterable[tuple[str, int, int]]) -> dict[str, tuple[int, int]]:
    sums: dict[str, tuple[int, int]] = {}
    for key_id, tokens, micros in rows:
        held_tokens, held_micros = sums.get(key_id, (0, 0))
        sums[key_id] = (held_tokens - tokens, held_micros - micros)
    return sums


def _move(conn: Connection, deltas: dict[str, tuple[int, int]]) -> None:
    for key_id, (tokens, micros) in sorted(deltas.items()):  # one lock order everywhere
        if tokens or micros:
            conn.execute(_SHIFT, {"key": key_id, "t": tokens, "m": micros})


# Built once: composing a statement costs more CPU than running it on SQLite.
_KEYS = cast(Table, ApiKey.__table__)
_HOLDS = cast(Table, QuotaReservation.__table__)
_keys, _holds = _KEYS.c, _HOLDS.c
_TAKE = (
    update(_KEYS)
    .where(
        _keys.id == bindparam("key"),
        or_(
            _keys.quota_tokens.is_(None),
            _keys.used_tokens + _keys.reserved_tokens < _keys.quota_tokens,
        ),
        or_(
            _keys.quota_micros.is_(None),
            _keys.used_micros + _keys.reserved_micros < _keys.quota_micros,
        ),
    )
    .values(
        reserved_tokens=_keys.reserved_tokens + bindparam("t"),
        reserved_micros=_keys.reserved_micros + bindparam("m"),
    )
)
_SHIFT = (
    update(_KEYS)
    .where(_keys.id == bindparam("key"))
    .values(
        reserved_tokens=_keys.reserved_tokens + bindparam("t"),
        reserved_micros=_keys.reserved_micros + bindparam("m"),
    )
)
_REMEMBER = insert(_HOLDS)


def _settled(column: str) -> ColumnElement[int]:
    total = select(func.coalesce(func.sum(_holds[column]), 0)).where(
        _holds.key_id == _keys.id, _holds.settled
    )
    return total.scalar_subquery()


_SPENT = select(_keys.id).where(
    _keys.id == bindparam("key"),
    or_(
        _keys.used_tokens + _settled("tokens") >= _keys.quota_tokens,
        _keys.used_micros + _settled("micros") >= _keys.quota_micros,
    ),
)
_HELD_BY = (
    select(_holds.tokens, _holds.micros).where(_holds.id == bindparam("rid")).with_for_update()
)
_RESIZE = (
    update(_HOLDS)
    .where(_holds.id == bindparam("rid"))
    .values(tokens=bindparam("t"), micros=bindparam("m"), settled=True)
)
