"""Per-role daily quotas: how many images and how many USD a role's members may use per UTC day.

A quota sets either dimension or both; each is a number (0 allows nothing) or `UNLIMITED`, and a
dimension a role leaves unset (None) does not count for it. Which quota applies to a member (the most
generous of their roles', else the server's member default) is `bot.budgets.member_allowance`'s rule.

Quotas are read before every job, so they are served from a write-through cache like `BudgetStore`:
each server's quotas are read once from committed data only (never from inside another coroutine's
open transaction, which may yet roll back), replaced after each committed change, and a read that raced
a change is returned but not cached. Another process's change (a shared PostgreSQL database) drops the
server's entry through `forget_guild`.

A dimension is stored as its number or the text 'unlimited' (PostgreSQL: always text, the number's
decimal form), and written as `str(value)` on both dialects: SQLite's column affinity stores '5' as 5.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from bot.storage.backend import Backend, Row, Transaction, utc_timestamp

__all__ = [
    "UNLIMITED",
    "ImageQuota",
    "RecordQuotaChange",
    "RoleQuota",
    "RoleQuotaStore",
    "Unlimited",
    "UsdQuota",
]


class Unlimited(enum.Enum):
    """The value of a quota dimension without a limit (stored as the text 'unlimited')."""

    UNLIMITED = "unlimited"


UNLIMITED: Final = Unlimited.UNLIMITED

#: Images per UTC day: a count (0 allows none), UNLIMITED, or None when the role sets none.
ImageQuota = int | Unlimited | None
#: USD per UTC day: an amount (0 allows nothing), UNLIMITED, or None when the role sets none.
UsdQuota = float | Unlimited | None


@dataclass(frozen=True, slots=True)
class RoleQuota:
    """One role's daily quota in one server."""

    role_id: int
    images_per_day: ImageQuota = None
    usd_per_day: UsdQuota = None

    @property
    def is_empty(self) -> bool:
        """Neither dimension set: the role has no quota at all."""
        return self.images_per_day is None and self.usd_per_day is None


#: Called inside the transaction of a quota change with (tx, old, new): the hook for history.
RecordQuotaChange = Callable[[Transaction, RoleQuota, RoleQuota], Awaitable[None]]

#: The `Transaction.notify` topic of this store's changes.
TOPIC = "quotas"

_EMPTY: Mapping[int, RoleQuota] = MappingProxyType({})
_COLUMNS = "role_id, images_per_day, usd_per_day"


class RoleQuotaStore:
    """Reads and writes `guild_role_quotas`, with a write-through cache per server."""

    def __init__(self, database: Backend) -> None:
        self._db = database
        self._cache: dict[int, Mapping[int, RoleQuota]] = {}
        #: Counts committed changes, so a cache fill that raced one does not store what it read before it.
        self._changes = 0

    async def get(self, guild_id: int | None) -> Mapping[int, RoleQuota]:
        """The server's quotas by role id (read-only); outside a server there are none."""
        if guild_id is None:
            return _EMPTY
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        changes_before = self._changes
        rows = await self._db.fetch_all_committed(
            f"SELECT {_COLUMNS} FROM guild_role_quotas WHERE guild_id = ?", (guild_id,)
        )
        quotas = _mapping(rows)
        # A change committed meanwhile is newer than what was read.
        if self._changes == changes_before and self._db.caches_valid:
            self._cache[guild_id] = quotas
        return quotas

    async def role(self, guild_id: int, role_id: int) -> RoleQuota:
        """One role's quota (empty when it has none)."""
        return (await self.get(guild_id)).get(role_id) or RoleQuota(role_id)

    async def update(
        self, guild_id: int, role_id: int, *, record: RecordQuotaChange | None = None, **changes: Any
    ) -> tuple[RoleQuota, RoleQuota]:
        """Change `images_per_day` and/or `usd_per_day` of one role atomically (None unsets one).

        Returns (old, new); a quota left with neither dimension is deleted. `record` runs inside the
        same transaction when something changed, so the history cannot disagree with the quotas.
        """
        unknown = set(changes) - {"images_per_day", "usd_per_day"}
        if unknown:
            raise TypeError(f"unknown quota fields: {sorted(unknown)}")
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)  # the recorded "old" stays exact with another process's admin
                row = await tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM guild_role_quotas WHERE guild_id = ? AND role_id = ?", (guild_id, role_id)
                )
                old = _quota(row) if row else RoleQuota(role_id)
                new = replace(old, **changes)
                if new.is_empty:
                    await tx.execute(
                        "DELETE FROM guild_role_quotas WHERE guild_id = ? AND role_id = ?", (guild_id, role_id)
                    )
                elif new != old:
                    await tx.execute(
                        "INSERT INTO guild_role_quotas (guild_id, role_id, images_per_day, usd_per_day, updated_at) "
                        "VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (guild_id, role_id) DO UPDATE SET images_per_day = excluded.images_per_day, "
                        "usd_per_day = excluded.usd_per_day, updated_at = excluded.updated_at",
                        (guild_id, role_id, _column(new.images_per_day), _column(new.usd_per_day), utc_timestamp()),
                    )
                if new != old:
                    if record is not None:
                        await record(tx, old, new)
                    await tx.notify(TOPIC, guild_id)
                quotas = _mapping(
                    await tx.fetch_all(f"SELECT {_COLUMNS} FROM guild_role_quotas WHERE guild_id = ?", (guild_id,))
                )
        except BaseException:
            self._forget(guild_id)
            raise
        self._changes += 1
        if self._db.caches_valid:
            self._cache[guild_id] = quotas
        else:
            self._cache.pop(guild_id, None)
        return old, new

    def _forget(self, guild_id: int) -> None:
        self._changes += 1
        self._cache.pop(guild_id, None)

    def forget_guild(self, guild_id: int | None) -> None:
        """Another process changed this server's quotas (None: any server's)."""
        if guild_id is None:
            self.forget_cache()
        else:
            self._forget(guild_id)

    def forget_cache(self) -> None:
        """Drop every cached server (tests and other processes' writes)."""
        self._changes += 1
        self._cache.clear()


def _column(value: int | float | Unlimited | None) -> str | None:
    """A dimension as stored: the text 'unlimited' or the number's decimal form (see the module docstring)."""
    if value is None:
        return None
    return value.value if isinstance(value, Unlimited) else str(value)


def _quota(row: Row) -> RoleQuota:
    images, amount = row["images_per_day"], row["usd_per_day"]
    return RoleQuota(
        role_id=int(row["role_id"]),
        images_per_day=UNLIMITED if images == UNLIMITED.value else (int(images) if images is not None else None),
        usd_per_day=UNLIMITED if amount == UNLIMITED.value else (float(amount) if amount is not None else None),
    )


def _mapping(rows: list[Row]) -> Mapping[int, RoleQuota]:
    return MappingProxyType({quota.role_id: quota for quota in map(_quota, rows)})
