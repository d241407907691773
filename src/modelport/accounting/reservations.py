"""Quota reservations: a request holds its worst case against its key before any upstream call.

The database is the one arbiter, so the bound holds across replicas. At admission one
conditional UPDATE adds the request's worst case (its prompt estimate plus `max_tokens` × n,
priced) to the key's `reserved_*` counters, and only if `used + reserved` is still below the
quota; a `quota_reservations` row remembers the hold. When the request ends its hold shrinks to
what it spent, and the ledger releases it in the same transaction that writes the usage row and
raises `used_*`, so spending is never out of both counters. A request is admitted while
anything is left, so a key overdraws by at most one in-flight reservation (the last one
admitted).

A key owned by an account with a quota holds on both: the same transaction takes the key's
conditional UPDATE (which passes for a key without a sub-limit) and then the account's, and
the hold's row names the account (`user_id`), so that resizing, releasing and sweeping it
move both rows' counters. Rows are always locked key first, then account, as the ledger does.

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
    Update,
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
from ..storage.user_tables import User
from .group_write import GroupWriter

log = logging.getLogger("modelport.accounting")
_HELD = (
    QuotaReservation.key_id,
    QuotaReservation.tokens,
    QuotaReservation.micros,
    QuotaReservation.user_id,
)
Deltas = dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Freed:
    """What released holds take off `reserved_*`: per key and per account."""

    keys: Deltas
    users: Deltas


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

    async def reserve(self, key_id: str, hold: Hold, user_id: str | None = None) -> str | None:
        """The reservation's id, or None when the key (or its account `user_id`, when given)
        has nothing left."""
        reservation = "rsv_" + hex_id(16)
        expires = utcnow() + self._ttl
        amounts = {"t": hold.tokens, "m": hold.micros}

        def work(conn: Connection) -> bool:
            if conn.execute(_TAKE, {"key": key_id, **amounts}).rowcount != 1:
                return False
            user = {"user": user_id, **amounts}
            if user_id is not None and conn.execute(_TAKE_USER, user).rowcount != 1:
                # Given back in this transaction: the account's refusal refuses the hold.
                conn.execute(_SHIFT, {"key": key_id, "t": -hold.tokens, "m": -hold.micros})
                return False
            row = {"id": reservation, "key_id": key_id, "expires_at": expires, "settled": False}
            conn.execute(
                _REMEMBER, {**row, "user_id": user_id, "tokens": hold.tokens, "micros": hold.micros}
            )
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
            if (await conn.execute(_SPENT, {"key": key_id})).first() is not None:
                return True
            return (await conn.execute(_SPENT_USER, {"key": key_id})).first() is not None

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
                .returning(QuotaReservation.user_id)
            ).first()
            if grown is not None:  # not yet released or swept
                _move(conn, {key_id: (extra.tokens, extra.micros)})
                if grown[0] is not None:
                    move_users(conn, {grown[0]: (extra.tokens, extra.micros)})

        await self._writer.run(work)

    async def settle(self, reservation: str, key_id: str, spent: Hold) -> None:
        """The request is over: its hold becomes exactly what it spent, until its usage row
        is written (which releases it), so the key's next request sees the true balance."""

        def work(conn: Connection) -> None:
            held = conn.execute(_HELD_BY, {"rid": reservation}).first()
            if held is None:  # its usage row was written first
                return
            conn.execute(_RESIZE, {"rid": reservation, "t": spent.tokens, "m": spent.micros})
            delta = (spent.tokens - held[0], spent.micros - held[1])
            _move(conn, {key_id: delta})
            if held[2] is not None:
                move_users(conn, {held[2]: delta})

        try:
            await self._writer.run(work)
        except Exception:  # the hold stays as large as it was: safe, and released with the row
            log.exception("could not settle the quota hold %s", reservation)

    async def release(self, reservations: Iterable[str]) -> None:
        """Gives holds back without booking anything (a request refused after its hold)."""
        ids = list(reservations)
        if ids:
            await self._writer.run(lambda conn: _move_freed(conn, released(conn, ids)))

    async def sweep(self) -> int:
        """Releases the holds that outlived `ttl` (their process died); returns how many."""

        def work(conn: Connection) -> int:
            gone = conn.execute(
                delete(QuotaReservation)
                .where(QuotaReservation.expires_at < utcnow())
                .returning(*_HELD)
            ).all()
            _move_freed(conn, _negated(gone))
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


def released(conn: Connection, reservations: list[str]) -> Freed:
    """Deletes the holds (in the caller's transaction) and returns, per key and account,
    what must come off their `reserved_*` counters. A hold swept or released before is not
    found, so it is never taken off twice."""
    gone = conn.execute(
        delete(QuotaReservation).where(QuotaReservation.id.in_(reservations)).returning(*_HELD)
    ).all()
    return _negated(gone)


def _negated(rows: Iterable[tuple[str, int, int, str | None]]) -> Freed:
    keys: Deltas = {}
    users: Deltas = {}
    for key_id, tokens, micros, user_id in rows:
        for sums, name in ((keys, key_id), (users, user_id)):
            if name is not None:
                held_tokens, held_micros = sums.get(name, (0, 0))
                sums[name] = (held_tokens - tokens, held_micros - micros)
    return Freed(keys, users)


def _move_freed(conn: Connection, freed: Freed) -> None:
    _move(conn, freed.keys)
    move_users(conn, freed.users)


def _move(conn: Connection, deltas: Deltas) -> None:
    for key_id, (tokens, micros) in sorted(deltas.items()):  # one lock order everywhere
        if tokens or micros:
            conn.execute(_SHIFT, {"key": key_id, "t": tokens, "m": micros})


def move_users(conn: Connection, deltas: Deltas, used: Deltas | None = None) -> None:
    """Adds `deltas` to accounts' `reserved_*` and `used` to their `used_*` (after the keys':
    keys first, then accounts, in id order)."""
    used = used or {}
    for user_id in sorted(deltas.keys() | used.keys()):
        held_tokens, held_micros = deltas.get(user_id, (0, 0))
        used_tokens, used_micros = used.get(user_id, (0, 0))
        if held_tokens or held_micros or used_tokens or used_micros:
            conn.execute(
                _SHIFT_USER,
                {
                    "user": user_id,
                    "t": held_tokens,
                    "m": held_micros,
                    "ut": used_tokens,
                    "um": used_micros,
                },
            )


# Built once: composing a statement costs more CPU than running it on SQLite.
_KEYS = cast(Table, ApiKey.__table__)
_HOLDS = cast(Table, QuotaReservation.__table__)
_keys, _holds = _KEYS.c, _HOLDS.c


def _take(table: Table, id_param: str) -> Update:
    """A hold on one row (a key's or a user's), taken only while what it used and holds
    is under each quota it has."""
    c = table.c
    return (
        update(table)
        .where(
            c.id == bindparam(id_param),
            or_(c.quota_tokens.is_(None), c.used_tokens + c.reserved_tokens < c.quota_tokens),
            or_(c.quota_micros.is_(None), c.used_micros + c.reserved_micros < c.quota_micros),
        )
        .values(
            reserved_tokens=c.reserved_tokens + bindparam("t"),
            reserved_micros=c.reserved_micros + bindparam("m"),
        )
    )


_TAKE = _take(_KEYS, "key")
_SHIFT = (
    update(_KEYS)
    .where(_keys.id == bindparam("key"))
    .values(
        reserved_tokens=_keys.reserved_tokens + bindparam("t"),
        reserved_micros=_keys.reserved_micros + bindparam("m"),
    )
)
_REMEMBER = insert(_HOLDS)
_USERS = cast(Table, User.__table__)
_users = _USERS.c
_TAKE_USER = _take(_USERS, "user")
_SHIFT_USER = (
    update(_USERS)
    .where(_users.id == bindparam("user"))
    .values(
        reserved_tokens=_users.reserved_tokens + bindparam("t"),
        reserved_micros=_users.reserved_micros + bindparam("m"),
        used_tokens=_users.used_tokens + bindparam("ut"),
        used_micros=_users.used_micros + bindparam("um"),
    )
)


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


def _user_settled(column: str) -> ColumnElement[int]:
    total = select(func.coalesce(func.sum(_holds[column]), 0)).where(
        _holds.user_id == _users.id, _holds.settled
    )
    return total.scalar_subquery()


_SPENT_USER = select(_users.id).where(
    _users.id == select(_keys.user_id).where(_keys.id == bindparam("key")).scalar_subquery(),
    or_(
        _users.used_tokens + _user_settled("tokens") >= _users.quota_tokens,
        _users.used_micros + _user_settled("micros") >= _users.quota_micros,
    ),
)
_HELD_BY = (
    select(_holds.tokens, _holds.micros, _holds.user_id)
    .where(_holds.id == bindparam("rid"))
    .with_for_update()
)
_RESIZE = (
    update(_HOLDS)
    .where(_holds.id == bindparam("rid"))
    .values(tokens=bindparam("t"), micros=bindparam("m"), settled=True)
)
