"""What upstream calls cost (the usage ledger) and the daily budgets servers set against it.

Ledger rows are written by the job service inside the transaction that completes their job, so the
ledger always agrees with the job history. Rows carry their UTC `day`, which is what budgets (daily,
rolling over at 00:00 UTC) and `/usage` (per-day charts) group by; days compare as ISO text.

Budgets are read before every upstream call, so they are served from a write-through cache like
`GuildConfigStore`: filled on first read, replaced after each committed write, and dropped when another
process sharing the database changes them (`forget_guild`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.operations import Operation
from bot.storage.backend import Backend, Parameters, Row, Transaction, utc_timestamp
from bot.storage.jobs import format_time
from bot.storage.quotas import RoleQuotaStore

if TYPE_CHECKING:
    from bot.storage.reservations import BudgetReservations

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


def _spend(row: Row) -> Spend:
    return Spend(cost=float(row["cost"] or 0.0), calls=int(row["calls"] or 0), images=int(row["images"] or 0))


_TOTALS = "COALESCE(SUM(cost), 0) AS cost, COUNT(*) AS calls, COALESCE(SUM(images), 0) AS images"

#: The `Transaction.notify` topic of budget changes.
TOPIC = "budgets"


def guild_is(guild_id: int | None) -> tuple[str, Parameters]:
    """A condition matching one server's rows, or the direct messages' (guild NULL), that an index can serve.

    (`guild_id IS ?` says the same in SQLite, but PostgreSQL's spelling `IS NOT DISTINCT FROM` uses no index.)
    """
    return ("guild_id IS NULL", ()) if guild_id is None else ("guild_id = ?", (guild_id,))


class UsageLedger:
    """Reads and writes `usage_ledger`. Guild `None` means direct messages."""

    def __init__(self, database: Backend) -> None:
        self._db = database

    @staticmethod
    async def add(tx: Transaction, entry: LedgerEntry) -> None:
        """Append one row inside the caller's transaction (the one completing the job)."""
        await tx.execute(
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
        sql, parameters = spend_query(guild_id, since=since, until=until, member_id=member_id)
        row = await self._db.fetch_one(sql, parameters)
        return _spend(row) if row else Spend()

    @staticmethod
    async def spend_in(
        tx: Transaction, guild_id: int | None, *, since: date, until: date | None = None, member_id: int | None = None
    ) -> Spend:
        """`spend`, read inside the caller's transaction (a budget admission under the guild's lock)."""
        sql, parameters = spend_query(guild_id, since=since, until=until, member_id=member_id)
        row = await tx.fetch_one(sql, parameters)
        return _spend(row) if row else Spend()

    async def by_operation(self, guild_id: int | None, *, since: date) -> dict[Operation, Spend]:
        """A server's totals per operation since a day."""
        guild, parameters = guild_is(guild_id)
        rows = await self._db.fetch_all(
            f"SELECT operation, {_TOTALS} FROM usage_ledger WHERE {guild} AND day >= ? GROUP BY operation",
            (*parameters, since.isoformat()),
        )
        return {Operation(row["operation"]): _spend(row) for row in rows}

    async def top_members(self, guild_id: int | None, *, since: date, limit: int = 5) -> list[tuple[int, Spend]]:
        """The members who spent most since a day, biggest first."""
        guild, parameters = guild_is(guild_id)
        rows = await self._db.fetch_all(
            f"SELECT member_id, {_TOTALS} FROM usage_ledger WHERE {guild} AND day >= ? "
            "GROUP BY member_id ORDER BY cost DESC, calls DESC LIMIT ?",
            (*parameters, since.isoformat(), limit),
        )
        return [(int(row["member_id"]), _spend(row)) for row in rows]

    async def daily_by_operation(self, guild_id: int | None, *, since: date) -> dict[date, dict[Operation, float]]:
        """Spend per UTC day and operation since a day (days without spend are absent)."""
        guild, parameters = guild_is(guild_id)
        rows = await self._db.fetch_all(
            "SELECT day, operation, COALESCE(SUM(cost), 0) AS cost FROM usage_ledger "
            f"WHERE {guild} AND day >= ? GROUP BY day, operation",
            (*parameters, since.isoformat()),
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

    async def last_cost_per_image(self, model: str) -> float | None:
        """The last reported cost of a successful call of this model divided by the images it made.

        A budget holds a job's count times this: one call of four images costs four images, not four calls.
        A call that made no image (a description) counts whole.
        """
        row = await self._db.fetch_one(
            "SELECT cost, images FROM usage_ledger WHERE model = ? AND succeeded = 1 AND cost_reported = 1 "
            "ORDER BY id DESC LIMIT 1",
            (model,),
        )
        return float(row["cost"]) / max(int(row["images"]), 1) if row else None

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


#: Called inside the transaction of a budget change with (tx, old, new): the hook for history.
RecordBudgetChange = Callable[[Transaction, Budget, Budget], Awaitable[None]]


class BudgetStore:
    """Reads and writes `guild_budgets`, with a write-through cache.

    A member's own limits are the server's member default here or their roles' quotas, so the budgets
    carry the server's role quotas too (`role_quotas`): whoever checks the one has the other. On a
    database shared by several processes they carry `shared_reservations` as well, where admissions
    hold their estimates (`bot.storage.reservations`); None when one process's memory is enough.
    """

    def __init__(self, database: Backend) -> None:
        self._db = database
        self.role_quotas = RoleQuotaStore(database)
        self.shared_reservations: BudgetReservations | None = None
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
        # A change committed meanwhile is newer than what was read.
        if self._changes == changes_before and self._db.caches_valid:
            self._cache[guild_id] = budget
        return budget

    @staticmethod
    async def read(tx: Transaction, guild_id: int) -> Budget:
        """The limits as committed, read inside the caller's transaction (no cache)."""
        row = await tx.fetch_one(
            "SELECT guild_daily_usd, member_daily_usd, member_daily_images FROM guild_budgets WHERE guild_id = ?",
            (guild_id,),
        )
        return _budget(row) if row else Budget()

    async def update(
        self, guild_id: int, *, record: RecordBudgetChange | None = None, **changes: Any
    ) -> tuple[Budget, Budget]:
        """Change some limits atomically (None removes one); returns (old, new)."""
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)  # the recorded "old" stays exact with another process's admin
                old = await self.read(tx, guild_id)
                new = replace(old, **changes)
                if new.is_empty:
                    await tx.execute("DELETE FROM guild_budgets WHERE guild_id = ?", (guild_id,))
                else:
                    await tx.execute(
                        "INSERT INTO guild_budgets (guild_id, guild_daily_usd, member_daily_usd, member_daily_images, "
                        "updated_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (guild_id) DO UPDATE SET guild_daily_usd = excluded.guild_daily_usd, "
                        "member_daily_usd = excluded.member_daily_usd, "
                        "member_daily_images = excluded.member_daily_images, updated_at = excluded.updated_at",
                        (guild_id, _float(new.guild_daily_usd), _float(new.member_daily_usd),
                         new.member_daily_images, utc_timestamp()),
                    )
                if new != old:
                    if record is not None:
                        await record(tx, old, new)
                    await tx.notify(TOPIC, guild_id)
        except BaseException:
            self._forget(guild_id)
            raise
        self._changes += 1
        if self._db.caches_valid:
            self._cache[guild_id] = new
        else:
            self._cache.pop(guild_id, None)
        return old, new

    def _forget(self, guild_id: int) -> None:
        self._changes += 1
        self._cache.pop(guild_id, None)

    def forget_guild(self, guild_id: int | None) -> None:
        """Another process changed this server's budget (None: any server's)."""
        if guild_id is None:
            self.forget_cache()
        else:
            self._forget(guild_id)

    def forget_cache(self) -> None:
        """Drop every cached server (tests and other processes' writes)."""
        self._changes += 1
        self._cache.clear()


def spend_query(
    guild_id: int | None, *, since: date, until: date | None = None, member_id: int | None = None
) -> tuple[str, Parameters]:
    """The ledger totals of a server (or a member in it) over UTC days `since`..`until`, as SQL."""
    guild, guild_parameters = guild_is(guild_id)
    sql = f"SELECT {_TOTALS} FROM usage_ledger WHERE {guild} AND day >= ?"
    parameters: list[object] = [*guild_parameters, since.isoformat()]
    if until is not None:
        sql += " AND day <= ?"
        parameters.append(until.isoformat())
    if member_id is not None:
        sql += " AND member_id = ?"
        parameters.append(member_id)
    return sql, tuple(parameters)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _budget(row: Row) -> Budget:
    images = row["member_daily_images"]
    return Budget(
        guild_daily_usd=row["guild_daily_usd"],
        member_daily_usd=row["member_daily_usd"],
        member_daily_images=int(images) if images is not None else None,
    )
