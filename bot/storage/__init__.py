"""Everything the bot keeps in SQLite, behind one `Store` that owns the connection."""

from __future__ import annotations

from pathlib import Path

from bot.storage.bot_state import BotStateStore
from bot.storage.channels import ChannelStore
from bot.storage.config_history import ConfigHistoryStore
from bot.storage.database import Database, DatabaseError
from bot.storage.guild_config import DEFAULT_MAX_REFERENCES, GuildConfigStore, OperationConfig
from bot.storage.jobs import JobStore
from bot.storage.usage import BudgetStore, UsageLedger

__all__ = ["DEFAULT_MAX_REFERENCES", "DatabaseError", "OperationConfig", "Store"]


class Store:
    """The open database and one repository per kind of record."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.guild_config = GuildConfigStore(database)
        self.state = BotStateStore(database)
        self.jobs = JobStore(database)
        self.usage = UsageLedger(database)
        self.budgets = BudgetStore(database)
        self.quotas = self.budgets.role_quotas  # per-role quotas (bot/storage/quotas.py), checked with budgets
        self.config_history = ConfigHistoryStore(database)
        self.channels = ChannelStore(database)

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open and migrate the database at `path`."""
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Close the connection."""
        await self.database.close()
