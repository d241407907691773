"""UserStore on SQLite and PostgreSQL: the first account is root, usernames are unique in any
case, the last root cannot be demoted; and the password hasher's policy and rehash."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from modelport.accounting.accounts import Accounts, Search
from modelport.accounting.passwords import Passwords, WeakPassword
from modelport.accounting.users import BadUsername, LastRoot, UsernameTaken, UserStore
from modelport.storage.db import Database


async def test_first_account_is_root_then_users(db: Database) -> None:
    store = UserStore(db)
    first = await store.create("Alice", password_hash="h")
    second = await store.create("bob")
    assert (first.username, first.role) == ("alice", "root")
    assert second.role == "user"
    assert (await store.by_username("ALICE")) == first
    with pytest.raises(UsernameTaken):
        await store.create("ALICE")
    with pytest.raises(BadUsername):
        await store.create("a b")


async def test_last_root_is_never_demoted(db: Database) -> None:
    store = UserStore(db)
    root = await store.create("root1")
    with pytest.raises(LastRoot):
        await store.set_role(root.id, "admin")
    other = await store.create("root2", role="root")
    assert await store.set_role(root.id, "user")
    with pytest.raises(LastRoot):
        await store.set_role(other.id, "admin")
    assert (await store.get(other.id)).role == "root"  # type: ignore[union-attr]


async def test_keyset_pages_and_oidc_lookup(db: Database) -> None:
    store = UserStore(db)
    made = [await store.create(f"user{i}") for i in range(5)]
    linked = await store.create("linked", oidc=("https://idp", "sub-1"))
    accounts = Accounts(db)  # the account list: lifecycle and money share the table
    page1 = await accounts.search(Search(limit=3))
    page2 = await accounts.search(Search(limit=3, after=page1[-1].id))
    ids = [u.id for u in page1 + page2]
    assert sorted(ids) == sorted(u.id for u in [*made, linked])
    assert await store.by_oidc("https://idp", "sub-1") == linked
    assert await store.free_username("User0@example.com") == "user0-example.com"
    assert await store.free_username("user1") == "user1-2"


async def test_passwords_policy_and_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    old = Passwords(weak)
    stored = await old.hash("correct horse")
    with pytest.raises(WeakPassword):
        await old.hash("short")
    with pytest.raises(WeakPassword):
        await old.hash("x" * 257)
    current = Passwords()
    verdict = await current.verify(stored, "correct horse")
    assert verdict.ok and verdict.new_hash is not None  # old parameters: rehashed
    assert (await current.verify(verdict.new_hash, "correct horse")).new_hash is None
    assert not (await current.verify(stored, "wrong horse")).ok
    assert not (await current.verify(None, "correct horse")).ok
