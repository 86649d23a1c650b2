"""The unit of work every repository is written against, whichever database is underneath.

Two backends implement it: SQLite (`bot.storage.database`, the zero-setup default, one file per
machine) and PostgreSQL (`bot.storage.postgres`, shared by processes on several machines). A
repository writes its SQL once, with `?` placeholders and only what both dialects understand the same
way (`RETURNING`, `ON CONFLICT ... DO UPDATE`, times passed in as ISO text, flags as 0/1); the
PostgreSQL backend rewrites the placeholders to `$1..$n`. The few real differences live in `Dialect`.

No caller outside `bot/storage/` ever sees a driver connection: a `Transaction` is the only handle,
and it exists only inside `async with database.transaction()`.

Caches of per-guild settings were correct while every guild lived in one process. On a shared
database another process may change them, so a write also calls `Transaction.notify`; the backend
tells every *other* process (PostgreSQL: NOTIFY, sent at commit) and they drop that guild through the
callbacks given to `Backend.on_invalidate`. While a backend cannot promise that (`caches_valid` is
False: its listening connection is down), caches must not keep what they read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "POSTGRESQL",
    "SQLITE",
    "Backend",
    "DatabaseError",
    "Dialect",
    "Invalidate",
    "Parameters",
    "Row",
    "Transaction",
    "utc_timestamp",
]

#: Statement parameters, in placeholder order.
Parameters = Sequence[object]

#: Called as `callback(topic, guild_id)` when another process changed that guild's `topic` (a
#: repository name such as "guild_config"); `guild_id` None means "anything may have changed".
Invalidate = Callable[[str, "int | None"], None]


class DatabaseError(Exception):
    """The database cannot be used: unreachable, locked, read-only, corrupt, or from a newer version.

    The text says why and what to do; it never contains a password.
    """


class Row(Protocol):
    """A result row: by column name (`row["cost"]`) or position (`row[0]`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the two SQL dialects in the repositories' own statements."""

    name: str
    #: The function making a one-character string from a code point (`char` / `chr`).
    char_function: str

    def char(self, code: int) -> str:
        """An SQL expression for the character with this code (a tab, a line break)."""
        return f"{self.char_function}({code:d})"


SQLITE = Dialect(name="sqlite", char_function="char")
POSTGRESQL = Dialect(name="postgresql", char_function="chr")


class Transaction(Protocol):
    """Statements that commit together when the `async with` ends, or roll back on any error."""

    dialect: Dialect

    @property
    def in_transaction(self) -> bool:
        """Whether the transaction is still open (statements run now commit or roll back together)."""
        ...

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        ...

    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement once per parameter tuple."""
        ...

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a query (it may be an `INSERT ... RETURNING`), if any."""
        ...

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Every row of a query."""
        ...

    async def lock_guild(self, guild_id: int) -> None:
        """Serialise this transaction with every other one that locks the same guild, until commit.

        For a read-then-write (old value, budget admission) that must see what a concurrent writer in
        another process commits. SQLite's write transactions are serialised already.
        """
        ...

    async def notify(self, topic: str, guild_id: int) -> None:
        """Tell the other processes, once this commits, that the guild's `topic` changed."""
        ...


class Backend(Protocol):
    """An open database at the current schema."""

    dialect: Dialect

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A unit of work: committed together on success, rolled back on any error."""
        ...

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Rows of a read query outside any transaction."""
        ...

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a read query outside any transaction, if any."""
        ...

    async def fetch_all_committed(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Rows of a read query that can see only committed data (what caches are filled from)."""
        ...

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        ...

    @property
    def caches_valid(self) -> bool:
        """Whether a change by another process would reach `on_invalidate` now (else: do not cache)."""
        ...

    def on_invalidate(self, callback: Invalidate) -> None:
        """Call `callback` for every change another process makes (see `Invalidate`)."""
        ...

    async def close(self) -> None:
        """Close every connection; committed data is kept."""
        ...


def utc_timestamp(moment: datetime | None = None) -> str:
    """A time as the `updated_at`-style columns store it: `2026-01-02T03:04:05.678Z` (UTC, ms)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
