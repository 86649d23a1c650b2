"""Everything the bot keeps in its database, behind one `Store` that owns the backend.

`Store.open` picks the backend from its target: a SQLite file (a `Path` or `sqlite:///...`, the
zero-setup default) or a PostgreSQL server (`postgresql://...`, shared by bot processes on several
machines). The repositories are written once against the unit of work of `bot.storage.backend`;
nothing outside this package sees a driver connection or a placeholder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from bot.storage import channels, guild_config, quotas, usage
from bot.storage.backend import Backend, DatabaseError
from bot.storage.bot_state import BotStateStore
from bot.storage.channels import ChannelStore
from bot.storage.config_history import ConfigHistoryStore
from bot.storage.database import Database
from bot.storage.guild_config import DEFAULT_MAX_REFERENCES, GuildConfigStore, OperationConfig
from bot.storage.jobs import JobStatus, JobStore
from bot.storage.reservations import BudgetReservations
from bot.storage.usage import BudgetStore, LedgerEntry, UsageLedger

__all__ = [
    "COPY_TABLES",
    "DEFAULT_MAX_REFERENCES",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_STATEMENT_TIMEOUT_S",
    "DatabaseError",
    "OperationConfig",
    "Store",
    "is_postgres_url",
]

DEFAULT_POOL_SIZE = 10
DEFAULT_STATEMENT_TIMEOUT_S = 15.0

#: Every table holding the bot's data, parents before children (what `migrate-db` copies, in order).
#: `budget_reservations` is left out: it holds only what live jobs reserve.
COPY_TABLES = (
    "bot_state",
    "guild_operation_config",
    "guild_settings",
    "guild_budgets",
    "guild_role_quotas",
    "guild_allowed_channels",
    "guild_config_history",
    "jobs",
    "usage_ledger",
)

_POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | Path) -> bool:
    """Whether `target` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.lower().startswith(_POSTGRES_PREFIXES)


def _sqlite_path(target: str | Path) -> Path:
    """The file of a `Path`, a plain path, or a `sqlite:///relative` / `sqlite:////absolute` URL."""
    if isinstance(target, Path):
        return target
    if target.lower().startswith("sqlite:///"):
        return Path(target[len("sqlite:///"):])
    if target.lower().startswith("sqlite:"):
        raise DatabaseError("a SQLite DATABASE_URL is sqlite:///relative/path or sqlite:////absolute/path")
    return Path(target)


class Store:
    """The open database and one repository per kind of record."""

    def __init__(self, database: Backend) -> None:
        self.database = database
        self.guild_config = GuildConfigStore(database)
        self.state = BotStateStore(database)
        self.jobs = JobStore(database)
        self.usage = UsageLedger(database)
        self.budgets = BudgetStore(database)
        self.quotas = self.budgets.role_quotas  # per-role quotas (bot/storage/quotas.py), checked with budgets
        self.config_history = ConfigHistoryStore(database)
        self.channels = ChannelStore(database)
        self.reservations = BudgetReservations(database, owner=self.jobs.owner)
        if self.shared:  # other processes admit jobs against the same budgets: hold estimates in the database
            self.budgets.shared_reservations = self.reservations
        database.on_invalidate(self._changed_elsewhere)

    @property
    def shared(self) -> bool:
        """Whether other processes may use this database at once (PostgreSQL), so budgets must hold there."""
        return self.database.dialect.name == "postgresql"

    @classmethod
    async def open(
        cls,
        target: Path | str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    ) -> Store:
        """Open and migrate the database `target` names: a SQLite path or URL, or a PostgreSQL URL.

        `pool_size` and `statement_timeout_s` apply to PostgreSQL. Raises `DatabaseError` with a
        reason that never contains a password.
        """
        if is_postgres_url(target):
            from bot.storage.postgres import PostgresDatabase

            assert isinstance(target, str)
            return cls(await PostgresDatabase.open(
                target, pool_size=pool_size, statement_timeout_s=statement_timeout_s
            ))
        return cls(await Database.open(_sqlite_path(target)))

    async def record_job_outcome(
        self,
        job_id: int,
        entries: Iterable[LedgerEntry],
        *,
        status: JobStatus,
        finished_at: datetime,
        cost: float | None,
        generation_id: str | None,
        error_kind: str | None,
        upstream_ms: int | None,
        result_channel_id: int | None,
        result_message_id: int | None,
        result_files: Sequence[str],
        result_seeds: Sequence[int | None] = (),
        result_costs: Sequence[float | None] = (),
    ) -> None:
        """A finished job's row and its ledger rows, in one transaction: the two never disagree."""
        async with self.database.transaction() as tx:
            await JobStore.finish(
                tx, job_id, status=status, finished_at=finished_at, cost=cost, generation_id=generation_id,
                error_kind=error_kind, upstream_ms=upstream_ms, result_channel_id=result_channel_id,
                result_message_id=result_message_id, result_files=result_files, result_seeds=result_seeds,
                result_costs=result_costs,
            )
            for entry in entries:
                await UsageLedger.add(tx, entry)

    def _changed_elsewhere(self, topic: str, guild_id: int | None) -> None:
        """Another process committed a change to `topic` of a guild (None: anything): drop what is cached."""
        everything = guild_id is None or topic == "*"
        target = None if everything else guild_id
        if everything or topic == guild_config.TOPIC:
            self.guild_config.forget_guild(target)
        if everything or topic == channels.TOPIC:
            self.channels.forget_guild(target)
        if everything or topic == usage.TOPIC:
            self.budgets.forget_guild(target)
        if everything or topic == quotas.TOPIC:
            self.quotas.forget_guild(target)

    async def close(self) -> None:
        """Give back what finished jobs reserved (briefly), then close the connections."""
        try:
            await asyncio.wait_for(self.reservations.settle(), 5.0)
        except TimeoutError:  # left rows stop counting at their `expires_at`
            pass
        await self.database.close()
