"""`python -m bot migrate-db`: a populated SQLite file into an empty PostgreSQL database, verified and re-runnable.

The file is filled with rows of every kind a bot leaves (server configuration and its history, role
quotas with 'unlimited', channels out of key order, budgets, a chain of jobs across batches, a ledger,
the bot's state, direct-message rows without a guild, Discord-sized ids, sums of money), then copied;
the PostgreSQL side is compared row by row and read back through the store as the bot would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.database_url import DatabaseUrl
from bot.migrate_db import MigrateError, migrate
from bot.operations import Operation
from bot.storage import COPY_TABLES, Store, copying
from tests.kit.postgres import run_async
from tests.kit.process import PROJECT_ROOT

GUILD = 1_190_000_000_000_000_001  # Discord-sized ids: their sums pass 2**63
OTHER_GUILD = 1_190_000_000_000_000_002
MEMBER = 1_190_000_000_000_000_101
ROLE = 1_190_000_000_000_000_201
JOBS = copying.BATCH_ROWS + 345  # more than one batch
NOW = "2026-12-01T20:00:00.000000Z"
TOKEN = "token-value-migrate-12345"
KEY = "sk-or-v1-migrate-test-key-0000000"


def populate(path: Path) -> None:
    """A bot's database as months of use leave it, at this bot's schema."""
    async def create() -> None:
        await (await Store.open(path)).close()

    run_async(create)
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO bot_state (key, value) VALUES (?, ?)",
                       [("command_sync", "hash-abc"), ("note", "ünïcode ✓ 'quoted'")])
        db.execute("INSERT INTO guild_operation_config (guild_id, operation, model, only_providers, ignore_providers, "
                   "enabled, max_references, updated_at, cooldown_s, route, default_count, max_count) "
                   "VALUES (?, 'imagine', 'bytedance-seed/seedream-4.5', '[\"a\"]', '[]', 1, 2, ?, 30, 'images', "
                   "2, 4)", (GUILD, NOW))
        db.execute("INSERT INTO guild_operation_config (guild_id, operation, enabled, updated_at) "
                   "VALUES (?, 'describe', 0, ?)", (GUILD, NOW))
        db.execute("INSERT INTO guild_settings (guild_id, spoilers, updated_at) VALUES (?, 'always', ?)", (GUILD, NOW))
        db.execute("INSERT INTO guild_budgets (guild_id, guild_daily_usd, member_daily_usd, member_daily_images, "
                   "updated_at) VALUES (?, 5.5, 0.25, 10, ?)", (GUILD, NOW))
        db.executemany("INSERT INTO guild_role_quotas (guild_id, role_id, images_per_day, usd_per_day, updated_at) "
                       "VALUES (?, ?, ?, ?, ?)", [(GUILD, ROLE, 5, "unlimited", NOW),
                                                  (GUILD, ROLE + 1, "unlimited", 0.75, NOW),
                                                  (GUILD, ROLE + 2, None, 1.5, NOW)])
        db.executemany("INSERT INTO guild_allowed_channels (guild_id, scope, channel_id, name, added_at) "
                       "VALUES (?, ?, ?, ?, ?)", [(GUILD, "all", 900, "zeta", NOW), (GUILD, "all", 100, "alpha", NOW),
                                                  (GUILD, "imagine", 500, "mid", NOW)])
        db.executemany("INSERT INTO guild_config_history (guild_id, user_id, user_name, operation, setting, old_value, "
                       "new_value, changed_at) VALUES (?, ?, 'admin', ?, ?, ?, ?, ?)",
                       [(GUILD, MEMBER, "imagine", "model", None, "a/b", NOW),
                        (GUILD, MEMBER, "server", "spoilers", "off", "always", NOW)])
        jobs = []
        for number in range(1, JOBS + 1):
            guild = None if number % 50 == 0 else (GUILD if number % 2 else OTHER_GUILD)  # some in DMs
            parent = number - 1 if number % 7 == 0 else None  # re-rolls point at an earlier job
            status = ("done", "failed", "done", "done")[number % 4]
            cost = round(0.0039 * (number % 5), 6) if status == "done" else None
            jobs.append((number, guild, 10 + number, MEMBER + number % 3, "imagine", f"prompt {number} ✨", "a/b",
                         parent, status, cost, NOW, f"gen-{number}" if cost else None))
        db.executemany("INSERT INTO jobs (id, guild_id, channel_id, member_id, operation, prompt, model, "
                       "parent_job_id, status, cost, created_at, generation_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", jobs)
        db.executemany("INSERT INTO usage_ledger (job_id, guild_id, member_id, operation, model, generation_id, cost, "
                       "cost_reported, images, succeeded, created_at, day) "
                       "VALUES (?, ?, ?, 'imagine', 'a/b', ?, ?, ?, 1, ?, ?, '2026-12-01')",
                       [(job[0], job[1], job[3], job[11], job[9] or 0.0, int(job[9] is not None),
                         int(job[8] == "done"), NOW) for job in jobs])


def file_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        extra = "rowid, " if table == "guild_allowed_channels" else ""
        return [tuple(row) for row in db.execute(f"SELECT {extra}{', '.join(columns)} FROM {table} ORDER BY rowid")]


async def server_rows(url: str, table: str, path: Path) -> list[tuple[Any, ...]]:
    import asyncpg

    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    if table == "guild_allowed_channels":
        columns = ["rowid", *columns]
    connection = await asyncpg.connect(url)
    try:
        order = "rowid" if table == "guild_allowed_channels" else ", ".join(columns)
        rows = await connection.fetch(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
        return [tuple(row) for row in rows]
    finally:
        await connection.close()


def normalised(rows: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    """Values as text (PostgreSQL keeps role quotas as TEXT), sorted: the same data whatever the order read."""
    return sorted(tuple("NULL" if value is None else repr(float(value)) if isinstance(value, float) else str(value)
                        for value in row) for row in rows)


async def assert_same_everywhere(path: Path, url: str) -> None:
    for table in COPY_TABLES:
        mine, theirs = file_rows(path, table), await server_rows(url, table, path)
        assert normalised(mine) == normalised(theirs), table


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "bot.sqlite3"
    path.parent.mkdir()
    populate(path)
    return path


async def test_a_populated_file_is_copied_whole_and_the_bot_reads_it_on_postgres(source: Path,
                                                                                postgres_url: str) -> None:
    lines: list[str] = []
    report = await migrate(source, DatabaseUrl.parse(postgres_url), progress=lines.append)
    assert not report.already_done
    assert [table.table for table in report.tables] == list(COPY_TABLES)
    assert {table.table: table.rows for table in report.tables}["jobs"] == JOBS
    assert report.summed_columns > 10
    assert len(lines) == len(COPY_TABLES)
    await assert_same_everywhere(source, postgres_url)

    store = await Store.open(postgres_url)
    try:  # what the bot itself reads there
        config = await store.guild_config.get(GUILD, Operation.IMAGINE)
        assert config.model == "bytedance-seed/seedream-4.5" and config.cooldown_s == 30
        assert not (await store.guild_config.get(GUILD, Operation.DESCRIBE)).enabled
        assert (await store.budgets.get(GUILD)).guild_daily_usd == 5.5
        job = await store.jobs.get(JOBS - 1)
        assert job is not None and job.spec.request.prompt == f"prompt {JOBS - 1} ✨"
        with sqlite3.connect(source) as db:
            expected = db.execute("SELECT total(cost) FROM usage_ledger WHERE guild_id = ?", (GUILD,)).fetchone()[0]
        spent = await store.usage.spend(GUILD, since=datetime(2026, 12, 1, tzinfo=UTC).date())
        assert spent.cost == pytest.approx(expected)
        # A new row after the copy takes an id past the copied ones (identity sequences moved on).
        async with store.database.transaction() as tx:
            row = await tx.fetch_one("INSERT INTO guild_config_history (guild_id, user_id, user_name, operation, "
                                     "setting, changed_at) VALUES (?, ?, 'x', 'server', 'y', ?) RETURNING id",
                                     (GUILD, MEMBER, NOW))
        assert row is not None and int(row[0]) > 2
    finally:
        await store.close()


async def test_a_target_with_data_is_refused_unless_forced(source: Path, postgres_url: str, tmp_path: Path) -> None:
    target = DatabaseUrl.parse(postgres_url)
    await migrate(source, target)
    again = await migrate(source, target)  # the same data already there: a finished run, reported as such
    assert again.already_done

    other = tmp_path / "other.sqlite3"
    populate(other)
    with sqlite3.connect(other) as db:
        db.execute("DELETE FROM usage_ledger WHERE id > 10")
    with pytest.raises(MigrateError, match="already holds data .* add --force to replace what it holds"):
        await migrate(other, target)
    await assert_same_everywhere(source, postgres_url)  # untouched by the refusal

    forced = await migrate(other, target, force=True)
    assert forced.replaced_rows > 0
    await assert_same_everywhere(other, postgres_url)


async def test_a_failure_midway_leaves_the_target_unchanged_and_a_rerun_completes(
        source: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    target = DatabaseUrl.parse(postgres_url)
    real_tally = copying._tally
    calls = 0

    def failing_tally(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == len(COPY_TABLES) + 1:  # inside the jobs table, after a whole batch went in
            raise ConnectionResetError("the connection dropped")
        real_tally(*args)

    monkeypatch.setattr(copying, "_tally", failing_tally)
    with pytest.raises(MigrateError, match=r"failed and was rolled back \(ConnectionResetError: the connection "
                                           r"dropped\); the target is unchanged, run migrate-db again"):
        await migrate(source, target)
    monkeypatch.setattr(copying, "_tally", real_tally)
    for table in COPY_TABLES:
        assert await server_rows(postgres_url, table, source) == [], f"{table} kept rows of the failed run"
    report = await migrate(source, target)
    assert not report.already_done
    await assert_same_everywhere(source, postgres_url)


async def test_a_copy_that_does_not_verify_is_rolled_back(source: Path, postgres_url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real_convert = copying._convert

    def lossy(value: Any, kind: str) -> Any:  # a driver that silently rounded money
        return real_convert(round(value, 2) if isinstance(value, float) else value, kind)

    monkeypatch.setattr(copying, "_convert", lossy)
    with pytest.raises(MigrateError, match=r"did not verify and was rolled back: .*cost: sums to"):
        await migrate(source, DatabaseUrl.parse(postgres_url))
    assert await server_rows(postgres_url, "jobs", source) == []


async def test_no_such_file_and_not_a_bot_database_are_clear(tmp_path: Path, postgres_url: str) -> None:
    target = DatabaseUrl.parse(postgres_url)
    with pytest.raises(MigrateError, match="there is no SQLite file at"):
        await migrate(tmp_path / "missing.sqlite3", target)
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(MigrateError, match="is not a database of this bot"):
        await migrate(empty, target)


def run_cli(cwd: Path, *arguments: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), "DISCORD_TOKEN": TOKEN,
           "OPENROUTER_API_KEY": KEY, **variables}
    return subprocess.run([sys.executable, "-m", "bot", "migrate-db", *arguments], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_copies_from_database_path_to_database_url_without_showing_the_password(
        source: Path, postgres_url: str, tmp_path: Path) -> None:
    password = DatabaseUrl.parse(postgres_url).password
    assert password
    done = run_cli(tmp_path, DATABASE_PATH=str(source), DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"PostgreSQL at {DatabaseUrl.parse(postgres_url).where}" in done.stdout
    assert f"jobs {JOBS:>9} rows".replace("  ", " ") in " ".join(done.stdout.split()) or f"{JOBS} rows" in done.stdout
    assert "verified: " in done.stdout and "Committed." in done.stdout
    refused = run_cli(tmp_path, "--from", f"sqlite:///{source}", "--to", postgres_url,
                      DATABASE_PATH=str(tmp_path / "elsewhere.sqlite3"))
    assert refused.returncode == 0 and "nothing to do" in refused.stdout, "the same data: a finished run"
    wrong = run_cli(tmp_path, "--to", postgres_url.replace(f":{password}@", ":wrong-pass-4711@"),
                    DATABASE_PATH=str(source))
    assert wrong.returncode == 1 and wrong.stderr.startswith("error: cannot use the target")
    for result in (done, refused, wrong):
        assert password not in result.stdout + result.stderr
        assert "wrong-pass-4711" not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_the_command_needs_a_postgresql_target_and_a_sqlite_source(source: Path, tmp_path: Path) -> None:
    result = run_cli(tmp_path, DATABASE_PATH=str(source))
    assert result.returncode == 2
    assert "migrate-db copies into PostgreSQL" in result.stderr
    wrong_way = run_cli(tmp_path, "--from", "postgresql://bot:from-pass-31@db/bot", "--to", "postgresql://db/bot")
    assert wrong_way.returncode == 2
    assert wrong_way.stderr.startswith("error: --from is a PostgreSQL URL; it must name the SQLite file")
    assert "from-pass-31" not in wrong_way.stderr


async def test_kill_9_midway_then_a_rerun_completes(source: Path, postgres_url: str, tmp_path: Path) -> None:
    """The real command killed without warning during the copy: the re-run finds an empty target and completes.

    The test holds a SHARE lock on the last table, so the command copies every other table into its
    transaction, says so, and then waits on that table's INSERT: it is killed right there.
    """
    import asyncpg

    await (await Store.open(postgres_url)).close()  # the schema exists, so the lock has a table to hold
    blocker = await asyncpg.connect(postgres_url)
    holding = blocker.transaction()
    await holding.start()
    await blocker.execute("LOCK TABLE usage_ledger IN SHARE MODE")  # reads pass, INSERTs wait
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), "DISCORD_TOKEN": TOKEN,
           "OPENROUTER_API_KEY": KEY, "DATABASE_PATH": str(source), "DATABASE_URL": postgres_url}
    process = await asyncio.create_subprocess_exec(sys.executable, "-u", "-m", "bot", "migrate-db", cwd=tmp_path,
                                                   env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    try:
        seen = b""
        while not (seen.split() and seen.split()[0] == b"jobs"):
            seen = await asyncio.wait_for(process.stdout.readline(), 60)
            assert seen, "the command ended before it reached the ledger"
        process.send_signal(signal.SIGKILL)  # its transaction holds every table but the ledger
        assert await process.wait() == -signal.SIGKILL
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await holding.rollback()
        await blocker.close()
    report = await migrate(source, DatabaseUrl.parse(postgres_url))
    assert not report.already_done, "nothing of the killed run was committed"
    await assert_same_everywhere(source, postgres_url)
