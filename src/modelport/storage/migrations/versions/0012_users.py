"""Console accounts, groups with price ratios, sign-in sessions; keys and redemption codes
belong to accounts.

Data step (`_accounts_for_owners`): every distinct `owner` of the existing keys becomes an
account owning those keys, in the group `default` (ratio 1.0, created here), without a
password (an admin gives one later, or the account signs in through OIDC). Its username is
the owner string made valid (lower case; letters, digits, `_`, `.`, `-`; at most 64) and
unique (a `-2`, `-3` … suffix). Its role is `admin` when one of its keys is an admin key.

Quotas migrate without losing or adding a unit: each key keeps its quota, usage and holds as
its own sub-limit, and the account is unlimited (quota NULL) with `used_*` the sum of its
keys' (for the console; an unlimited account is never refused) and nothing reserved (the
holds in flight were taken on the keys alone: `quota_reservations.user_id` stays NULL, so
their release touches only the keys). Every key can therefore spend exactly what it could
before; a key with an unlimited quota stays unlimited. An admin may then move a budget onto
the account (PATCH /admin/users/{id}) and lift the keys' sub-limits.

Revision ID: 0012_users
Revises: 0011_channels
Create Date: 2026-12-08
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012_users"
down_revision: str | Sequence[str] | None = "0011_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_groups",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_user_groups")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("group_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("quota_tokens", sa.BigInteger(), nullable=True),
        sa.Column("quota_micros", sa.BigInteger(), nullable=True),
        sa.Column("used_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("used_micros", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reserved_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reserved_micros", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("oidc_issuer", sa.String(500), nullable=True),
        sa.Column("oidc_subject", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),
    )
    op.create_index(op.f("ix_users_group_name"), "users", ["group_name"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_console_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"])
    op.create_index(op.f("ix_console_sessions_expires_at"), "console_sessions", ["expires_at"])
    _add_key_owner()
    with op.batch_alter_table("redemption_codes") as batch:
        batch.add_column(sa.Column("redeemed_user_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_redemption_codes_redeemed_user_id_users"),
            "users",
            ["redeemed_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("quota_reservations") as batch:
        batch.add_column(sa.Column("user_id", sa.String(40), nullable=True))
        batch.create_index(batch.f("ix_quota_reservations_user_id"), ["user_id"])
    _accounts_for_owners(op.get_bind())


# The tables whose rows refer to api_keys, set aside while SQLite rebuilds it.
_KEY_CHILDREN = ("quota_reservations", "usage_records", "redemption_codes")


def _add_key_owner() -> None:
    """`api_keys.user_id`. SQLite rebuilds `api_keys` for its foreign key, and dropping the old
    table deletes its rows first (foreign keys are on, and cannot be switched off inside the
    migration's transaction): the quota holds in flight would go with their ON DELETE CASCADE
    (their counters then held for ever) and the usage rows and redeemed codes would refuse
    the delete. So the rows referring to keys are copied aside and put back, unchanged."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for table in _KEY_CHILDREN:
            op.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM {table}")
            op.execute(f"DELETE FROM {table}")
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("user_id", sa.String(40), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_api_keys_user_id_users"), "users", ["user_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(batch.f("ix_api_keys_user_id"), ["user_id"])
    if sqlite:
        for table in _KEY_CHILDREN:
            op.execute(f"INSERT INTO {table} SELECT * FROM kept_{table}")
            op.execute(f"DROP TABLE kept_{table}")


_keys = sa.table(
    "api_keys",
    sa.column("id", sa.String),
    sa.column("owner", sa.String),
    sa.column("is_admin", sa.Boolean),
    sa.column("used_tokens", sa.BigInteger),
    sa.column("used_micros", sa.BigInteger),
    sa.column("user_id", sa.String),
)
_users = sa.table(
    "users",
    sa.column("id", sa.String),
    sa.column("username", sa.String),
    sa.column("display_name", sa.String),
    sa.column("role", sa.String),
    sa.column("group_name", sa.String),
    sa.column("status", sa.String),
    sa.column("quota_tokens", sa.BigInteger),
    sa.column("quota_micros", sa.BigInteger),
    sa.column("used_tokens", sa.BigInteger),
    sa.column("used_micros", sa.BigInteger),
    sa.column("reserved_tokens", sa.BigInteger),
    sa.column("reserved_micros", sa.BigInteger),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_groups = sa.table(
    "user_groups",
    sa.column("name", sa.String),
    sa.column("ratio", sa.Float),
    sa.column("description", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def username_of(owner: str, taken: set[str]) -> str:
    """A valid username not in `taken` (which it joins), made from an owner string."""
    base = re.sub(r"[^a-z0-9_.-]+", "-", owner.lower()).strip("-.") or "user"
    base = base[:56]
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _now(conn: sa.Connection) -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now


def _accounts_for_owners(conn: sa.Connection) -> None:
    now = _now(conn)
    conn.execute(
        sa.insert(_groups).values(name="default", ratio=1.0, description=None, created_at=now)
    )
    totals = conn.execute(
        sa.select(
            _keys.c.owner,
            sa.func.max(sa.case((_keys.c.is_admin, 1), else_=0)),
            sa.func.coalesce(sa.func.sum(_keys.c.used_tokens), 0),
            sa.func.coalesce(sa.func.sum(_keys.c.used_micros), 0),
        )
        .group_by(_keys.c.owner)
        .order_by(_keys.c.owner)
    ).all()
    taken: set[str] = set()
    for owner, admin, used_tokens, used_micros in totals:
        user_id = "usr_" + secrets.token_hex(8)
        conn.execute(
            sa.insert(_users).values(
                id=user_id,
                username=username_of(owner, taken),
                display_name=owner[:200],
                role="admin" if admin else "user",
                group_name="default",
                status="active",
                quota_tokens=None,
                quota_micros=None,
                used_tokens=int(used_tokens),
                used_micros=int(used_micros),
                reserved_tokens=0,
                reserved_micros=0,
                created_at=now,
            )
        )
        conn.execute(sa.update(_keys).where(_keys.c.owner == owner).values(user_id=user_id))


def downgrade() -> None:
    with op.batch_alter_table("quota_reservations") as batch:
        batch.drop_index(batch.f("ix_quota_reservations_user_id"))
        batch.drop_column("user_id")
    with op.batch_alter_table("redemption_codes") as batch:
        batch.drop_constraint(
            batch.f("fk_redemption_codes_redeemed_user_id_users"), type_="foreignkey"
        )
        batch.drop_column("disabled_at")
        batch.drop_column("redeemed_user_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index(batch.f("ix_api_keys_user_id"))
        batch.drop_constraint(batch.f("fk_api_keys_user_id_users"), type_="foreignkey")
        batch.drop_column("user_id")
    op.drop_table("console_sessions")
    op.drop_table("users")
    op.drop_table("user_groups")
