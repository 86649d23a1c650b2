"""Per-guild configuration of each operation, read on every command and so served from memory.

The cache is filled on first read and dropped after each committed write, so a change is visible to
the next command at once and a read never touches the database twice for the same guild. Settings of a
whole server rather than one operation (`ServerSettings`, such as spoilers) are kept the same way.
A write made by another process (PostgreSQL shared by several) reaches this cache through
`Transaction.notify` and `forget_guild`; while the backend could miss such a change
(`Backend.caches_valid` False), what is read is not kept.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.errors import OperationDisabled
from bot.openrouter.types import ProviderFilter
from bot.operations import Operation
from bot.requests import Route
from bot.storage.backend import Backend, Transaction, utc_timestamp

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_MAX_REFERENCES",
    "MAX_COUNT",
    "GuildConfigStore",
    "OperationConfig",
    "RecordChange",
    "RecordServerChange",
    "ServerSettings",
    "SpoilerMode",
]

DEFAULT_MAX_REFERENCES = 1
#: Images per request where a server chose nothing, and the most any server may allow.
DEFAULT_COUNT = 1
MAX_COUNT = 4

#: Called as `record(tx, old, new)` inside a change's transaction (the audit trail).
RecordChange = Callable[[Transaction, "OperationConfig", "OperationConfig"], Awaitable[None]]

#: The `Transaction.notify` topic of this store's changes.
TOPIC = "guild_config"


@dataclass(frozen=True, slots=True)
class OperationConfig:
    """What one guild chose for one operation; None and empty mean "the default"."""

    operation: Operation
    model: str | None = None
    only_providers: tuple[str, ...] = ()
    ignore_providers: tuple[str, ...] = ()
    enabled: bool = True
    max_references: int | None = None
    cooldown_s: int = 0
    #: The route an admin forces (for models both routes serve); None: chosen per model.
    route: Route | None = None
    #: How many images a request makes when the member does not say, and the most they may ask for.
    default_count: int | None = None
    max_count: int | None = None

    @property
    def effective_max_count(self) -> int:
        """The most images one request may make in this guild."""
        return self.max_count or MAX_COUNT

    @property
    def effective_default_count(self) -> int:
        """How many images a request makes by default here (never above the maximum)."""
        return min(self.default_count or DEFAULT_COUNT, self.effective_max_count)

    @property
    def provider_filter(self) -> ProviderFilter:
        """The filter sent upstream ("only" wins, see `ProviderFilter`)."""
        return ProviderFilter(only=self.only_providers, ignore=self.ignore_providers)

    @property
    def effective_max_references(self) -> int:
        """How many images `/edit` accepts in this guild."""
        return self.max_references or DEFAULT_MAX_REFERENCES

    def model_or(self, default: str) -> str:
        """The model to call: the guild's choice, else the process default."""
        return self.model or default


class SpoilerMode(StrEnum):
    """When a server's image results are posted as spoilers (a member's own `spoiler` option always wins)."""

    OFF = "off"
    ALWAYS = "always"
    OUTSIDE_AGE_RESTRICTED = "outside-age-restricted"

    @property
    def label(self) -> str:
        """The setting in words."""
        return {
            "off": "off (only when a member asks)",
            "always": "always",
            "outside-age-restricted": "everywhere except age-restricted channels",
        }[self.value]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """What a guild chose for itself as a whole (`guild_settings`); the defaults when it chose nothing."""

    spoilers: SpoilerMode = SpoilerMode.OFF


#: Called as `record(tx, old, new)` inside a server-wide change's transaction.
RecordServerChange = Callable[[Transaction, ServerSettings, ServerSettings], Awaitable[None]]


_COLUMNS = (
    "operation, model, only_providers, ignore_providers, enabled, max_references, cooldown_s, route, "
    "default_count, max_count"
)


class GuildConfigStore:
    """Reads and writes `guild_operation_config`, with a write-through cache."""

    def __init__(self, database: Backend) -> None:
        self._db = database
        self._cache: dict[int, dict[Operation, OperationConfig]] = {}
        self._loading: dict[int, asyncio.Future[dict[Operation, OperationConfig]]] = {}
        self._server_cache: dict[int, ServerSettings] = {}
        self._server_loading: dict[int, asyncio.Future[ServerSettings]] = {}
        #: Bumped on every invalidation, so a read that raced a write never caches the old rows.
        self._generation = 0

    async def get(self, guild_id: int | None, operation: Operation) -> OperationConfig:
        """The configuration in force; outside a guild (DMs) the defaults."""
        if guild_id is None:
            return OperationConfig(operation)
        return (await self.get_all(guild_id))[operation]

    async def enabled(self, guild_id: int | None, operation: Operation) -> OperationConfig:
        """The configuration in force, or `OperationDisabled` when an admin turned the operation off.

        The one place every command, menu, button and form asks "may this run here?", at the moment it
        runs: a result's button obeys today's settings, not those of the day the result was made.
        """
        config = await self.get(guild_id, operation)
        if not config.enabled:
            raise OperationDisabled(operation.label, operation.value)
        return config

    async def get_all(self, guild_id: int) -> dict[Operation, OperationConfig]:
        """All three operations' configuration for a guild."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        loading = self._loading.get(guild_id)
        if loading is None:
            # One read per guild however many commands arrive before it lands (a cold burst).
            loading = asyncio.ensure_future(self._load(guild_id))
            self._loading[guild_id] = loading
            loading.add_done_callback(lambda done: self._forget_load(guild_id, done))
        return await asyncio.shield(loading)

    async def _load(self, guild_id: int) -> dict[Operation, OperationConfig]:
        generation = self._generation
        rows = await self._db.fetch_all_committed(
            f"SELECT {_COLUMNS} FROM guild_operation_config WHERE guild_id = ?", (guild_id,)
        )
        configs = {operation: OperationConfig(operation) for operation in Operation}
        for row in rows:
            config = _from_row(row)
            configs[config.operation] = config
        if generation == self._generation and self._db.caches_valid:  # no write landed while we read
            self._cache[guild_id] = configs
        return configs

    async def update(self, guild_id: int, operation: Operation, **changes: Any) -> OperationConfig:
        """Change some fields atomically and return the new configuration."""
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)
                new = await self._write(tx, guild_id, operation, changes)
                await tx.notify(TOPIC, guild_id)
        finally:
            self._invalidate(guild_id)
        return new

    async def _write(
        self, tx: Transaction, guild_id: int, operation: Operation, changes: dict[str, Any]
    ) -> OperationConfig:
        """Apply changes inside the caller's transaction; later issues compose it with history."""
        current = await self._read(tx, guild_id, operation)
        new = replace(current, **changes)
        await tx.execute(
            "INSERT INTO guild_operation_config (guild_id, " + _COLUMNS + ", updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, operation) DO UPDATE SET model = excluded.model, "
            "only_providers = excluded.only_providers, ignore_providers = excluded.ignore_providers, "
            "enabled = excluded.enabled, max_references = excluded.max_references, "
            "cooldown_s = excluded.cooldown_s, route = excluded.route, default_count = excluded.default_count, "
            "max_count = excluded.max_count, updated_at = excluded.updated_at",
            (guild_id, *_to_row(new), utc_timestamp()),
        )
        return new

    async def change(
        self, guild_id: int, operation: Operation, changes: dict[str, Any], *, record: RecordChange
    ) -> tuple[OperationConfig, OperationConfig]:
        """Like `update`, with `record` written in the same transaction; returns (old, new).

        Reading the old value inside the transaction keeps the recorded "old" exact even when two
        admins change the same thing at once. A change to the current value writes nothing.
        """
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)  # another process's admin: the recorded "old" stays exact
                old = await self._read(tx, guild_id, operation)
                new = replace(old, **changes)
                if new != old:
                    await self._write(tx, guild_id, operation, changes)
                    await record(tx, old, new)
                    await tx.notify(TOPIC, guild_id)
        finally:
            self._invalidate(guild_id)
        return old, new

    async def reset_recorded(
        self, guild_id: int, operations: tuple[Operation, ...], *, record: RecordChange
    ) -> list[tuple[OperationConfig, OperationConfig]]:
        """Like `reset`, recording each operation that had choices; returns those (old, default) pairs."""
        changed = []
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)
                for operation in operations:
                    old = await self._read(tx, guild_id, operation)
                    await tx.execute(
                        "DELETE FROM guild_operation_config WHERE guild_id = ? AND operation = ?",
                        (guild_id, operation.value),
                    )
                    default = OperationConfig(operation)
                    if old != default:
                        await record(tx, old, default)
                        changed.append((old, default))
                if changed:
                    await tx.notify(TOPIC, guild_id)
        finally:
            self._invalidate(guild_id)
        return changed

    async def _read(self, tx: Transaction, guild_id: int, operation: Operation) -> OperationConfig:
        """The stored configuration, read inside the caller's transaction."""
        row = await tx.fetch_one(
            f"SELECT {_COLUMNS} FROM guild_operation_config WHERE guild_id = ? AND operation = ?",
            (guild_id, operation.value),
        )
        return _from_row(row) if row else OperationConfig(operation)

    async def reset(self, guild_id: int, operations: tuple[Operation, ...]) -> None:
        """Forget a guild's choices for these operations, back to the defaults."""
        try:
            async with self._db.transaction() as tx:
                await tx.execute_many(
                    "DELETE FROM guild_operation_config WHERE guild_id = ? AND operation = ?",
                    [(guild_id, operation.value) for operation in operations],
                )
                await tx.notify(TOPIC, guild_id)
        finally:
            self._invalidate(guild_id)

    async def server_settings(self, guild_id: int | None) -> ServerSettings:
        """The guild's server-wide settings in force; outside a guild the defaults."""
        if guild_id is None:
            return ServerSettings()
        cached = self._server_cache.get(guild_id)
        if cached is not None:
            return cached
        loading = self._server_loading.get(guild_id)
        if loading is None:  # one read per guild in a cold burst, as for `get_all`
            loading = asyncio.ensure_future(self._load_server_settings(guild_id))
            self._server_loading[guild_id] = loading
            loading.add_done_callback(lambda done: self._forget_server_load(guild_id, done))
        return await asyncio.shield(loading)

    def _forget_server_load(self, guild_id: int, done: asyncio.Future[ServerSettings]) -> None:
        if self._server_loading.get(guild_id) is done:
            del self._server_loading[guild_id]

    async def _load_server_settings(self, guild_id: int) -> ServerSettings:
        generation = self._generation
        rows = await self._db.fetch_all_committed("SELECT spoilers FROM guild_settings WHERE guild_id = ?", (guild_id,))
        settings = _server_settings(rows[0]) if rows else ServerSettings()
        if generation == self._generation and self._db.caches_valid:  # no write landed while we read
            self._server_cache[guild_id] = settings
        return settings

    async def change_server_settings(
        self, guild_id: int, changes: dict[str, Any], *, record: RecordServerChange | None = None
    ) -> tuple[ServerSettings, ServerSettings]:
        """Change server-wide settings with `record` in the same transaction; returns (old, new)."""
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)
                row = await tx.fetch_one("SELECT spoilers FROM guild_settings WHERE guild_id = ?", (guild_id,))
                old = _server_settings(row) if row else ServerSettings()
                new = replace(old, **changes)
                if new != old:
                    await tx.execute(
                        "INSERT INTO guild_settings (guild_id, spoilers, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (guild_id) DO UPDATE SET spoilers = excluded.spoilers, "
                        "updated_at = excluded.updated_at",
                        (guild_id, new.spoilers.value, utc_timestamp()),
                    )
                    if record is not None:
                        await record(tx, old, new)
                    await tx.notify(TOPIC, guild_id)
        finally:
            self._invalidate(guild_id)
        return old, new

    def _forget_load(self, guild_id: int, done: asyncio.Future[dict[Operation, OperationConfig]]) -> None:
        if self._loading.get(guild_id) is done:
            del self._loading[guild_id]

    def _invalidate(self, guild_id: int) -> None:
        self._generation += 1
        self._cache.pop(guild_id, None)
        self._server_cache.pop(guild_id, None)
        self._server_loading.pop(guild_id, None)
        self._loading.pop(guild_id, None)  # later readers start a fresh read instead of joining a stale one

    def forget_guild(self, guild_id: int | None) -> None:
        """Another process changed this guild (None: any guild); the next read goes to the database."""
        if guild_id is None:
            self.forget_cache()
        else:
            self._invalidate(guild_id)

    def forget_cache(self) -> None:
        """Drop every cached guild (tests and other processes' writes)."""
        self._generation += 1
        self._cache.clear()
        self._server_cache.clear()
        self._server_loading.clear()
        self._loading.clear()


def _from_row(row: Any) -> OperationConfig:
    return OperationConfig(
        operation=Operation(row["operation"]),
        model=row["model"],
        only_providers=tuple(json.loads(row["only_providers"] or "[]")),
        ignore_providers=tuple(json.loads(row["ignore_providers"] or "[]")),
        enabled=bool(row["enabled"]),
        max_references=row["max_references"],
        cooldown_s=int(row["cooldown_s"] or 0),
        route=Route(row["route"]) if row["route"] else None,
        default_count=row["default_count"],
        max_count=row["max_count"],
    )


def _server_settings(row: Any) -> ServerSettings:
    return ServerSettings(spoilers=SpoilerMode(row["spoilers"]))


def _to_row(config: OperationConfig) -> tuple[object, ...]:
    return (
        config.operation.value,
        config.model,
        json.dumps(list(config.only_providers)),
        json.dumps(list(config.ignore_providers)),
        int(config.enabled),
        config.max_references,
        config.cooldown_s,
        config.route.value if config.route else None,
        config.default_count,
        config.max_count,
    )
