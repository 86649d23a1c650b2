"""Small named values the bot keeps for itself between runs (such as the synced command hash)."""

from __future__ import annotations

from bot.storage.backend import Backend

__all__ = ["BotStateStore"]


class BotStateStore:
    """A key/value table; values are short strings."""

    def __init__(self, database: Backend) -> None:
        self._db = database

    async def get(self, key: str) -> str | None:
        """The stored value, or None."""
        row = await self._db.fetch_one("SELECT value FROM bot_state WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set(self, key: str, value: str) -> None:
        """Store a value, replacing any earlier one."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
