"""`python -m bot migrate-db`: move the SQLite file's data into an empty PostgreSQL database, verified.

The command around `bot.storage.copying` (which holds every statement): it checks its inputs, brings
the file to this bot's schema by opening it through the store (as starting the bot would), opens the
target (creating its schema), copies, and turns every failure into one line without a password.
The copy is one transaction verified before it commits, so after any failure the target is as it was
and the command can simply be run again; a target with other data is refused unless `--force`, and a
target that already holds exactly this data is reported as done. The bot must be stopped meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.database_url import DatabaseUrl, redact_url
from bot.storage import DatabaseError, Store
from bot.storage.copying import CopyError, CopyRefused, TableCopy, copy_sqlite_file, sqlite_schema_version

__all__ = ["MigrateError", "MigrationReport", "migrate"]


class MigrateError(Exception):
    """The data was not moved; the target is unchanged. The text says why and never names a password."""


@dataclass
class MigrationReport:
    """What was copied, table by table, and how it ended."""

    source: Path
    target: str  #: `host:port/database`, never the password
    tables: list[TableCopy] = field(default_factory=list)
    replaced_rows: int = 0  #: rows `--force` deleted from the target first
    already_done: bool = False  #: the target held exactly this data already

    @property
    def rows(self) -> int:
        """All rows copied."""
        return sum(table.rows for table in self.tables)

    @property
    def summed_columns(self) -> int:
        """How many number columns were compared by their sums."""
        return sum(len(table.sums) for table in self.tables)


async def migrate(source: Path, target: DatabaseUrl, *, force: bool = False, statement_timeout_s: float = 300.0,
                  progress: Callable[[str], None] = lambda line: None) -> MigrationReport:
    """Copy the bot's SQLite file at `source` into the PostgreSQL database `target`; see the module docstring."""
    if not target.is_postgres:
        raise MigrateError("the target must be a PostgreSQL URL (postgresql://user:password@host:5432/database)")
    if not source.is_file():
        raise MigrateError(f"there is no SQLite file at {source} (set DATABASE_PATH, or name it with --from)")
    await _bring_to_schema(source)
    where = target.where
    try:
        store = await Store.open(target.dsn, pool_size=2, statement_timeout_s=statement_timeout_s)
    except DatabaseError as exc:
        raise MigrateError(f"cannot use the target {where}: {redact_url(str(exc))}") from None
    try:
        copied = await copy_sqlite_file(store, source, force=force, progress=progress)
    except CopyRefused as exc:
        raise MigrateError(f"{exc} at {where}; migrate-db copies into an empty database only. Use an empty one, "
                           "or add --force to replace what it holds") from None
    except CopyError as exc:
        raise MigrateError(f"{exc} (target {where})") from None
    except Exception as exc:  # noqa: BLE001 - the driver's, the file's, the network's: one line, rolled back
        reason = " ".join((redact_url(str(exc)) or type(exc).__name__).split())
        raise MigrateError(f"the copy to {where} failed and was rolled back ({type(exc).__name__}: {reason}); "
                           "the target is unchanged, run migrate-db again") from None
    finally:
        await store.close()
    return MigrationReport(source, where, copied.tables, copied.replaced_rows, copied.already_done)


async def _bring_to_schema(source: Path) -> None:
    """Open the file through the store: it must be a bot database, and is migrated as a start would."""
    try:
        version = await asyncio.to_thread(sqlite_schema_version, source)
    except CopyError as exc:
        raise MigrateError(str(exc)) from None
    if version < 1:
        raise MigrateError(f"{source} is not a database of this bot (it has no schema version)")
    try:
        store = await Store.open(source)
    except DatabaseError as exc:
        raise MigrateError(str(exc)) from None
    await store.close()
