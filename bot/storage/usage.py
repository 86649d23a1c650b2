"""What upstream calls cost (the usage ledger) and the daily budgets servers set against it.

Ledger rows are written by the job service inside the transaction that completes their job, so the
ledger always agrees with the job history. Rows carry their UTC `day`, which is what budgets (daily,
rolling over at 00:00 UTC) and `/usage` (per-day charts) group by; days compare as ISO text.

Budgets are read before every upstream call, so they are served from a write-through cache like
`GuildConfigStore`: filled on first read, replaced after each committed write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bot.operations import Operation
from bot.storage.database import Database
from bot.storage.jobs import format_time
from bot.storage.quotas import RoleQuotaStore

__all__ = ["Budget", "BudgetStore", "LedgerEntry", "RecordBudgetChange", "Spend", "UsageLedger"]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One upstream call and what it cost."""

    guild_id: int | None
    member_id: int
    operation: Operation
    model: str
    at: datetime
    cost: float
    cost_reported: bool
    images: int
    succeeded: bool
    job_id: int | None = None
    generation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Spend:
    """Totals over some rows of the ledger."""

    cost: float = 0.0
    calls: int = 0
    images: int = 0


def _spend(row: Any) -> Spend:
    return Spend(cost=float(row["cost"] or 0.0), calls=int(row["calls"] or 0), images=int(row["images"] or 0))


_TOTALS = "COALESCE(SUM(cost), 0) AS cost, COUNT(*) AS calls, COALESCE(SUM(images), 0) AS images"


class UsageLedger:
    """Reads and writes `usage_ledger`. Guild `None` means direct messages (`IS ?` matches it)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @staticmethod
    async def add(connection: Any, entry: LedgerEntry) -> None:
        """Append one row inside the caller's transaction (the one completing the job)."""
        await connection.execute(
            "INSERT INTO usage_ledger (job_id, guild_id, member_id, operation, model, generation_id, cost, "
            "cost_reported, images, succeeded, created_at, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.job_id,
                entry.guild_id,
                entry.member_id,
                entry.operation.value,
                entry.model,
                entry.generation_id,
                max(entry.cost, 0.0),
                int(entry.cost_reported),
                entry.images,
                int(entry.succeeded),
                format_time(entry.at),
                entry.at.date().isoformat(),
            ),
        )

    async def spend(
        self, guild_id: int | None, *, since: date, until: date | None = None, member_id: int | None = None
    ) -> Spend:
        """Totals for a server (or one member in it) from `since` to `until` (both UTC days, inclusive)."""
        sql = f"SELECT {_TOTALS} FROM usage_ledger WHERE guild_id IS ? AND day >= ?"
        parameters: list[object] = [guild_id, since.isoformat()]
        if until is not None:
            sql += " AND day <= ?"
            parameters.append(until.isoformat())
        if member_id is not None:
            sql += " AND member_id = ?"
            parameters.append(member_id)
        row = await self._db.fetch_one(sql, tuple(parameters))
        return _spend(row) if row else Spend()

    async def by_operation(self, guild_id: int | None, *, since: date) -> dict[Operation, Spend]:
        """A server's totals per operation since a day."""
        rows = await self._db.fetch_all(
            f"SELECT operation, {_TOTALS} FROM usage_ledger WHERE guild_id IS ? AND day >= ? GROUP BY operation",
            (guild_id, since.isoformat()),
        )
        return {Operation(row["operation"]): _spend(row) for row in rows}

    async def top_members(self, guild_id: int | None, *, since: date, limit: int = 5) -> list[tuple[int, Spend]]:
        """The members who spent most since a day, biggest first."""
        rows = await self._db.fetch_all(
            f"SELECT member_id, {_TOTALS} FROM usage_ledger WHERE guild_id IS ? AND day >= ? "
            "GROUP BY member_id ORDER BY cost DESC, calls DESC LIMIT ?",
            (guild_id, since.isoformat(), limit),
        )
        return [(int(row["member_id"]), _spend(row)) for row in rows]

    async def daily_by_operation(self, guild_id: int | None, *, since: date) -> dict[date, dict[Operation, float]]:
        """Spend per UTC day and operation since a day (days without spend are absent)."""
        rows = await self._db.fetch_all(
            "SELECT day, operation, COALESCE(SUM(cost), 0) AS cost FROM usage_ledger "
            "WHERE guild_id IS ? AND day >= ? GROUP BY day, operation",
            (guild_id, since.isoformat()),
        )
        daily: dict[date, dict[Operation, float]] = {}
        for row in rows:
            daily.setdefault(date.fromisoformat(row["day"]), {})[Operation(row["operation"])] = float(row["cost"])
        return daily

    async def last_cost(self, model: str) -> float | None:
        """The cost OpenRouter last reported for a successful call of this model, in any server."""
        row = await self._db.fetch_one(
            "SELECT cost FROM usage_ledger WHERE model = ? AND succeeded = 1 AND cost_reported = 1 "
            "ORDER BY id DESC LIMIT 1",
            (model,),
        )
        return float(row["cost"]) if row else None

    async def entries_for_job(self, job_id: int) -> list[LedgerEntry]:
        """The rows of one job (for tests and support questions)."""
        rows = await self._db.fetch_all(
            "SELECT job_id, guild_id, member_id, operation, model, generation_id, cost, cost_reported, images, "
            "succeeded, created_at FROM usage_ledger WHERE job_id = ? ORDER BY id",
            (job_id,),
        )
        return [
            LedgerEntry(
                guild_id=row["guild_id"],
                member_id=int(row["member_id"]),
                operation=Operation(row["operation"]),
                model=str(row["model"]),
                at=datetime.fromisoformat(row["created_at"]),
                cost=float(row["cost"]),
                cost_reported=bool(row["cost_reported"]),
                images=int(row["images"]),
                succeeded=bool(row["succeeded"]),
                job_id=row["job_id"],
                generation_id=row["generation_id"],
            )
            for row in rows
        ]


@dataclass(frozen=True, slots=True)
class Budget:
    """A server's daily limits; None means no limit."""

    guild_daily_usd: float | None = None
    member_daily_usd: float | None = None
    member_daily_images: int | None = None

    @property
    def is_empty(self) -> bool:
        """No limit at all: nothing to check before a job."""
        return self.guild_daily_usd is None and self.member_daily_usd is None and self.member_daily_images is None


#: Called inside the transaction of a budget change with (connection, old, new): the hook for history.
RecordBudgetChange = Callable[[Any, Budget, Budget], Awaitable[None]]


class BudgetStore:
    """Reads and writes `guild_budgets`, with a write-through cache.

    A member's own limits are the server's member default here or their roles' quotas, so the budgets
    carry the server's role quotas too (`role_quotas`): whoever checks the one has the other.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        self.role_quotas = RoleQuotaStore(database)
        self._cache: dict[int, Budget] = {}
        #: Counts committed changes, so a cache fill that raced one does not store what it read before it.
        self._changes = 0

    async def get(self, guild_id: int | None) -> Budget:
        """The limits in force; outside a server there are none."""
        if guild_id is None:
            return Budget()
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        # Committed data only, from the read-only connection: on the write connection this read would run
        # inside whatever transaction is open there (an admin's change that may yet roll back) and cache it.
        changes_before = self._changes
        rows = await self._db.fetch_all_committed(
            "SELECT guild_daily_usd, member_daily_usd, member_daily_images FROM guild_budgets WHERE guild_id = ?",
            (guild_id,),
        )
        budget = _budget(rows[0]) if rows else Budget()
        if self._changes == changes_before:  # a change committed meanwhile is newer than what was read
            self._cache[guild_id] = budget
        return budget

    async def update(
        self, guild_id: int, *, record: RecordBudgetChange | None = None, **changes: Any
    ) -> tuple[Budget, Budget]:
        """Change some limits atomically (None removes one); returns (old, new)."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT guild_daily_usd, member_daily_usd, member_daily_images FROM guild_budgets WHERE guild_id = ?",
                (guild_id,),
            ) as cursor:
                row = await cursor.fetchone()
            old = _budget(row) if row else Budget()
            new = replace(old, **changes)
            if new.is_empty:
                await connection.execute("DELETE FROM guild_budgets WHERE guild_id = ?", (guild_id,))
            else:
                await connection.execute(
                    "INSERT INTO guild_budgets (guild_id, guild_daily_usd, member_daily_usd, member_daily_images, "
                    "updated_at) VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                    "ON CONFLICT (guild_id) DO UPDATE SET guild_daily_usd = excluded.guild_daily_usd, "
                    "member_daily_usd = excluded.member_daily_usd, "
                    "member_daily_images = excluded.member_daily_images, updated_at = excluded.updated_at",
                    (guild_id, new.guild_daily_usd, new.member_daily_usd, new.member_daily_images),
                )
            if record is not None and new != old:
                await record(connection, old, new)
        self._changes += 1
        self._cache[guild_id] = new
        return old, new

    def forget_cache(self) -> None:
        """Drop every cached server (tests and other processes' writes)."""
        self._cache.clear()


def _budget(row: Any) -> Budget:
    images = row["member_daily_images"]
    return Budget(
        guild_daily_usd=row["guild_daily_usd"],
        member_daily_usd=row["member_daily_usd"],
        member_daily_images=int(images) if images is not None else None,
    )
