"""The PostgreSQL backend: a pool of asyncpg connections shared by bot processes on several machines.

Repositories write their SQL once with `?` placeholders (`bot.storage.backend`); here they become
`$1..$n`. Each transaction takes a connection from the pool for its duration; reads outside one use
any free connection and, since no connection is shared between coroutines, only ever see committed
data. Every pool connection has the statement time-out of the settings, so a stuck query fails
instead of holding a pool slot forever.

The write transactions of one process still run one at a time, in the order they were asked for, as
on SQLite: the job service relies on its writes landing in that order (waiting jobs leave the queue
for the upstream in the order they were let in, after their row writes). What PostgreSQL adds is
several processes writing at once; within one, a transaction takes a few milliseconds and the bot
writes a few per job, far below what its upstream concurrency asks for. Reads are not serialised.

Migrations are the numbered files in `bot/migrations/postgresql`, at the same numbers as SQLite's,
recorded in `schema_migrations`. They run on a connection of their own under a session advisory lock,
so processes that start together take turns: the first applies what is missing, the others find it
applied.

Other processes' changes reach this one's caches through LISTEN/NOTIFY: a repository's
`Transaction.notify` sends `pg_notify` inside its transaction (delivered only if it commits), and one
dedicated connection per process LISTENs and hands each change to the `on_invalidate` callbacks. If
that connection is lost, every cache is dropped and `caches_valid` is False (nothing is cached)
until it is listening again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.storage.backend import POSTGRESQL, DatabaseError, Invalidate, Parameters, Row
from bot.storage.database import Migration, load_migrations

__all__ = [
    "CACHE_CHANNEL",
    "MIGRATION_LOCK",
    "PostgresDatabase",
    "PostgresTransaction",
    "ServerInfo",
    "inspect_server",
    "to_numbered_placeholders",
]

log = logging.getLogger(__name__)

#: The NOTIFY channel of cache invalidations; payload `origin:topic:guild_id`.
CACHE_CHANNEL = "bot_cache"
#: The session advisory lock (two-int key space, apart from the per-guild bigint locks) migrations run under.
MIGRATION_LOCK = (0x626F74, 1)
#: Waits between attempts to get the listening connection back.
RECONNECT_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0)

POSTGRES_EXTRA_HINT = "pip install -e '.[postgres]'"

_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

_IDENTITIES = (
    ("jobs", "id"),
    ("usage_ledger", "id"),
    ("guild_config_history", "id"),
    ("guild_allowed_channels", "rowid"),
    ("budget_reservations", "id"),
)


@functools.lru_cache(maxsize=1024)
def to_numbered_placeholders(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1..$n`, leaving string literals, quoted names and comments alone."""
    out: list[str] = []
    number = 0
    index = 0
    length = len(sql)
    while index < length:
        char = sql[index]
        if char in ("'", '"'):
            end = index + 1
            while end < length:
                if sql[end] == char:
                    if end + 1 < length and sql[end + 1] == char:  # a doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[index : end + 1])
            index = end + 1
        elif char == "-" and sql.startswith("--", index):
            end = sql.find("\n", index)
            end = length if end < 0 else end
            out.append(sql[index:end])
            index = end
        elif char == "?":
            number += 1
            out.append(f"${number}")
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _rowcount(status: str) -> int:
    """Rows changed, from a command status such as `UPDATE 3` or `INSERT 0 1`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _guild_lock_key(guild_id: int) -> int:
    """The bigint advisory-lock key of a guild (snowflakes fit; anything else is folded into range)."""
    return guild_id if -(2**63) <= guild_id < 2**63 else hash(guild_id)


class PostgresTransaction:
    """The unit of work on one pooled connection (only valid inside `PostgresDatabase.transaction()`)."""

    dialect = POSTGRESQL

    def __init__(self, connection: Any, origin: str) -> None:
        self._connection = connection
        self._origin = origin

    @property
    def in_transaction(self) -> bool:
        """Whether the transaction is still open."""
        return bool(self._connection.is_in_transaction())

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        status = await self._connection.execute(to_numbered_placeholders(sql), *parameters)
        return _rowcount(str(status))

    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement once per parameter tuple."""
        batch = [tuple(row) for row in rows]
        if batch:
            await self._connection.executemany(to_numbered_placeholders(sql), batch)

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a query (an `INSERT ... RETURNING` too), if any."""
        row: Row | None = await self._connection.fetchrow(to_numbered_placeholders(sql), *parameters)
        return row

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Every row of a query."""
        return list(await self._connection.fetch(to_numbered_placeholders(sql), *parameters))

    async def lock_guild(self, guild_id: int) -> None:
        """Hold the guild's transaction-scoped advisory lock until commit or rollback."""
        await self._connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", _guild_lock_key(guild_id))

    async def notify(self, topic: str, guild_id: int) -> None:
        """Queue a NOTIFY that PostgreSQL delivers to every listener when (and only if) this commits."""
        await self._connection.execute(
            "SELECT pg_notify($1, $2)", CACHE_CHANNEL, f"{self._origin}:{topic}:{int(guild_id)}"
        )


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What `python -m bot check` reports about a PostgreSQL database, read without changing it."""

    server_version: str
    schema_version: int
    latest_version: int


class PostgresDatabase:
    """An open PostgreSQL database at the current schema, listening for other processes' changes."""

    dialect = POSTGRESQL

    def __init__(self, pool: Any, dsn: str, *, where: str) -> None:
        self._pool = pool
        self._dsn = dsn
        #: The server as errors may name it (`host:port/dbname`), never with the password.
        self.where = where
        #: Tells this process's own NOTIFYs from the others' (it already updated its caches).
        self.origin = secrets.token_hex(8)
        self._callbacks: list[Invalidate] = []
        self._listener: Any = None
        self._listening = False
        self._reconnect: asyncio.Task[None] | None = None
        self._closed = False
        #: This process's write transactions, one at a time in arrival order (see the module docstring).
        self._write_turn = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        pool_size: int = 10,
        statement_timeout_s: float = 15.0,
        migrations: list[Migration] | None = None,
        connect_timeout_s: float = 10.0,
    ) -> PostgresDatabase:
        """Connect, migrate under the advisory lock, start listening; `DatabaseError` with a clear reason."""
        asyncpg = _driver()
        where = describe_dsn(dsn)
        try:
            await _migrate(asyncpg, dsn, migrations if migrations is not None else load_migrations("postgresql"),
                           timeout_s=connect_timeout_s, where=where)
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=max(1, pool_size),
                timeout=connect_timeout_s,
                server_settings={
                    "statement_timeout": str(max(1, int(statement_timeout_s * 1000))),
                    "application_name": "openrouter-image-bot",
                },
            )
        except DatabaseError:
            raise
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseError(f"cannot use the PostgreSQL database {where}: {_explain(exc, dsn)}") from None
        database = cls(pool, dsn, where=where)
        try:
            await database._listen()
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await pool.close()
            raise DatabaseError(f"cannot listen on the PostgreSQL database {where}: {_explain(exc, dsn)}") from None
        return database

    # -- the unit of work ---------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """Run statements atomically on one pooled connection: committed on success, rolled back on error."""
        async with self._write_turn, self._pool.acquire() as connection, connection.transaction():
            yield PostgresTransaction(connection, self.origin)

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Rows of a read query (committed data: no connection is shared between coroutines)."""
        return list(await self._pool.fetch(to_numbered_placeholders(sql), *parameters))

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a read query, if any."""
        row: Row | None = await self._pool.fetchrow(to_numbered_placeholders(sql), *parameters)
        return row

    async def fetch_all_committed(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """The same as `fetch_all` here: every read sees committed data only."""
        return await self.fetch_all(sql, parameters)

    async def schema_version(self) -> int:
        """The last migration recorded in `schema_migrations` (0 before the first)."""
        async with self._pool.acquire() as connection:
            return await _schema_version(connection)

    async def server_version(self) -> str:
        """The server's version, as `SHOW server_version` says it."""
        return str(await self._pool.fetchval("SHOW server_version"))

    async def sync_identities(self) -> None:
        """Move every identity sequence past the largest id (after rows were copied in with their ids)."""
        async with self.transaction() as tx:
            for table, column in _IDENTITIES:
                await tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"COALESCE((SELECT max({column}) FROM {table}), 0) + 1, false)"
                )

    # -- other processes' changes -------------------------------------------------------------------

    @property
    def caches_valid(self) -> bool:
        """True while the listening connection is up: another process's change would reach the caches."""
        return self._listening

    def on_invalidate(self, callback: Invalidate) -> None:
        """Call `callback(topic, guild_id)` for each change another process commits."""
        self._callbacks.append(callback)

    async def _listen(self) -> None:
        asyncpg = _driver()
        connection = await asyncpg.connect(self._dsn, timeout=10.0)
        try:
            await connection.add_listener(CACHE_CHANNEL, self._on_notification)
        except BaseException:
            await connection.close()
            raise
        connection.add_termination_listener(self._on_listener_lost)
        self._listener = connection
        self._listening = True

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        origin, _, rest = payload.partition(":")
        if origin == self.origin:
            return  # this process's own change: its caches were updated when it committed
        topic, _, guild = rest.partition(":")
        try:
            guild_id: int | None = int(guild)
        except ValueError:
            guild_id = None
        self._invalidate(topic, guild_id)

    def _invalidate(self, topic: str, guild_id: int | None) -> None:
        for callback in list(self._callbacks):
            try:
                callback(topic, guild_id)
            except Exception:  # one broken cache must not keep the others stale
                log.exception("cache invalidation of %s failed", topic)

    def _on_listener_lost(self, _connection: Any) -> None:
        if self._closed:
            return
        self._listening = False
        self._listener = None
        log.warning("lost the PostgreSQL notification connection to %s; caching is off until it is back", self.where)
        self._invalidate("*", None)
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.get_running_loop().create_task(self._listen_again(), name="listen again")

    async def _listen_again(self) -> None:
        attempt = 0
        while not self._closed:
            try:
                await self._listen()
            except Exception as exc:
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                attempt += 1
                log.warning("listening on %s again failed (%s); next try in %.1f s",
                            self.where, _explain(exc, self._dsn), delay)
                await asyncio.sleep(delay)
                continue
            self._invalidate("*", None)  # whatever was missed while deaf
            log.info("listening for other processes' changes on %s again", self.where)
            return

    async def close(self) -> None:
        """Stop listening and close the pool (waiting briefly for connections in use)."""
        self._closed = True
        self._listening = False
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(BaseException):
                await self._reconnect
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.remove_termination_listener(self._on_listener_lost)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.close(), 5.0)
        try:
            await asyncio.wait_for(self._pool.close(), 10.0)
        except TimeoutError:
            self._pool.terminate()

    @property
    def listener_pid(self) -> int | None:
        """The server process of the listening connection (None while there is none), for operators and tests."""
        listener = self._listener
        return int(listener.get_server_pid()) if listener is not None else None


async def _migrate(asyncpg: Any, dsn: str, migrations: list[Migration], *, timeout_s: float, where: str) -> None:
    """Apply what is missing, one transaction per migration, holding the migration lock throughout."""
    connection = await asyncpg.connect(dsn, timeout=timeout_s)
    try:
        await connection.execute("SELECT pg_advisory_lock($1, $2)", *MIGRATION_LOCK)
        try:
            await connection.execute(_SCHEMA_TABLE)
            current = await _schema_version(connection)
            latest = migrations[-1].version if migrations else 0
            if current > latest:
                raise DatabaseError(
                    f"the PostgreSQL database {where} is at schema {current}, newer than this bot knows "
                    f"({latest}); run the newer bot version or restore a backup"
                )
            for migration in migrations:
                if migration.version <= current:
                    continue
                async with connection.transaction():
                    await connection.execute(migration.sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version, migration.name,
                    )
                log.info("applied migration %s to %s", migration.name, where)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1, $2)", *MIGRATION_LOCK)
    finally:
        await connection.close()


async def _schema_version(connection: Any) -> int:
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await connection.fetchval("SELECT COALESCE(max(version), 0) FROM schema_migrations"))


async def inspect_server(dsn: str, *, timeout_s: float = 5.0) -> ServerInfo:
    """The server's version and the database's schema version, read without migrating or writing."""
    asyncpg = _driver()
    where = describe_dsn(dsn)
    try:
        connection = await asyncpg.connect(dsn, timeout=timeout_s)
        try:
            version = str(await connection.fetchval("SHOW server_version"))
            schema = await _schema_version(connection)
        finally:
            await connection.close()
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(f"cannot use the PostgreSQL database {where}: {_explain(exc, dsn)}") from None
    migrations = load_migrations("postgresql")
    return ServerInfo(server_version=version, schema_version=schema, latest_version=migrations[-1].version)


def _driver() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise DatabaseError(
            f"DATABASE_URL is a PostgreSQL URL but its driver is not installed: run {POSTGRES_EXTRA_HINT}"
        ) from None
    return asyncpg


def describe_dsn(dsn: str) -> str:
    """`host:port/dbname` of a DSN, for messages: no user name, no password, no query options."""
    try:
        parts = urlsplit(dsn)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "(unreadable DATABASE_URL)"
    database = unquote(parts.path.lstrip("/")) or "(default database)"
    return f"{host}:{port}/{database}"


_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@\s]*@")


def _explain(exc: BaseException, dsn: str) -> str:
    """A driver error as one line without the password (driver texts may quote the DSN)."""
    text = str(exc) or type(exc).__name__
    password = None
    with contextlib.suppress(ValueError):
        password = urlsplit(dsn).password
    if password:
        text = text.replace(password, "***").replace(unquote(password), "***")
    text = _CREDENTIALS.sub(r"\1:***@", text)
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        return f"cannot connect ({text}); is the server running and the host and port right?"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "the server did not answer in time; is the host right and reachable?"
    return " ".join(text.split())
