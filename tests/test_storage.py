"""Storage: migrations from empty and older files, clear failures, atomic writes, a coherent cache.

The tests taking `store` or `database_target` run on both backends (SQLite and PostgreSQL, see
tests/test_storage_kit.py); the rest are about SQLite's file. tests/test_storage_backends.py has the
rest of the two-backend suite and PostgreSQL's own guarantees.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.operations import Operation
from bot.storage import Store
from bot.storage.database import Database, DatabaseError, load_migrations
from tests.test_storage_kit import database_target, stand_in_postgres_url, store  # noqa: F401 (fixtures)


async def test_fresh_file_ends_at_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "bot.sqlite3"
    store = await Store.open(path)
    try:
        assert path.exists()
        assert await store.database.schema_version() == load_migrations()[-1].version
        row = await store.database.fetch_one("PRAGMA journal_mode")
        assert row is not None and row[0] == "wal"
    finally:
        await store.close()


async def test_older_file_is_migrated_forward_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    migrations = load_migrations()
    old = await Database.open(path, migrations=migrations[:1])
    async with old.transaction() as connection:
        await connection.execute(
            "INSERT INTO guild_operation_config (guild_id, operation, model) VALUES (1, 'imagine', 'acme/old')"
        )
    await old.close()

    store = await Store.open(path)
    try:
        assert await store.database.schema_version() == migrations[-1].version
        config = await store.guild_config.get(1, Operation.IMAGINE)
        assert config.model == "acme/old"
    finally:
        await store.close()


async def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    with pytest.raises(DatabaseError, match="newer than this bot knows"):
        await Store.open(path)


async def test_corrupt_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(DatabaseError, match="corrupt or not a SQLite database"):
        await Store.open(path)


async def test_failed_migration_leaves_the_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    migrations = load_migrations()
    broken = [*migrations[:1], type(migrations[0])(version=2, name="0002_broken.sql",
                                                     sql="CREATE TABLE t (x); THIS IS NOT SQL;")]
    with pytest.raises(DatabaseError):
        await Database.open(path, migrations=broken)
    database = await Database.open(path, migrations=migrations[:1])
    try:
        assert await database.schema_version() == 1
        assert await database.fetch_one("SELECT name FROM sqlite_master WHERE name = 't'") is None
    finally:
        await database.close()


async def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.database.transaction() as connection:
            await connection.execute("INSERT INTO bot_state (key, value) VALUES ('a', 'b')")
            raise RuntimeError("boom")
    assert await store.state.get("a") is None


async def test_config_cache_follows_writes_and_survives_reopen(database_target: Path | str) -> None:
    store = await Store.open(database_target)
    try:
        before = await store.guild_config.get(7, Operation.EDIT)
        assert before.model is None and before.effective_max_references == 1 and before.enabled
        await store.guild_config.update(7, Operation.EDIT, model="acme/editor", max_references=3,
                                        only_providers=("openai",))
        after = await store.guild_config.get(7, Operation.EDIT)
        assert after.model == "acme/editor" and after.effective_max_references == 3
        assert after.provider_filter.to_request() == {"only": ["openai"]}
        assert (await store.guild_config.get(7, Operation.IMAGINE)).model is None
    finally:
        await store.close()
    reopened = await Store.open(database_target)
    try:
        assert (await reopened.guild_config.get(7, Operation.EDIT)).model == "acme/editor"
        await reopened.guild_config.reset(7, (Operation.EDIT,))
        assert (await reopened.guild_config.get(7, Operation.EDIT)).model is None
    finally:
        await reopened.close()


async def test_outside_a_guild_the_defaults_apply(store: Store) -> None:
    config = await store.guild_config.get(None, Operation.DESCRIBE)
    assert config.model_or("google/gemini-2.5-flash") == "google/gemini-2.5-flash"


async def test_a_cache_fill_never_sees_an_uncommitted_write(store: Store) -> None:
    import asyncio

    writing = asyncio.Event()
    release = asyncio.Event()

    async def failing_write() -> None:
        async with store.database.transaction() as connection:
            await connection.execute(
                "INSERT INTO guild_operation_config (guild_id, operation, model) VALUES (5, 'imagine', 'x/y')"
            )
            writing.set()
            await release.wait()
            raise RuntimeError("rolled back")

    writer = asyncio.create_task(failing_write())
    await writing.wait()
    reader = asyncio.create_task(store.guild_config.get(5, Operation.IMAGINE))
    release.set()
    try:
        await writer
    except RuntimeError:
        pass
    assert (await reader).model is None, "the rolled-back model never reached the cache"
    assert (await store.guild_config.get(5, Operation.IMAGINE)).model is None


async def test_two_openers_of_a_new_file_migrate_it_once(tmp_path: Path) -> None:
    import asyncio

    # Raced many times: SQLite refuses the switch to WAL at once (no busy wait) while the other opener
    # holds the new file, which a single race hit about one time in ten (now retried, `_enable_wal`).
    latest = load_migrations()[-1].version
    for attempt in range(50):
        path = tmp_path / f"shared-{attempt}.sqlite3"
        first, second = await asyncio.gather(Database.open(path), Database.open(path))
        try:
            assert await first.schema_version() == latest and await second.schema_version() == latest
        finally:
            await first.close()
            await second.close()


def test_split_statements_keeps_triggers_and_drops_trailing_comments() -> None:
    from bot.storage.database import split_statements

    script = ("-- lead\nCREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
              "  DELETE FROM a WHERE x < 0;\nEND;\n-- trailing comment\n")
    statements = split_statements(script)
    assert len(statements) == 2 and statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


async def test_a_cold_burst_reads_a_guild_once_and_a_racing_write_is_not_cached_stale(store: Store) -> None:
    import asyncio

    reads = 0
    original = store.database.fetch_all_committed

    async def counting(sql: str, parameters: tuple[object, ...] = ()) -> list:
        nonlocal reads
        reads += 1
        return await original(sql, parameters)

    store.database.fetch_all_committed = counting  # type: ignore[method-assign]
    results = await asyncio.gather(*(store.guild_config.get(9, Operation.IMAGINE) for _ in range(50)))
    assert reads == 1 and all(result.model is None for result in results)

    store.guild_config.forget_cache()
    reading = asyncio.ensure_future(store.guild_config.get(9, Operation.IMAGINE))
    await asyncio.sleep(0)  # the read is under way
    await store.guild_config.update(9, Operation.IMAGINE, model="acme/new")
    await reading
    assert (await store.guild_config.get(9, Operation.IMAGINE)).model == "acme/new"


async def test_a_cancellation_while_a_transaction_begins_never_leaves_it_open(store: Store) -> None:
    import asyncio

    for _ in range(20):
        async def write() -> None:
            async with store.database.transaction() as connection:
                await connection.execute("INSERT INTO bot_state (key, value) VALUES ('k', 'v') "
                                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value")

        task = asyncio.create_task(write())
        await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        # SQLite fails with "within a transaction" if one was left open; PostgreSQL would run out of
        # pooled connections (20 tries, a pool of 10) and time out.
        await asyncio.wait_for(store.state.set("after", "ok"), 10)
    assert await store.state.get("after") == "ok"


async def test_a_jobs_image_request_is_stored_whole_and_read_back_equal(store: Store) -> None:
    from datetime import UTC, datetime

    from bot.openrouter.types import ProviderFilter
    from bot.requests import ImageRequest, ReferenceSource, Route
    from bot.storage.jobs import JobSpec

    request = ImageRequest(
        prompt="a lighthouse", model="acme/painter", route=Route.IMAGES, image_format="landscape",
        aspect_ratio="16:9", resolution="2K", quality="high", count=3, seed=42,
        references=(ReferenceSource(url="https://cdn.discordapp.com/a.png", filename="a.png", message_id=7),),
        providers=ProviderFilter(only=("openai",)),
    )
    spec = JobSpec(operation=Operation.EDIT, member_id=1, request=request, guild_id=2, channel_id=3)
    job_id = await store.jobs.create(spec, created_at=datetime(2026, 12, 1, tzinfo=UTC))
    record = await store.jobs.get(job_id)
    assert record is not None
    assert record.spec.request == request, "every option a re-roll repeats comes back as it was asked"
    assert (record.spec.prompt, record.spec.model, record.spec.aspect_ratio) == ("a lighthouse", "acme/painter", "16:9")
