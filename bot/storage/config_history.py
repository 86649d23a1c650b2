"""The audit trail of server settings: who changed what, when, from which value to which.

Admins share the settings of a server, so when the model changes or an operation goes dark the
first question is "who did that, and what was it before?". Rows are written by the `record`
callback of `GuildConfigStore.change`/`reset_recorded`, inside the same transaction as the change
itself, so the trail can never disagree with the settings. Values are stored as members read them
(NULL meaning "the default") so that old rows stay readable whatever the code becomes. Each server
keeps its latest `KEEP_PER_GUILD` rows: enough history to answer the question, bounded growth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.storage.backend import Backend, Transaction, utc_timestamp
from bot.storage.guild_config import OperationConfig, RecordChange

__all__ = [
    "KEEP_PER_GUILD",
    "RESET_SETTING",
    "SERVER_WIDE",
    "ConfigHistoryStore",
    "HistoryEntry",
    "describe_config",
    "diff_configs",
]

KEEP_PER_GUILD = 200

#: The `operation` of a setting that belongs to the whole server rather than one operation.
SERVER_WIDE = "server"

#: The setting name of a reset, which records the whole former configuration in one row.
RESET_SETTING = "everything"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded change."""

    changed_at: datetime
    user_id: int
    user_name: str
    operation: str
    setting: str
    old_value: str | None
    new_value: str | None


def _providers(values: tuple[str, ...]) -> str | None:
    return ", ".join(values) if values else None


def diff_configs(old: OperationConfig, new: OperationConfig) -> list[tuple[str, str | None, str | None]]:
    """(setting, old, new) for each field that differs, in the words `/config` uses."""
    pairs: list[tuple[str, str | None, str | None]] = [
        ("model", old.model, new.model),
        ("only providers", _providers(old.only_providers), _providers(new.only_providers)),
        ("ignored providers", _providers(old.ignore_providers), _providers(new.ignore_providers)),
        ("enabled", "on" if old.enabled else "off", "on" if new.enabled else "off"),
        (
            "max references",
            None if old.max_references is None else str(old.max_references),
            None if new.max_references is None else str(new.max_references),
        ),
        ("cooldown", _seconds(old.cooldown_s), _seconds(new.cooldown_s)),
        ("route", old.route.value if old.route else None, new.route.value if new.route else None),
        ("default count", _number(old.default_count), _number(new.default_count)),
        ("max count", _number(old.max_count), _number(new.max_count)),
    ]
    return [(setting, before, after) for setting, before, after in pairs if before != after]


def _number(value: int | None) -> str | None:
    return None if value is None else str(value)


def _seconds(value: int) -> str | None:
    return f"{value} s" if value else None


def describe_config(config: OperationConfig) -> str | None:
    """Every non-default choice of one operation in one line, or None when all are defaults."""
    changes = diff_configs(OperationConfig(config.operation), config)
    parts = [f"{setting} {after}" for setting, _before, after in changes]
    return "; ".join(parts) if parts else None


class ConfigHistoryStore:
    """Reads and writes `guild_config_history`."""

    def __init__(self, database: Backend) -> None:
        self._db = database

    def recorder(self, guild_id: int, user_id: int, user_name: str, *, reset: bool = False) -> RecordChange:
        """The `record` callback for one admin's change: one row per changed field, or per reset."""

        async def record(tx: Transaction, old: OperationConfig, new: OperationConfig) -> None:
            rows: list[tuple[str, str | None, str | None]]
            if reset:
                rows = [(RESET_SETTING, describe_config(old), None)]
            else:
                rows = diff_configs(old, new)
            for setting, before, after in rows:
                await self.record_setting(
                    tx, guild_id=guild_id, user_id=user_id, user_name=user_name,
                    setting=setting, old_value=before, new_value=after, operation=new.operation.value,
                )

        return record

    async def record_setting(
        self,
        tx: Transaction,
        *,
        guild_id: int,
        user_id: int,
        user_name: str,
        setting: str,
        old_value: str | None,
        new_value: str | None,
        operation: str = SERVER_WIDE,
    ) -> None:
        """Write one row inside the caller's transaction; other cogs' settings (budgets) use this too."""
        await tx.execute(
            "INSERT INTO guild_config_history "
            "(guild_id, user_id, user_name, operation, setting, old_value, new_value, changed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, user_id, user_name, operation, setting, old_value, new_value, utc_timestamp()),
        )
        await tx.execute(
            "DELETE FROM guild_config_history WHERE guild_id = ? AND id NOT IN "
            "(SELECT id FROM guild_config_history WHERE guild_id = ? ORDER BY id DESC LIMIT ?)",
            (guild_id, guild_id, KEEP_PER_GUILD),
        )

    async def recent(self, guild_id: int, limit: int = 20) -> list[HistoryEntry]:
        """The latest changes in a server, newest first."""
        rows = await self._db.fetch_all(
            "SELECT changed_at, user_id, user_name, operation, setting, old_value, new_value "
            "FROM guild_config_history WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [
            HistoryEntry(
                changed_at=_parse_time(row["changed_at"]),
                user_id=int(row["user_id"]),
                user_name=str(row["user_name"]),
                operation=str(row["operation"]),
                setting=str(row["setting"]),
                old_value=row["old_value"],
                new_value=row["new_value"],
            )
            for row in rows
        ]


def _parse_time(text: str) -> datetime:
    """A stored `changed_at` (`utc_timestamp`'s form, or SQLite's `strftime` default) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
