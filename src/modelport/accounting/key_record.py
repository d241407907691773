"""What the platform knows about a key (`KeyRecord`), and how a record is read: the key's
row joined with its account's group, group ratio, status and quota flag."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from ..storage.tables import ApiKey, utcnow
from ..storage.user_tables import User, UserGroup

COLUMNS = tuple(ApiKey.__table__.c)
DEFAULT_GROUP = "default"
# The account's side of a key, joined to it (all NULL for a key without an account).
JOINED = select(
    *COLUMNS,
    User.group_name.label("u_group"),
    User.status.label("u_status"),
    or_(User.quota_tokens.is_not(None), User.quota_micros.is_not(None)).label("u_limited"),
    UserGroup.ratio.label("g_ratio"),
).select_from(
    ApiKey.__table__.outerjoin(User, User.id == ApiKey.user_id).outerjoin(
        UserGroup, UserGroup.name == User.group_name
    )
)
# The same fields for the RETURNING of the look-up's UPDATE (one statement on a cache miss).
ACCOUNT_OF_KEY = (
    select(User.group_name).where(User.id == ApiKey.user_id).scalar_subquery().label("u_group"),
    select(User.status).where(User.id == ApiKey.user_id).scalar_subquery().label("u_status"),
    select(or_(User.quota_tokens.is_not(None), User.quota_micros.is_not(None)))
    .where(User.id == ApiKey.user_id)
    .scalar_subquery()
    .label("u_limited"),
    select(UserGroup.ratio)
    .join(User, User.group_name == UserGroup.name)
    .where(User.id == ApiKey.user_id)
    .scalar_subquery()
    .label("g_ratio"),
)
# KeyRecord fields that are the account's, not columns of the key.
_ACCOUNT_FIELDS = ("group", "group_ratio", "user_status", "user_limited")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the platform knows about a key; never the key itself nor its hash."""

    id: str
    display: str
    name: str
    owner: str
    is_admin: bool
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    quota_tokens: int | None = None  # None: unlimited
    quota_micros: int | None = None  # currency quota in millionths of a unit; None: unlimited
    used_tokens: int = 0
    used_micros: int = 0
    allowed_models: tuple[str, ...] | None = None  # None: every model
    allowed_kbs: tuple[str, ...] | None = None  # None: every knowledge base
    rpm: int | None = None
    tpm: int | None = None
    group_multiplier: float = 1.0
    user_id: str | None = None  # the owning account; None: a key of its own (as before 0012)
    group: str = DEFAULT_GROUP  # the account's group: its price ratio, the channels serving it
    group_ratio: float = 1.0
    user_status: str = "active"  # the account's; a disabled account's keys are refused
    user_limited: bool = False  # the account has a quota (its holds are taken on it)

    @property
    def has_quota(self) -> bool:
        """Whether its requests hold against a quota: the key's own or its account's."""
        return self.quota_tokens is not None or self.quota_micros is not None or self.user_limited

    @property
    def price_multiplier(self) -> float:
        """What every price is multiplied by: the account group's ratio times the key's own
        `group_multiplier` (a per-key adjustment kept from before groups)."""
        return self.group_ratio * self.group_multiplier

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    @classmethod
    def from_row(cls, row: Any) -> KeyRecord:
        m = row._mapping
        return cls(
            id=m["id"],
            display=m["display"],
            name=m["name"],
            owner=m["owner"],
            is_admin=bool(m["is_admin"]),
            created_at=m["created_at"],
            expires_at=m["expires_at"],
            revoked_at=m["revoked_at"],
            last_used_at=m["last_used_at"],
            quota_tokens=m["quota_tokens"],
            quota_micros=m["quota_micros"],
            used_tokens=int(m["used_tokens"] or 0),
            used_micros=int(m["used_micros"] or 0),
            allowed_models=_tuple(m["allowed_models"]),
            allowed_kbs=_tuple(m["allowed_kbs"]),
            rpm=m["rpm"],
            tpm=m["tpm"],
            group_multiplier=float(m["group_multiplier"]),
            user_id=m.get("user_id"),
            group=m.get("u_group") or DEFAULT_GROUP,
            group_ratio=float(m["g_ratio"]) if m.get("g_ratio") is not None else 1.0,
            user_status=m.get("u_status") or "active",
            user_limited=bool(m.get("u_limited")),
        )

    def row_values(self) -> dict[str, Any]:
        """The record as column values (tuples become JSON lists)."""
        return column_values(dataclasses.asdict(self))


# The settable fields of a key, by the admin API and the CLI.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "owner",
        "is_admin",
        "expires_at",
        "quota_tokens",
        "quota_micros",
        "allowed_models",
        "allowed_kbs",
        "rpm",
        "tpm",
        "group_multiplier",
        "user_id",
    }
)


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable fields of a key: {sorted(unknown)}")


def normalise(fields: dict[str, Any]) -> dict[str, Any]:
    """Allow-lists as tuples, for the frozen record."""
    out = dict(fields)
    for name in ("allowed_models", "allowed_kbs"):
        if name in out:
            out[name] = _tuple(out[name])
    return out


def column_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Allow-lists as lists, for the JSON columns."""
    out = {k: v for k, v in fields.items() if k not in _ACCOUNT_FIELDS}
    for name in ("allowed_models", "allowed_kbs"):
        if out.get(name) is not None:
            out[name] = [str(v) for v in out[name]]
    return out
