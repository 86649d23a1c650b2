"""Budget reservations kept in the database, for processes that share one (PostgreSQL).

A job admitted against a daily budget holds its estimated cost until its real cost is in the ledger
(`bot.budgets`). In one process that hold can live in memory; two processes serving the same guild
(a re-shard, a rolling restart) would each see only their own and together overspend. Here an
admission is one transaction under the guild's lock (`Transaction.lock_guild`): it reads the day's
ledger and every live reservation of the guild, lets the caller decide, and inserts the new
reservation before the lock is released. Nothing is read in one transaction and written in another,
so however many processes admit at once, the limit is passed by at most one job's estimate error.

A reservation is deleted once its job's ledger rows are written (a moment of counting both errs on
the safe side). One left by a process that died stops counting at `expires_at`, and is deleted at once
by the next admission in its guild when its process is known dead (same host, see
`bot.process_identity`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.process_identity import is_running, this_process
from bot.storage.backend import Backend, Row, Transaction
from bot.storage.jobs import format_time
from bot.storage.usage import Spend, UsageLedger

__all__ = ["DEFAULT_TTL", "AdmissionState", "BudgetReservations", "Decide", "Held"]

log = logging.getLogger(__name__)

#: How long a reservation counts at most: far beyond a job's queue wait plus its upstream calls.
DEFAULT_TTL = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Held:
    """What live reservations hold against one limit: USD, images, and jobs of unknown cost."""

    cost: float = 0.0
    images: int = 0
    unknown: int = 0


@dataclass(frozen=True, slots=True)
class AdmissionState:
    """What an admission sees under the guild's lock: the day's ledger and the live reservations."""

    guild_spent: Spend
    member_spent: Spend
    guild_held: Held
    member_held: Held


#: Refuses (raises) or says which limits the job counts against: (guild's, member's).
Decide = Callable[[AdmissionState], tuple[bool, bool]]


def _held(row: Row | None) -> Held:
    if row is None:
        return Held()
    return Held(cost=float(row["cost"] or 0.0), images=int(row["images"] or 0), unknown=int(row["unknown"] or 0))


_HELD = (
    "SELECT COALESCE(SUM(cost), 0) AS cost, COALESCE(SUM(images), 0) AS images, "
    "COALESCE(SUM(unknown_cost), 0) AS unknown FROM budget_reservations WHERE guild_id = ? AND expires_at > ?"
)


class BudgetReservations:
    """Reads and writes `budget_reservations`."""

    def __init__(self, database: Backend, *, owner: str | None = None, ttl: timedelta = DEFAULT_TTL) -> None:
        self._db = database
        self.owner = owner or this_process()
        self.ttl = ttl
        #: Releases and adjustments started by callers that cannot wait (`release_soon`, `hold_soon`).
        self._pending: set[asyncio.Task[None]] = set()

    async def reserve(
        self,
        *,
        guild_id: int,
        member_id: int,
        day: date,
        now: datetime,
        cost: float,
        images: int,
        unknown: bool,
        decide: Decide,
    ) -> int | None:
        """Admit atomically: `decide` sees the state under the guild's lock; returns the reservation's id.

        None when `decide` says the job counts against no limit (nothing to hold). Whatever `decide`
        raises (a refusal) rolls the transaction back and propagates.
        """
        moment = format_time(now)
        async with self._db.transaction() as tx:
            await tx.lock_guild(guild_id)
            await self._drop_dead(tx, guild_id, moment)
            state = AdmissionState(
                guild_spent=await UsageLedger.spend_in(tx, guild_id, since=day, until=day),
                member_spent=await UsageLedger.spend_in(tx, guild_id, since=day, until=day, member_id=member_id),
                guild_held=_held(await tx.fetch_one(_HELD + " AND counts_guild = 1", (guild_id, moment))),
                member_held=_held(await tx.fetch_one(
                    _HELD + " AND counts_member = 1 AND member_id = ?", (guild_id, moment, member_id)
                )),
            )
            counts_guild, counts_member = decide(state)
            if not (counts_guild or counts_member):
                return None
            row = await tx.fetch_one(
                "INSERT INTO budget_reservations (guild_id, member_id, counts_guild, counts_member, cost, images, "
                "unknown_cost, owner, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    guild_id, member_id, int(counts_guild), int(counts_member), max(float(cost), 0.0),
                    max(int(images), 0), int(unknown), self.owner, moment, format_time(now + self.ttl),
                ),
            )
        assert row is not None
        return int(row["id"])

    async def hold(self, reservation_id: int, cost: float) -> None:
        """Hold `cost` instead of the estimate (the real cost is known, not yet in the ledger)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE budget_reservations SET cost = ? WHERE id = ?", (max(float(cost), 0.0), reservation_id)
            )

    async def release(self, reservation_id: int) -> None:
        """Give a reservation back (its job's cost is in the ledger, or it never ran)."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM budget_reservations WHERE id = ?", (reservation_id,))

    def release_soon(self, reservation_id: int) -> None:
        """`release` in the background, for a caller that cannot wait; `settle` waits for it."""
        self._in_background(self.release(reservation_id), f"give back budget reservation {reservation_id}")

    def hold_soon(self, reservation_id: int, cost: float) -> None:
        """`hold` in the background, for a caller that cannot wait; `settle` waits for it."""
        self._in_background(self.hold(reservation_id, cost), f"adjust budget reservation {reservation_id}")

    async def settle(self) -> None:
        """Wait until every background release and adjustment started so far has landed (or failed)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _in_background(self, work: Awaitable[None], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:  # the row then stops counting at its `expires_at`
                log.warning("could not %s; it expires on its own", what, exc_info=True)

        task = asyncio.ensure_future(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def held(self, guild_id: int, member_id: int | None = None, *, now: datetime) -> Held:
        """What live reservations hold now against a server's limit, or one member's."""
        if member_id is None:
            row = await self._db.fetch_one(_HELD + " AND counts_guild = 1", (guild_id, format_time(now)))
        else:
            row = await self._db.fetch_one(
                _HELD + " AND counts_member = 1 AND member_id = ?", (guild_id, format_time(now), member_id)
            )
        return _held(row)

    async def _drop_dead(self, tx: Transaction, guild_id: int, moment: str) -> None:
        """Delete the guild's expired reservations, and those of processes known to have died."""
        await tx.execute("DELETE FROM budget_reservations WHERE guild_id = ? AND expires_at <= ?", (guild_id, moment))
        rows = await tx.fetch_all(
            "SELECT DISTINCT owner FROM budget_reservations WHERE guild_id = ? AND owner IS NOT NULL", (guild_id,)
        )
        owners = {str(row["owner"]) for row in rows} - {self.owner}
        dead = sorted(owner for owner in owners if is_running(owner) is False)
        if dead:
            await tx.execute_many(
                "DELETE FROM budget_reservations WHERE guild_id = ? AND owner = ?",
                [(guild_id, owner) for owner in dead],
            )
