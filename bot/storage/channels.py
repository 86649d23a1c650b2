"""The channels each server lets the bot be used in, read on every command and so served from memory.

A server lists channels for all operations (`scope` None here, 'all' in SQL) or for one operation;
an operation may run in the union of the two lists, and anywhere when both are empty. The cache is
filled on first read, from committed data only (`Backend.fetch_all_committed`), and dropped after
every write, here or (through `Transaction.notify` and `forget_guild`) in another process sharing the
database; a read that raced a write is not cached, so the next command always sees the change.
Whether a listed channel still exists is Discord's to say, not the database's: `bot.access.channel_lists`
asks the bot's channel cache and drops deleted channels through `drop`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.messages.config import CHANNEL_LIST_FULL
from bot.operations import Operation
from bot.storage.backend import Backend, Row, Transaction

__all__ = [
    "ALL_SCOPE",
    "MAX_CHANNELS_PER_LIST",
    "AllowedChannel",
    "ChannelListFull",
    "ChannelLists",
    "ChannelStore",
    "SCOPES",
    "RecordChannelChange",
    "Scope",
]

#: How `scope` None (the list for every operation) is stored.
ALL_SCOPE = "all"

#: Channels one list may hold: plenty for a server, and a refusal naming them all stays readable.
MAX_CHANNELS_PER_LIST = 25

#: A list's scope: one operation, or None for the list that applies to every operation.
Scope = Operation | None

SCOPES: tuple[Scope, ...] = (None, *Operation)


@dataclass(frozen=True, slots=True)
class AllowedChannel:
    """One listed channel; `name` is what it was called when it was added (it may be gone since)."""

    scope: Scope
    channel_id: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class ChannelLists:
    """A server's lists, in the order channels were added; no entry at all means "everywhere"."""

    entries: tuple[AllowedChannel, ...] = ()

    def scope(self, scope: Scope) -> tuple[AllowedChannel, ...]:
        """The channels listed for exactly this scope."""
        return tuple(entry for entry in self.entries if entry.scope == scope)

    def for_operation(self, operation: Operation) -> tuple[AllowedChannel, ...]:
        """Where `operation` may run: the list for all operations, then its own (each channel once).

        Empty means the operation runs in every channel.
        """
        seen: set[int] = set()
        found = []
        for entry in (*self.scope(None), *self.scope(operation)):
            if entry.channel_id not in seen:
                seen.add(entry.channel_id)
                found.append(entry)
        return tuple(found)

    @property
    def channel_ids(self) -> frozenset[int]:
        """Every channel on any list."""
        return frozenset(entry.channel_id for entry in self.entries)

    def without(self, channel_ids: Collection[int]) -> ChannelLists:
        """The same lists with these channels taken off."""
        return ChannelLists(tuple(entry for entry in self.entries if entry.channel_id not in channel_ids))


#: Called as `record(tx, scope, old, new)` inside a change's transaction, once per list that changed.
RecordChannelChange = Callable[
    [Transaction, Scope, tuple[AllowedChannel, ...], tuple[AllowedChannel, ...]], Awaitable[None]
]

#: The `Transaction.notify` topic of this store's changes.
TOPIC = "channels"


class ChannelListFull(UserFacingError):
    """A list already holds `MAX_CHANNELS_PER_LIST` channels."""

    title = CHANNEL_LIST_FULL.title

    def __init__(self) -> None:
        super().__init__(CHANNEL_LIST_FULL.format(maximum=MAX_CHANNELS_PER_LIST))


def _scope_value(scope: Scope) -> str:
    return ALL_SCOPE if scope is None else scope.value


def _entry(row: Row) -> AllowedChannel:
    scope = None if row["scope"] == ALL_SCOPE else Operation(row["scope"])
    return AllowedChannel(scope=scope, channel_id=int(row["channel_id"]), name=str(row["name"] or ""))


#: In the order channels were added: SQLite's implicit `rowid`, a real column of that name on PostgreSQL.
_SELECT = "SELECT scope, channel_id, name FROM guild_allowed_channels WHERE guild_id = ? ORDER BY rowid"


class ChannelStore:
    """Reads and writes `guild_allowed_channels`, with a write-through cache."""

    def __init__(self, database: Backend) -> None:
        self._db = database
        self._cache: dict[int, ChannelLists] = {}
        self._loading: dict[int, asyncio.Future[ChannelLists]] = {}
        #: Bumped after every write, so a cache fill that raced one never stores what it read before it.
        self._generation = 0

    async def get(self, guild_id: int | None) -> ChannelLists:
        """The server's lists as last committed; outside a server there are none."""
        if guild_id is None:
            return ChannelLists()
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        loading = self._loading.get(guild_id)
        if loading is None:
            # One read per server however many commands arrive before it lands (a cold burst).
            loading = asyncio.ensure_future(self._load(guild_id))
            self._loading[guild_id] = loading
            loading.add_done_callback(lambda done: self._forget_load(guild_id, done))
        return await asyncio.shield(loading)

    async def _load(self, guild_id: int) -> ChannelLists:
        # The read-only connection: on the write connection this would see an admin's change still in
        # its transaction (which may yet roll back) and cache it.
        generation = self._generation
        rows = await self._db.fetch_all_committed(_SELECT, (guild_id,))
        lists = ChannelLists(tuple(_entry(row) for row in rows))
        if generation == self._generation and self._db.caches_valid:  # no write committed while we read
            self._cache[guild_id] = lists
        return lists

    def _forget_load(self, guild_id: int, done: asyncio.Future[ChannelLists]) -> None:
        if self._loading.get(guild_id) is done:
            del self._loading[guild_id]

    async def add(
        self, guild_id: int, scope: Scope, channel_id: int, name: str, *, record: RecordChannelChange | None = None
    ) -> tuple[ChannelLists, ChannelLists]:
        """List a channel (already listed: nothing changes); returns the lists (old, new)."""

        def check(old: ChannelLists) -> None:
            listed = old.scope(scope)
            if len(listed) >= MAX_CHANNELS_PER_LIST and channel_id not in {entry.channel_id for entry in listed}:
                raise ChannelListFull()

        return await self._change(
            guild_id,
            [(
                "INSERT INTO guild_allowed_channels (guild_id, scope, channel_id, name) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, scope, channel_id) DO NOTHING",
                (guild_id, _scope_value(scope), channel_id, name),
            )],
            record,
            check=check,
        )

    async def remove(
        self, guild_id: int, scopes: Sequence[Scope], channel_id: int, *, record: RecordChannelChange | None = None
    ) -> tuple[ChannelLists, ChannelLists]:
        """Take a channel off these lists; returns the lists (old, new)."""
        return await self._change(
            guild_id,
            [
                (
                    "DELETE FROM guild_allowed_channels WHERE guild_id = ? AND scope = ? AND channel_id = ?",
                    (guild_id, _scope_value(scope), channel_id),
                )
                for scope in scopes
            ],
            record,
        )

    async def clear(
        self, guild_id: int, scopes: Sequence[Scope], *, record: RecordChannelChange | None = None
    ) -> tuple[ChannelLists, ChannelLists]:
        """Empty these lists; returns the lists (old, new)."""
        return await self._change(
            guild_id,
            [
                ("DELETE FROM guild_allowed_channels WHERE guild_id = ? AND scope = ?", (guild_id, _scope_value(scope)))
                for scope in scopes
            ],
            record,
        )

    async def drop(
        self, guild_id: int, channel_ids: Collection[int], *, record: RecordChannelChange | None = None
    ) -> tuple[ChannelLists, ChannelLists]:
        """Take channels off every list (they were deleted); returns the lists (old, new)."""
        return await self._change(
            guild_id,
            [
                ("DELETE FROM guild_allowed_channels WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id))
                for channel_id in sorted(channel_ids)
            ],
            record,
        )

    async def _change(
        self,
        guild_id: int,
        statements: list[tuple[str, tuple[object, ...]]],
        record: RecordChannelChange | None,
        *,
        check: Callable[[ChannelLists], None] | None = None,
    ) -> tuple[ChannelLists, ChannelLists]:
        """Run the statements in one transaction with the history of each list they changed.

        The old lists are read inside the transaction, so what is recorded as "before" is exact even
        when two admins (or an admin and a deleted-channel clean-up) change the lists at once; a
        statement that changes nothing records nothing.
        """
        try:
            async with self._db.transaction() as tx:
                await tx.lock_guild(guild_id)  # the "before" stays exact with another process's writer too
                old = await self._read(tx, guild_id)
                if check is not None:
                    check(old)
                for sql, parameters in statements:
                    await tx.execute(sql, parameters)
                new = await self._read(tx, guild_id)
                if record is not None:
                    for scope in SCOPES:
                        if old.scope(scope) != new.scope(scope):
                            await record(tx, scope, old.scope(scope), new.scope(scope))
                if new != old:
                    await tx.notify(TOPIC, guild_id)
        finally:
            self._invalidate(guild_id)
        return old, new

    @staticmethod
    async def _read(tx: Transaction, guild_id: int) -> ChannelLists:
        return ChannelLists(tuple(_entry(row) for row in await tx.fetch_all(_SELECT, (guild_id,))))

    def _invalidate(self, guild_id: int) -> None:
        self._generation += 1
        self._cache.pop(guild_id, None)
        self._loading.pop(guild_id, None)  # later readers start a fresh read instead of joining a stale one

    def forget_guild(self, guild_id: int | None) -> None:
        """Another process changed this server's lists (None: any server's)."""
        if guild_id is None:
            self.forget_cache()
        else:
            self._invalidate(guild_id)

    def forget_cache(self) -> None:
        """Drop every cached server (tests and other processes' writes)."""
        self._generation += 1
        self._cache.clear()
        self._loading.clear()
