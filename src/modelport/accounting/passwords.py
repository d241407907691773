"""Password hashing (Argon2id through argon2-cffi) and the password policy.

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker thread: the
event loop keeps serving other requests meanwhile. A sign-in for an unknown user verifies
against a dummy hash, so the answer takes as long as for a known user with a wrong password
and does not tell which usernames exist.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256  # bounds the work a sign-in can ask of the hasher


class WeakPassword(ValueError):
    """The password breaks the policy; the message says how."""


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"The password must have at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"The password must have at most {MAX_LENGTH} characters.")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    new_hash: str | None = None  # set when the stored hash's parameters are out of date


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Made once, with this hasher's parameters, so a dummy check costs what a real one does.
        self._dummy = self._hasher.hash("modelport-dummy-password")

    async def hash(self, password: str) -> str:
        check_policy(password)
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> Verdict:
        """Whether `password` matches `stored`; None (an unknown user, or one without a
        password) is checked against the dummy hash and always fails."""
        if len(password) > MAX_LENGTH:
            return Verdict(False)
        return await asyncio.to_thread(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> Verdict:
        try:
            self._hasher.verify(stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verdict(False)
        if stored is None:
            return Verdict(False)
        if self._hasher.check_needs_rehash(stored):
            return Verdict(True, self._hasher.hash(password))
        return Verdict(True)
