"""The SQLite backend: its connection, its migrations, and the one way to write, a serialised transaction.

One aiosqlite connection serves the whole process. It runs in autocommit mode and every write goes
through `transaction()`, which holds a lock so that two coroutines can never interleave statements
of different transactions on the shared connection. Migrations are numbered `.sql` files in
`bot/migrations` (PostgreSQL's, at the same numbers, in `bot/migrations/postgresql`), tracked with
`PRAGMA user_version`, each applied in its own transaction.

SQLite is one file on one machine: processes sharing it (shards on one host) see each other's
writes, but nothing tells their caches, so each guild's settings are only cached correctly in the
process that serves the guild (`caches_valid` is always True here; see `bot.storage.backend`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.storage.backend import SQLITE, DatabaseError, Invalidate, Parameters, Row

__all__ = ["Database", "DatabaseError", "Migration", "SqliteTransaction", "load_migrations"]

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered schema step."""

    version: int
    name: str
    sql: str


#: Where each dialect's migrations are shipped.
_MIGRATION_PACKAGES = {"sqlite": "bot.migrations", "postgresql": "bot.migrations.postgresql"}


def load_migrations(dialect: str = "sqlite") -> list[Migration]:
    """Every migration shipped for a dialect, in order; numbering gaps are a packaging bug."""
    found = []
    for entry in resources.files(_MIGRATION_PACKAGES[dialect]).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {expected:04d} is missing (found {migration.name})")
    return found


class SqliteTransaction:
    """The unit of work on the shared connection (only valid inside `Database.transaction()`)."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    @property
    def in_transaction(self) -> bool:
        """Whether the transaction is still open."""
        return bool(self._connection.in_transaction)

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        cursor = await self._connection.execute(sql, tuple(parameters))
        return max(cursor.rowcount, 0)

    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement once per parameter tuple."""
        await self._connection.executemany(sql, [tuple(row) for row in rows])

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a query (an `INSERT ... RETURNING` too), if any."""
        async with self._connection.execute(sql, tuple(parameters)) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Every row of a query."""
        async with self._connection.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def lock_guild(self, guild_id: int) -> None:
        """Nothing to do: `BEGIN IMMEDIATE` already serialises every write transaction on the file."""

    async def notify(self, topic: str, guild_id: int) -> None:
        """Nothing to do: no other process is told (see the module docstring)."""


class Database:
    """An open SQLite database at the current schema."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._write_lock = asyncio.Lock()
        self._reader: aiosqlite.Connection | None = None
        self.path = path

    @classmethod
    async def open(cls, path: Path, *, migrations: list[Migration] | None = None) -> Database:
        """Open (creating the folder and file) and migrate; raise `DatabaseError` with a clear reason."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder {path.parent}: {exc.strerror}") from None
        connection: aiosqlite.Connection | None = None
        try:
            connection = await aiosqlite.connect(path, isolation_level=None, timeout=5.0)
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA busy_timeout = 5000")
            await _enable_wal(connection)
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            database = cls(connection, path)
            await database._migrate(migrations if migrations is not None else load_migrations())
            await database._open_reader()
            return database
        except sqlite3.Error as exc:
            if connection is not None:
                await connection.close()
            raise DatabaseError(f"cannot use the database {path}: {_explain(exc)}") from None
        except DatabaseError:
            if connection is not None:
                await connection.close()
            raise

    async def _open_reader(self) -> None:
        """A second connection for reads that must only ever see committed rows.

        In WAL mode another connection sees the last committed state, never an open transaction of
        the writer, and never waits for the writer either: a cache fill stays fast while a burst of
        jobs queues on the write lock.
        """
        reader = await aiosqlite.connect(self.path, isolation_level=None, timeout=5.0)
        reader.row_factory = aiosqlite.Row
        await reader.execute("PRAGMA busy_timeout = 5000")
        await reader.execute("PRAGMA query_only = ON")
        self._reader = reader

    async def close(self) -> None:
        """Close the connections; committed data is already on disk."""
        if self._reader is not None:
            await self._reader.close()
        await self._connection.close()

    async def schema_version(self) -> int:
        """The applied `PRAGMA user_version`."""
        async with self._connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self, migrations: list[Migration]) -> None:
        current = await self.schema_version()
        latest = migrations[-1].version if migrations else 0
        if current > latest:
            raise DatabaseError(
                f"the database is at schema {current}, newer than this bot knows ({latest}); "
                "run the newer bot version or restore a backup"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            await self._apply(migration)

    async def _apply(self, migration: Migration) -> None:
        """Apply one migration atomically, unless another process applied it first.

        `BEGIN IMMEDIATE` takes the write lock before the version is re-read, so two processes
        starting together on one file (shards) cannot both run the same migration.
        """
        connection = self._connection
        await connection.execute("BEGIN IMMEDIATE")
        try:
            if await self.schema_version() >= migration.version:
                await connection.execute("COMMIT")
                return
            for statement in split_statements(migration.sql):
                await connection.execute(statement)
            await connection.execute(f"PRAGMA user_version = {migration.version:d}")
            await connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                await connection.execute("ROLLBACK")
            raise

    @property
    def caches_valid(self) -> bool:
        """Always: no other process's change is announced here, and none is expected (module docstring)."""
        return True

    def on_invalidate(self, callback: Invalidate) -> None:
        """Nothing will call it: SQLite has no way to hear another process's change."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """Run statements atomically: committed together on success, rolled back on any error."""
        async with self._write_lock:
            await self._begin()
            try:
                yield SqliteTransaction(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            else:
                await self._connection.execute("COMMIT")

    async def _begin(self) -> None:
        """Start a write transaction; a cancellation while it starts never leaves it open.

        aiosqlite runs the statement in its own thread, which finishes it even when the awaiting task
        is cancelled, so on cancellation wait for it and roll back before passing the cancellation on.
        """
        begin = asyncio.ensure_future(self._connection.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begin
            if self._connection.in_transaction:
                await self._connection.execute("ROLLBACK")
            raise

    async def fetch_all_committed(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Rows of a read query that cannot see another coroutine's open transaction.

        All writers share one connection, so a plain read issued while a transaction is open would
        see its uncommitted rows. Readers that cache what they read use this instead: it runs on
        the separate read connection, which sees only committed data and does not wait for writers.
        """
        if self._reader is None:
            async with self._write_lock:
                return await self.fetch_all(sql, parameters)
        async with self._reader.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Rows of a read query."""
        async with self._connection.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a read query, if any."""
        async with self._connection.execute(sql, tuple(parameters)) as cursor:
            row: Row | None = await cursor.fetchone()
            return row


#: How long a new file's switch to WAL is retried while another opener holds it (shards starting together).
WAL_SWITCH_WAIT_S = 5.0


async def _enable_wal(connection: aiosqlite.Connection) -> None:
    """Switch the file to WAL, waiting for another process that is switching or migrating it meanwhile.

    The switch needs the file to itself, and SQLite answers "database is locked" at once instead of
    calling the busy handler when it cannot have it (two shards opening a new file together hit this
    about one time in ten), so the busy time-out does not cover it: retry with a short back-off instead.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAL_SWITCH_WAIT_S
    delay = 0.005
    while True:
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                raise
            if loop.time() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


def split_statements(sql: str) -> list[str]:
    """The complete SQL statements of a script, in order (comment-only remainders dropped).

    Statements run one by one inside the migration's transaction, because `executescript` would
    commit it first.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    remainder = "\n".join(line for line in buffer.splitlines() if not line.strip().startswith("--")).strip()
    if remainder:
        statements.append(remainder)  # incomplete: let SQLite report the syntax error
    return statements


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return "it is locked by another process (is another copy of the bot running?)"
    if "readonly" in lowered or "read-only" in lowered:
        return "it is read-only (check the file's and folder's permissions)"
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return "the file is corrupt or not a SQLite database (restore a backup or move it away)"
    if "unable to open" in lowered:
        return "the file cannot be opened (check the path and permissions)"
    return text
