"""The storage suite on both backends: every repository through `Store`, on SQLite and on a real PostgreSQL.

The `store` fixture is parametrized: `sqlite` (a file in tmp_path) and `postgresql` (a fresh, empty
database per test on the server of `TEST_DATABASE_URL`, skipped with one line when it is unset).
PostgreSQL-only behaviour follows: migrations racing under the advisory lock, another process's
change reaching a cache through LISTEN/NOTIFY, budgets raced by two processes, a lost listener.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.budgets import BudgetExceeded, BudgetGuard
from bot.operations import Operation
from bot.storage import Store
from bot.storage.backend import DatabaseError
from bot.storage.database import load_migrations
from bot.storage.guild_config import ServerSettings, SpoilerMode
from bot.storage.jobs import JobStatus
from bot.storage.quotas import UNLIMITED, RoleQuota
from bot.storage.usage import Budget
from tests.test_storage_kit import (  # noqa: F401 (fixtures)
    GUILD,
    MEMBER,
    NOW,
    OTHER_GUILD,
    database_target,
    entry,
    finish,
    pg_url,
    spec,
    stand_in_postgres_url,
    store,
)

# -- both backends ------------------------------------------------------------------------------------


def test_both_dialects_ship_the_same_migration_numbers() -> None:
    sqlite = [(migration.version, migration.name) for migration in load_migrations()]
    postgresql = [(migration.version, migration.name) for migration in load_migrations("postgresql")]
    assert sqlite == postgresql and sqlite[-1][0] >= 11


async def test_a_fresh_database_ends_at_the_latest_schema(store: Store) -> None:
    assert await store.database.schema_version() == load_migrations(store.database.dialect.name)[-1].version


async def test_a_transaction_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.database.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)", ("a", "b"))
            assert tx.in_transaction
            raise RuntimeError("boom")
    assert await store.state.get("a") is None
    await store.state.set("a", "1")
    await store.state.set("a", "2")
    assert await store.state.get("a") == "2"


async def test_guild_config_changes_and_their_history(store: Store) -> None:
    record = store.config_history.recorder(GUILD, 7, "Ada")
    old, new = await store.guild_config.change(
        GUILD, Operation.IMAGINE, {"model": "acme/new", "only_providers": ("a", "b"), "enabled": False}, record=record
    )
    assert old.model is None and new.model == "acme/new"
    store.guild_config.forget_cache()
    stored = await store.guild_config.get(GUILD, Operation.IMAGINE)
    assert stored.model == "acme/new" and stored.only_providers == ("a", "b") and stored.enabled is False
    assert (await store.guild_config.get(GUILD, Operation.EDIT)).model is None

    changed = await store.guild_config.reset_recorded(
        GUILD, (Operation.IMAGINE, Operation.EDIT), record=store.config_history.recorder(GUILD, 7, "Ada", reset=True)
    )
    assert [old.operation for old, _default in changed] == [Operation.IMAGINE]
    assert (await store.guild_config.get(GUILD, Operation.IMAGINE)).model is None

    history = await store.config_history.recent(GUILD)
    assert [entry.setting for entry in history] == ["everything", "enabled", "only providers", "model"]
    assert history[-1].old_value is None and history[-1].new_value == "acme/new"
    assert history[0].changed_at.tzinfo is not None and abs(history[0].changed_at - datetime.now(UTC)) < timedelta(
        minutes=5
    )

    old_settings, new_settings = await store.guild_config.change_server_settings(
        GUILD, {"spoilers": SpoilerMode.ALWAYS}
    )
    assert old_settings == ServerSettings() and new_settings.spoilers is SpoilerMode.ALWAYS
    store.guild_config.forget_cache()
    assert (await store.guild_config.server_settings(GUILD)).spoilers is SpoilerMode.ALWAYS


async def test_channel_lists_keep_the_order_channels_were_added_in(store: Store) -> None:
    for channel_id, name in ((30, "c"), (10, "a"), (20, "b")):
        await store.channels.add(GUILD, None, channel_id, name)
    await store.channels.add(GUILD, Operation.EDIT, 10, "a")
    store.channels.forget_cache()
    lists = await store.channels.get(GUILD)
    assert [entry.channel_id for entry in lists.scope(None)] == [30, 10, 20]
    assert [entry.channel_id for entry in lists.for_operation(Operation.EDIT)] == [30, 10, 20]
    _old, new = await store.channels.drop(GUILD, [10])
    assert new.channel_ids == {30, 20}


async def test_role_quotas_hold_numbers_and_unlimited(store: Store) -> None:
    await store.quotas.update(GUILD, 5, images_per_day=3, usd_per_day=0.25)
    await store.quotas.update(GUILD, 6, images_per_day=UNLIMITED)
    await store.quotas.update(GUILD, 8, usd_per_day=UNLIMITED, images_per_day=0)
    store.quotas.forget_cache()
    assert dict(await store.quotas.get(GUILD)) == {
        5: RoleQuota(5, 3, 0.25), 6: RoleQuota(6, UNLIMITED, None), 8: RoleQuota(8, 0, UNLIMITED),
    }
    _old, new = await store.quotas.update(GUILD, 5, images_per_day=None, usd_per_day=None)
    assert new.is_empty and 5 not in await store.quotas.get(GUILD)


async def test_budgets_are_stored_and_removed(store: Store) -> None:
    await store.budgets.update(GUILD, guild_daily_usd=2.5, member_daily_images=4)
    store.budgets.forget_cache()
    assert await store.budgets.get(GUILD) == Budget(2.5, None, 4)
    await store.budgets.update(GUILD, guild_daily_usd=None, member_daily_images=None)
    store.budgets.forget_cache()
    assert await store.budgets.get(GUILD) == Budget()


async def test_jobs_and_the_ledger_are_written_together(store: Store) -> None:
    first = await store.jobs.create(spec("A red\nLighthouse"), created_at=NOW)
    second = await store.jobs.create(spec("blue harbour"), created_at=NOW)
    await store.jobs.mark_running(first, started_at=NOW)
    await finish(store, first, entry(0.01, job_id=first), entry(0.02, job_id=first))
    await store.jobs.mark_result_deleted(first)

    record = await store.jobs.get(first)
    assert record is not None and record.status is JobStatus.DONE and record.cost == pytest.approx(0.03)
    assert record.result_deleted and record.result_url is None and record.upstream_ms == 1200
    assert record.spec.prompt == "A red\nLighthouse" and record.started_at == NOW
    assert [job.id for job in await store.jobs.recent(GUILD, MEMBER)] == [second, first]
    assert [job.id for job in await store.jobs.find_recent(GUILD, typed="lighth")] == [first], "word start, any case"
    assert [job.id for job in await store.jobs.find_recent(GUILD, typed="ighthouse")] == []
    assert [job.id for job in await store.jobs.find_recent(GUILD, typed=f"#{first}")] == [first]
    assert [job.id for job in await store.jobs.find_recent(GUILD, typed="50%")] == [], "% is no wildcard"
    assert [job.id for job in await store.jobs.find_recent(GUILD, status=JobStatus.QUEUED)] == [second]

    entries = await store.usage.entries_for_job(first)
    assert [e.cost for e in entries] == [0.01, 0.02] and all(e.succeeded and e.cost_reported for e in entries)
    today = NOW.date()
    spent = await store.usage.spend(GUILD, since=today, until=today)
    assert spent.cost == pytest.approx(0.03) and spent.calls == 2 and spent.images == 2
    assert (await store.usage.spend(GUILD, since=today, member_id=MEMBER + 1)).calls == 0
    assert (await store.usage.by_operation(GUILD, since=today))[Operation.IMAGINE].calls == 2
    assert [(member, s.calls) for member, s in await store.usage.top_members(GUILD, since=today)] == [(MEMBER, 2)]
    assert (await store.usage.daily_by_operation(GUILD, since=today))[today][Operation.IMAGINE] == pytest.approx(0.03)
    assert await store.usage.last_cost("acme/painter") == pytest.approx(0.02)


async def test_direct_messages_are_their_own_ledger(store: Store) -> None:
    job = await store.jobs.create(spec(guild_id=None), created_at=NOW)
    await finish(store, job, entry(0.5, guild_id=None, job_id=job))
    await finish(store, await store.jobs.create(spec(), created_at=NOW), entry(0.25))
    since = NOW.date()
    assert (await store.usage.spend(None, since=since)).cost == pytest.approx(0.5)
    assert (await store.usage.spend(GUILD, since=since)).cost == pytest.approx(0.25)


async def test_jobs_of_a_dead_process_are_marked_interrupted(store: Store) -> None:
    dead = Store(store.database)
    dead.jobs.owner = f"{socket.gethostname()}:999999999:1"  # a process of this machine that is gone
    orphan = await dead.jobs.create(spec(), created_at=NOW)
    mine = await store.jobs.create(spec(), created_at=NOW)
    assert await store.jobs.interrupt_orphans(now=NOW) == [orphan]
    record = await store.jobs.get(orphan)
    assert record is not None and record.status is JobStatus.FAILED and record.error_kind == "interrupted"
    assert (await store.jobs.get(mine)).status is JobStatus.QUEUED  # type: ignore[union-attr]


async def test_no_driver_object_reaches_a_caller(store: Store) -> None:
    async with store.database.transaction() as tx:
        assert type(tx).__module__.startswith("bot.storage.")
        assert not any(name in type(tx).__module__ for name in ("aiosqlite", "asyncpg"))
    job = await store.jobs.create(spec(), created_at=NOW)
    for value in (await store.jobs.get(job), await store.usage.spend(GUILD, since=NOW.date()),
                  await store.budgets.get(GUILD), await store.guild_config.get(GUILD, Operation.EDIT)):
        assert type(value).__module__.startswith("bot."), type(value)


def test_no_code_outside_storage_holds_a_connection_or_a_placeholder() -> None:
    """Driver names, `.database.transaction()` and `$n` placeholders stay inside bot/storage."""
    root = Path(__file__).resolve().parent.parent
    offending = []
    for path in [*root.glob("bot/**/*.py"), *root.glob("cogs/**/*.py")]:
        if "storage" in path.relative_to(root).parts[:2]:
            continue
        text = path.read_text("utf-8")
        if re.search(r"\bimport (aiosqlite|asyncpg)\b|\bfrom (aiosqlite|asyncpg)\b|\.database\.transaction\(|"
                     r"(?:=|\(|,|VALUES|IN) ?\$[1-9]", text):  # `= $1`, not "$1,000"
            offending.append(str(path.relative_to(root)))
    assert offending == []


async def test_a_budget_admission_reserves_and_gives_back(store: Store) -> None:
    await finish(store, await store.jobs.create(spec(), created_at=NOW), entry(0.3, guild_id=OTHER_GUILD))
    await store.budgets.update(GUILD, guild_daily_usd=1.0)
    guard = BudgetGuard(store.budgets, store.usage)
    admitted = [await admit(guard) for _ in range(3)]
    with pytest.raises(BudgetExceeded):
        await admit(guard)
    admitted[0].hold(0.05)  # its real cost is known: $0.05 instead of the $0.30 estimate
    await guard.settle()
    admitted.append(await admit(guard))  # 0.05 + 0.3 + 0.3 + 0.3 fits in $1.00
    with pytest.raises(BudgetExceeded):
        await admit(guard)
    for reservation in admitted:
        reservation.release()
    await guard.settle()
    assert (await admit(guard)).cost == pytest.approx(0.3)


async def admit(guard: BudgetGuard, member_id: int = MEMBER) -> Any:
    return await guard.admit(guild_id=GUILD, member_id=member_id, operation=Operation.IMAGINE,
                             model="acme/painter", prompt="p", input_images=0, now=NOW)


# -- PostgreSQL only ----------------------------------------------------------------------------------


def test_placeholders_become_numbered_outside_literals() -> None:
    from bot.storage.postgres import to_numbered_placeholders

    sql = "SELECT '?', \"a?\", ? -- what?\n FROM t WHERE x = ? AND y LIKE 'it''s ?' AND z = ?"
    assert to_numbered_placeholders(sql) == (
        "SELECT '?', \"a?\", $1 -- what?\n FROM t WHERE x = $2 AND y LIKE 'it''s ?' AND z = $3"
    )


async def test_an_unreachable_server_is_named_without_its_password() -> None:
    pytest.importorskip("asyncpg")
    with pytest.raises(DatabaseError) as raised:
        await Store.open("postgresql://bot:hunter2-secret@127.0.0.1:1/botdb")
    text = str(raised.value)
    assert "127.0.0.1:1/botdb" in text and "hunter2" not in text
    assert "Connect call failed" in text, "the driver's words stay: `check` tells the failures apart by them"


@pytest.mark.postgres
async def test_a_wrong_password_is_refused_without_showing_it(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    wrong = urlunsplit(parts._replace(netloc=f"{parts.username}:not-the-Password-77@{parts.hostname}:{parts.port}"))
    with pytest.raises(DatabaseError) as raised:
        await Store.open(wrong)
    assert "not-the-Password-77" not in str(raised.value)
    assert "password authentication failed" in str(raised.value)

    missing = urlunsplit(parts._replace(path="/no_such_database_here"))
    with pytest.raises(DatabaseError, match='database "no_such_database_here" does not exist'):
        await Store.open(missing)


@pytest.mark.postgres
async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(pg_url) for _ in range(4)))
    try:
        latest = load_migrations("postgresql")[-1].version
        assert {await store.database.schema_version() for store in stores} == {latest}
        rows = await stores[0].database.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == list(range(1, latest + 1)), "each migration applied once"
    finally:
        await asyncio.gather(*(store.close() for store in stores))


@pytest.mark.postgres
async def test_a_newer_postgresql_schema_is_refused_clearly(pg_url: str) -> None:
    store = await Store.open(pg_url)
    async with store.database.transaction() as tx:
        await tx.execute("INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')")
    await store.close()
    with pytest.raises(DatabaseError, match="newer than this bot knows"):
        await Store.open(pg_url)


@pytest.fixture
async def two_processes(pg_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, each with its own pool and listener: two bot processes' worth."""
    first, second = await Store.open(pg_url), await Store.open(pg_url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def changes_seen(store: Store) -> Callable[[str], Awaitable[None]]:
    """A wait for the next change of `topic` another process announces to `store` (at most one second).

    Announcements are counted, so two that arrive before the first wait returns are both seen.
    """
    heard_count: dict[str, int] = {}
    waited: dict[str, int] = {}
    changed = asyncio.Condition()
    wakers: set[asyncio.Future[None]] = set()  # strong references until each has run

    def heard(topic: str, _guild_id: int | None) -> None:
        heard_count[topic] = heard_count.get(topic, 0) + 1

        async def wake() -> None:
            async with changed:
                changed.notify_all()

        waker = asyncio.ensure_future(wake())
        wakers.add(waker)
        waker.add_done_callback(wakers.discard)

    store.database.on_invalidate(heard)

    async def wait(topic: str) -> None:
        waited[topic] = waited.get(topic, 0) + 1
        async with changed:
            await asyncio.wait_for(changed.wait_for(lambda: heard_count.get(topic, 0) >= waited[topic]), 1.0)

    return wait


@pytest.mark.postgres
async def test_a_change_in_one_process_reaches_the_other_s_caches_within_a_second(
    two_processes: tuple[Store, Store],
) -> None:
    writer, reader = two_processes
    seen = changes_seen(reader)
    # The reader caches every kind of per-guild setting first.
    assert (await reader.guild_config.get(GUILD, Operation.IMAGINE)).model is None
    assert (await reader.guild_config.server_settings(GUILD)).spoilers is SpoilerMode.OFF
    assert (await reader.channels.get(GUILD)).entries == ()
    assert await reader.budgets.get(GUILD) == Budget()
    assert dict(await reader.quotas.get(GUILD)) == {}

    await writer.guild_config.update(GUILD, Operation.IMAGINE, model="acme/fresh")
    await seen("guild_config")
    assert (await reader.guild_config.get(GUILD, Operation.IMAGINE)).model == "acme/fresh"

    await writer.guild_config.change_server_settings(GUILD, {"spoilers": SpoilerMode.ALWAYS})
    await seen("guild_config")
    assert (await reader.guild_config.server_settings(GUILD)).spoilers is SpoilerMode.ALWAYS

    await writer.channels.add(GUILD, None, 77, "art")
    await seen("channels")
    assert (await reader.channels.get(GUILD)).channel_ids == {77}

    await writer.budgets.update(GUILD, guild_daily_usd=3.0)
    await seen("budgets")
    assert await reader.budgets.get(GUILD) == Budget(3.0)

    await writer.quotas.update(GUILD, 9, images_per_day=2)
    await seen("quotas")
    assert dict(await reader.quotas.get(GUILD)) == {9: RoleQuota(9, 2)}


@pytest.mark.postgres
async def test_a_rolled_back_change_tells_no_one(two_processes: tuple[Store, Store]) -> None:
    writer, reader = two_processes
    heard: list[tuple[str, int | None]] = []
    reader.database.on_invalidate(lambda topic, guild: heard.append((topic, guild)))
    seen = changes_seen(reader)
    with pytest.raises(RuntimeError):
        async with writer.database.transaction() as tx:
            await tx.notify("guild_config", GUILD)
            raise RuntimeError("rolled back")
    await writer.guild_config.update(OTHER_GUILD, Operation.EDIT, model="acme/marker")
    await seen("guild_config")  # notifications arrive in commit order: a rolled-back one would come first
    assert heard == [("guild_config", OTHER_GUILD)]


@pytest.mark.postgres
async def test_a_budget_raced_by_two_processes_is_not_overspent(two_processes: tuple[Store, Store]) -> None:
    first, second = two_processes
    # The model last cost $0.30 (in another server), so each job is estimated at $0.30.
    await finish(first, await first.jobs.create(spec(), created_at=NOW), entry(0.3, guild_id=OTHER_GUILD))
    await first.budgets.update(GUILD, guild_daily_usd=1.0)
    guards = [BudgetGuard(first.budgets, first.usage), BudgetGuard(second.budgets, second.usage)]

    async def try_admit(number: int) -> Any:
        try:
            return await admit(guards[number % 2], member_id=MEMBER + number)
        except BudgetExceeded:
            return None

    results = await asyncio.gather(*(try_admit(number) for number in range(12)))
    admitted = [reservation for reservation in results if reservation is not None]
    assert len(admitted) == 3, "0.3 x 3 fits in $1.00, a fourth would not: with both processes counted"
    held = await first.reservations.held(GUILD, now=NOW)
    assert held.cost == pytest.approx(0.9)

    for reservation in admitted:
        reservation.release()
    for guard in guards:
        await guard.settle()
    assert (await second.reservations.held(GUILD, now=NOW)).cost == 0


@pytest.mark.postgres
async def test_reservations_of_a_dead_process_or_past_their_time_stop_counting(
    two_processes: tuple[Store, Store],
) -> None:
    first, second = two_processes
    await finish(first, await first.jobs.create(spec(), created_at=NOW), entry(0.3, guild_id=OTHER_GUILD))
    await first.budgets.update(GUILD, guild_daily_usd=0.5)
    second.reservations.owner = f"{socket.gethostname()}:999999999:1"  # a process that died
    assert (await admit(BudgetGuard(second.budgets, second.usage))).row_id is not None
    guard = BudgetGuard(first.budgets, first.usage)
    held = await admit(guard)  # the dead process's $0.30 no longer counts
    with pytest.raises(BudgetExceeded):
        await admit(guard)
    later = NOW + timedelta(hours=3)
    assert (await guard.admit(guild_id=GUILD, member_id=MEMBER, operation=Operation.IMAGINE, model="acme/painter",
                              prompt="p", input_images=0, now=later)).row_id is not None, "the first one expired"
    assert held.row_id is not None


@pytest.mark.postgres
async def test_a_lost_listener_stops_caching_until_it_is_back(two_processes: tuple[Store, Store]) -> None:
    from bot.storage.postgres import PostgresDatabase

    writer, reader = two_processes
    database = reader.database
    assert isinstance(database, PostgresDatabase)
    seen = changes_seen(reader)
    await reader.guild_config.get(GUILD, Operation.IMAGINE)
    pid = database.listener_pid
    assert pid is not None
    await database.fetch_one("SELECT pg_terminate_backend(?)", (pid,))  # as a network failure would
    await seen("*")  # dropped everything when the connection was lost...
    await seen("*")  # ...and again once listening (whatever was missed meanwhile)
    assert database.caches_valid
    await writer.guild_config.update(GUILD, Operation.IMAGINE, model="acme/after")
    await seen("guild_config")
    assert (await reader.guild_config.get(GUILD, Operation.IMAGINE)).model == "acme/after"


@pytest.mark.postgres
async def test_identities_move_past_copied_ids(pg_url: str) -> None:
    from bot.storage.postgres import PostgresDatabase

    store = await Store.open(pg_url)
    try:
        async with store.database.transaction() as tx:
            await tx.execute(
                "INSERT INTO jobs (id, member_id, operation, model, created_at) VALUES (?, ?, 'imagine', 'm', ?)",
                (500, MEMBER, NOW.isoformat()),
            )
        assert isinstance(store.database, PostgresDatabase)
        await store.database.sync_identities()
        assert await store.jobs.create(spec(), created_at=NOW) == 501
    finally:
        await store.close()



@pytest.mark.postgres
async def test_check_reads_the_schema_version_without_migrating(pg_url: str) -> None:
    from bot.storage.postgres import inspect_server

    before = await inspect_server(pg_url)
    assert before.schema_version == 0 and before.latest_version == load_migrations("postgresql")[-1].version
    assert before.server_version.split(".")[0].isdigit()
    assert (await inspect_server(pg_url)).schema_version == 0, "inspecting created nothing"
    store = await Store.open(pg_url)
    await store.close()
    assert (await inspect_server(pg_url)).schema_version == before.latest_version
