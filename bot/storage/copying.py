"""Copying the bot's SQLite file into another store (PostgreSQL), verified: the SQL half of `migrate-db`.

`bot/migrate_db.py` is the command (its inputs, messages and errors); this module holds every
statement, so nothing outside `bot/storage` writes SQL. Why it is shaped so:

- **One transaction.** Every row of every table (`COPY_TABLES`, parents first) is written in one
  transaction on the target, and verified inside it before it commits: whatever fails (a lost
  connection, a constraint, a count that does not match, Ctrl-C, kill -9) leaves the target as it was.
- **Verified by the target itself.** For each table the target's own `count(*)`, the non-NULL count
  of each column and the sum of each number column are compared with what was read from the file
  (integers exactly, Discord ids included; floating-point money within rounding).
- **Refuses data it would mix with.** A target holding rows raises `CopyRefused` unless `force`, which
  deletes them first in the same transaction; a target that already holds exactly the file's data (a
  run that committed and then lost its connection before saying so) is reported as done.
- **The file is read in rowid order** (ids ascending: a job's parent comes before it), in batches,
  through a read-only connection, so history of any size takes bounded memory.
- **Values as the target stores them:** a number in a column PostgreSQL keeps as TEXT (a role quota,
  a number or 'unlimited') becomes text; an integer in a floating-point column becomes a float.

Transient rows (`budget_reservations`: holds of jobs running at the moment) are not copied, and
cleared with the rest under `force`; `schema_migrations` is the target's own.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.storage import COPY_TABLES
from bot.storage.backend import Transaction

if TYPE_CHECKING:
    from bot.storage import Store

__all__ = ["BATCH_ROWS", "CopyError", "CopyRefused", "CopyReport", "TableCopy",
           "copy_sqlite_file", "sqlite_schema_version"]

#: Rows read from the file and sent to the server at a time: bounded memory for any size of history.
BATCH_ROWS = 2000
#: Tables whose SQLite rowid is a column of its own on PostgreSQL (insertion order, used for listing).
_ROWID_COLUMNS = frozenset({"guild_allowed_channels"})
_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
_FLOAT_TYPES = frozenset({"double precision", "real", "numeric"})
_TEXT_TYPES = frozenset({"text", "character varying", "character"})
#: Live jobs' budget holds: never copied, and cleared with the rest under `force`.
_TRANSIENT_TABLE = "budget_reservations"


class CopyError(Exception):
    """The copy cannot be done or did not verify; the target is unchanged. The text names no password."""


class CopyRefused(CopyError):
    """The target already holds other data, and `force` was not given."""


@dataclass
class TableCopy:
    """What one table holds: its row count, non-NULL count per column, and the sum of each number column."""

    table: str
    rows: int = 0
    present: dict[str, int] = field(default_factory=dict)
    sums: dict[str, int | float] = field(default_factory=dict)

    def differences(self, other: TableCopy) -> list[str]:
        """Each way `other` (the target) differs from this (the file), in words."""
        found = []
        if self.rows != other.rows:
            found.append(f"{self.table}: {other.rows} rows, the file has {self.rows}")
        for column, count in self.present.items():
            if other.present.get(column) != count:
                found.append(f"{self.table}.{column}: {other.present.get(column)} values, the file has {count}")
        for column, total in self.sums.items():
            theirs = other.sums.get(column)
            same = theirs == total if isinstance(total, int) and isinstance(theirs, int) else (
                theirs is not None and math.isclose(float(theirs), float(total), rel_tol=1e-9, abs_tol=1e-9))
            if not same:
                found.append(f"{self.table}.{column}: sums to {theirs}, the file to {total}")
        return found


@dataclass
class CopyReport:
    """What was copied, table by table, and how it ended."""

    tables: list[TableCopy]
    replaced_rows: int = 0  #: rows `force` deleted from the target first
    already_done: bool = False  #: the target held exactly this data already


def sqlite_schema_version(path: Path) -> int:
    """The file's `PRAGMA user_version`, read without changing it (0: not a bot database)."""
    try:
        with _read_only(path) as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise CopyError(f"{path} cannot be read as SQLite: {exc}") from None


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; used from worker threads one call at a time (hence not bound to one thread)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0, check_same_thread=False)


async def copy_sqlite_file(store: Store, source: Path, *, force: bool = False,
                           progress: Callable[[str], None] = lambda line: None) -> CopyReport:
    """Copy the SQLite file at `source` (at this bot's schema) into `store`'s database; see the module docstring."""
    report = CopyReport([])
    async with store.database.transaction() as tx:
        columns = {table: await _target_columns(tx, table) for table in COPY_TABLES}
        existing = {table: await _count(tx, table) for table in COPY_TABLES}
        if any(existing.values()):
            held = ", ".join(f"{table} {rows}" for table, rows in existing.items() if rows)
            if not force:
                expected = await asyncio.to_thread(_file_summaries, source, columns)
                found = [await _target_summary(tx, table, columns[table]) for table in COPY_TABLES]
                if not any(mine.differences(theirs) for mine, theirs in zip(expected, found, strict=True)):
                    report.tables, report.already_done = expected, True
                    return report
                raise CopyRefused(f"the target already holds data ({held} rows)")
            if await _target_columns(tx, _TRANSIENT_TABLE, required=False):  # holds may point at jobs
                await tx.execute(f"DELETE FROM {_TRANSIENT_TABLE}")
            for table in reversed(COPY_TABLES):  # children first
                await tx.execute(f"DELETE FROM {table}")
            report.replaced_rows = sum(existing.values())
            progress(f"  replaced: deleted {report.replaced_rows} rows the target held ({held})")
        for table in COPY_TABLES:
            copied = await _copy_table(tx, source, table, columns[table])
            report.tables.append(copied)
            progress(f"  {table:<24} {copied.rows:>9} rows")
        problems = []
        for copied in report.tables:
            problems += copied.differences(await _target_summary(tx, copied.table, columns[copied.table]))
        if problems:
            raise CopyError("the copy did not verify and was rolled back: " + "; ".join(problems))
    await _sync_identities(store)
    return report


async def _target_columns(tx: Transaction, table: str, *, required: bool = True) -> dict[str, str]:
    """The target table's columns and their PostgreSQL types (`information_schema`), in table order."""
    rows = await tx.fetch_all(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", (table,))
    if not rows and required:
        raise CopyError(f"the target has no table {table}; is it this bot's schema?")
    return {str(row[0]): str(row[1]) for row in rows}


async def _count(tx: Transaction, table: str) -> int:
    row = await tx.fetch_one(f"SELECT count(*) FROM {table}", ())
    return int(row[0]) if row is not None else 0


def _file_columns(connection: sqlite3.Connection, table: str, target: dict[str, str]) -> list[str]:
    """The columns to copy: the file's, which the target must have too (plus the rowid where it is a column)."""
    own = [str(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")]
    if not own:
        raise CopyError(f"the file has no table {table}")
    wanted = (["rowid"] if table in _ROWID_COLUMNS else []) + own
    missing = [column for column in wanted if column not in target]
    if missing:
        raise CopyError(f"the target's {table} lacks the file's columns {', '.join(missing)}")
    return wanted


def _batches(connection: sqlite3.Connection, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
    """All rows in rowid order (ids ascending: a job's parent comes before it), `BATCH_ROWS` at a time."""
    selected = ", ".join(["rowid AS copy_rowid", *(f'"{column}"' for column in columns)])
    last = -(2**63)
    while True:
        rows = connection.execute(f"SELECT {selected} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                  (last, BATCH_ROWS)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [row[1:] for row in rows]


def _convert(value: Any, target_type: str) -> Any:
    """A file value as the target column takes it (numbers kept as numbers in TEXT columns become text)."""
    if value is None:
        return None
    if target_type in _TEXT_TYPES and isinstance(value, int | float):
        return str(value)  # e.g. a role quota: a number or 'unlimited'
    if target_type in _FLOAT_TYPES and isinstance(value, int):
        return float(value)
    return value


def _tally(summary: TableCopy, columns: Sequence[str], types: dict[str, str], rows: list[tuple[Any, ...]]) -> None:
    summary.rows += len(rows)
    for index, column in enumerate(columns):
        values = [row[index] for row in rows if row[index] is not None]
        summary.present[column] = summary.present.get(column, 0) + len(values)
        kind = types[column]
        if kind in _INTEGER_TYPES:
            summary.sums[column] = int(summary.sums.get(column, 0)) + sum(int(value) for value in values)
        elif kind in _FLOAT_TYPES:
            summary.sums[column] = float(summary.sums.get(column, 0.0)) + math.fsum(float(value) for value in values)


async def _copy_table(tx: Transaction, source: Path, table: str, types: dict[str, str]) -> TableCopy:
    """Stream one table from the file into the target; return the file's side of the verification."""
    connection = await asyncio.to_thread(_read_only, source)
    try:
        columns = await asyncio.to_thread(_file_columns, connection, table, types)
        summary = TableCopy(table)
        insert = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})")
        batches = _batches(connection, table, columns)
        while (rows := await asyncio.to_thread(next, batches, None)) is not None:
            _tally(summary, columns, types, rows)
            await tx.execute_many(insert, [tuple(_convert(value, types[column]) for value, column
                                                 in zip(row, columns, strict=True)) for row in rows])
        return summary
    finally:
        await asyncio.to_thread(connection.close)


def _file_summaries(source: Path, target_columns: dict[str, dict[str, str]]) -> list[TableCopy]:
    """The file's side of the verification for every table, without copying (the "already done" check)."""
    summaries = []
    with _read_only(source) as connection:
        for table in COPY_TABLES:
            types = target_columns[table]
            columns = _file_columns(connection, table, types)
            summary = TableCopy(table)
            for rows in _batches(connection, table, columns):
                _tally(summary, columns, types, rows)
            summaries.append(summary)
    return summaries


async def _target_summary(tx: Transaction, table: str, types: dict[str, str]) -> TableCopy:
    """The target's own count, non-NULL counts and sums, computed by the server."""
    columns = list(types)
    numeric = [column for column in columns if types[column] in _INTEGER_TYPES | _FLOAT_TYPES]
    parts = ["count(*)", *(f'count("{column}")' for column in columns), *(f'sum("{column}")' for column in numeric)]
    row = await tx.fetch_one(f"SELECT {', '.join(parts)} FROM {table}", ())
    assert row is not None
    values = [row[index] for index in range(len(parts))]
    summary = TableCopy(table, rows=int(values[0]))
    summary.present = {column: int(value) for column, value in zip(columns, values[1:1 + len(columns)], strict=True)}
    for column, value in zip(numeric, values[1 + len(columns):], strict=True):
        if types[column] in _INTEGER_TYPES:
            summary.sums[column] = int(value) if value is not None else 0
        else:
            summary.sums[column] = float(value) if value is not None else 0.0
    return summary


async def _sync_identities(store: Store) -> None:
    """Move each identity sequence past the copied ids, so the bot's next insert does not collide."""
    sync = getattr(store.database, "sync_identities", None)
    if sync is not None:
        await sync()
