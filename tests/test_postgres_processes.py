"""Two `python -m bot` shard processes on one PostgreSQL database, as a bot split across machines runs.

Each process has its own stand-in Discord (its own gateway and REST, as two shards' connections
are), both speak to one stand-in OpenRouter, and both serve the same server: a re-shard or a rolling
restart. Checked through the real processes and the real database:

- they start together (migrations under the advisory lock) and both serve commands;
- a configuration change made through one is what a command served by the other uses;
- jobs racing for one daily budget from both processes overspend it by at most one job's estimate;
- a kill -9 of one process in the middle of a job loses nothing committed; the other goes on serving,
  and the killed one, started again, marks its interrupted job and gives its budget hold back.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.database_url import DatabaseUrl
from bot.process_identity import this_process
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.payloads import Actor, PayloadFactory
from tests.kit.process import BotProcess, payload_factory, start_identified, wait_for_result

COST = 0.0039  # what the stand-in OpenRouter charges per call
NEW_MODEL = "openai/gpt-5-image"


async def query(url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


#: The NOTIFY channel of the test's own trigger on a watched table (`eventually`).
TABLE_CHANGED = "test_table_changed"


async def eventually(url: str, table: str, sql: str, expected: list[Any], timeout: float = 10.0) -> None:
    """Until `sql` returns `expected`: another process's write that lands after its reply (a released hold).

    Nothing in the test's process hears of such a write, so the test puts a trigger of its own on `table`
    (in its throw-away database) that NOTIFYs on every change, and asks again each time one arrives.
    """
    import asyncpg

    connection = await asyncpg.connect(url)
    changed = asyncio.Event()
    try:
        await connection.execute(f"""
            CREATE OR REPLACE FUNCTION test_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{TABLE_CHANGED}', TG_TABLE_NAME); RETURN NULL; END $$;
            CREATE OR REPLACE TRIGGER test_table_changed AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION test_table_changed();
        """)
        await connection.add_listener(TABLE_CHANGED, lambda *_: changed.set())
        async with asyncio.timeout(timeout):
            while True:
                changed.clear()  # before the read: a change after it sets the event again
                rows = [tuple(row) for row in await connection.fetch(sql)]
                if rows == expected:
                    break
                await changed.wait()
    finally:
        await connection.close()
    assert rows == expected


async def answer(discord_api: FakeDiscord, payload: dict[str, Any]) -> Reply:
    await discord_api.dispatch("INTERACTION_CREATE", payload)
    return (await wait_for_result(discord_api, payload["token"])).last


def settled(discord_api: FakeDiscord, token: str) -> bool:
    """The interaction got its final answer (not just "thinking")."""
    visible = Conversation(discord_api.for_token(token)).visible
    return bool(visible) and not visible[-1].loading


async def _openrouter_wait(openrouter: FakeOpenRouter, predicate: Callable[[], bool]) -> None:
    condition = openrouter._cond
    assert condition is not None
    async with condition:
        await condition.wait_for(predicate)


async def wait_anywhere(predicate: Callable[[], bool], openrouter: FakeOpenRouter, *discords: FakeDiscord,
                        timeout: float = 30) -> None:
    """Wait until `predicate()` holds, re-checked on every request any of the stand-ins records."""
    waits = [asyncio.ensure_future(discord_api.wait_for(predicate, timeout=timeout)) for discord_api in discords]
    waits.append(asyncio.ensure_future(_openrouter_wait(openrouter, predicate)))
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise TimeoutError("the condition never held")
        for task in done:
            task.result()
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


class Shards:
    """Two shard processes, A (shard 0) and B (shard 1), each with its own stand-in Discord."""

    def __init__(self, tmp_path: Path, url: str, openrouter: FakeOpenRouter, a: FakeDiscord, b: FakeDiscord,
                 factory: PayloadFactory) -> None:
        self.tmp_path, self.url, self.openrouter, self.factory = tmp_path, url, openrouter, factory
        self.discord = {"A": a, "B": b}
        self.processes: dict[str, BotProcess] = {}

    def environment(self, name: str) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "SHARD_COUNT": "2", "SHARD_IDS": "0" if name == "A" else "1",
                "MAX_CONCURRENT_JOBS": "20", "MAX_JOBS_PER_MEMBER": "0"}

    async def start(self, *names: str) -> None:
        started = await asyncio.gather(*(start_identified(self.discord[name], self.openrouter,
                                                          self.tmp_path / f"unused-{name}.sqlite3", self.tmp_path,
                                                          **self.environment(name)) for name in names))
        self.processes.update(zip(names, started, strict=True))

    async def answer(self, name: str, path: str, actor: Actor | None = None, **options: Any) -> Reply:
        return await answer(self.discord[name], self.factory.slash(path, actor=actor, **options))

    async def stop(self) -> None:
        for process in self.processes.values():
            await process.kill()

    def output(self) -> str:
        return "\n".join(process.text for process in self.processes.values())


@pytest.fixture
async def shards(tmp_path: Path, postgres_url: str, fake_discord: FakeDiscord,
                 fake_openrouter: FakeOpenRouter) -> AsyncIterator[Shards]:
    async with FakeDiscord() as other_discord:
        factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
        for discord_api in (fake_discord, other_discord):
            discord_api.guilds = [factory.guild_dict()]
        kit = Shards(tmp_path, postgres_url, fake_openrouter, fake_discord, other_discord, factory)
        try:
            yield kit
        finally:
            await kit.stop()
        output = kit.output()
        password = DatabaseUrl.parse(postgres_url).password
        assert password and password not in output, "the database password reached a log"
        assert BOT_TOKEN not in output and fake_openrouter.api_key not in output
        assert "Traceback" not in output, output[-3000:]


async def spent_today(url: str, guild_id: int) -> float:
    rows = await query(url, "SELECT COALESCE(sum(cost), 0) FROM usage_ledger WHERE guild_id = $1", guild_id)
    return float(rows[0][0])


async def test_two_shard_processes_share_one_postgres_database(shards: Shards) -> None:
    await shards.start("A", "B")  # together: the migrations take turns under the advisory lock
    url, openrouter, guild = shards.url, shards.openrouter, shards.factory.guild_id
    for name, shard in (("A", 0), ("B", 1)):
        identify = shards.discord[name].identify_payload
        assert identify is not None and identify["shard"] == [shard, 2], "each process runs its own shard"
    applied = await query(url, "SELECT version FROM schema_migrations ORDER BY version")
    assert [row[0] for row in applied] == list(range(1, len(applied) + 1)), "each migration applied once"

    # Both serve; B caches the server's configuration with this first command.
    for name in ("A", "B"):
        assert (await shards.answer(name, "imagine", prompt=f"hello from {name}")).files
    default_model = openrouter.chat_requests()[-1].json["model"]
    assert default_model != NEW_MODEL

    # -- a change through A is what B serves with ------------------------------------------------
    changed = await shards.answer("A", "config model", actor=shards.factory.admin, operation="imagine",
                                  model=NEW_MODEL)
    assert changed.ephemeral and NEW_MODEL in changed.text
    async with asyncio.timeout(5):  # the issue asks for one second; this bounds a loaded machine
        while True:
            shown = await shards.answer("B", "config show", actor=shards.factory.admin)
            if NEW_MODEL in shown.text:
                break
    assert (await shards.answer("B", "imagine", prompt="after the change")).files
    assert openrouter.chat_requests()[-1].json["model"] == NEW_MODEL

    # -- jobs racing for one budget from both processes ------------------------------------------------
    # Back to the default model (its estimate is about the stand-in's price), changed through B this time.
    await shards.answer("B", "config model", actor=shards.factory.admin, operation="imagine", model=default_model)
    before = await spent_today(url, guild)
    limit = round(before + 0.01, 4)  # room for two jobs at the stand-in's price, not four
    await shards.answer("A", "config budget", actor=shards.factory.admin, guild_daily_usd=limit)
    openrouter.hold = asyncio.Event()  # every admitted job stays in flight until all were decided
    requests_before = len(openrouter.chat_requests())
    payloads = [("A" if number % 2 else "B", shards.factory.slash("imagine", actor=Actor(f"racer{number}"),
                                                                  prompt=f"race {number}"))
                for number in range(12)]
    await asyncio.gather(*(shards.discord[name].dispatch("INTERACTION_CREATE", payload) for name, payload in payloads))

    def refused() -> list[tuple[str, dict[str, Any]]]:
        return [(name, payload) for name, payload in payloads if settled(shards.discord[name], payload["token"])]

    def decided() -> bool:
        return len(refused()) + len(openrouter.chat_requests()) - requests_before == len(payloads)

    await wait_anywhere(decided, openrouter, *shards.discord.values())
    admitted = len(openrouter.chat_requests()) - requests_before
    refusals = refused()  # before the held jobs are let go and settle too
    openrouter.hold.set()
    for name, payload in payloads:
        await shards.discord[name].wait_for(lambda n=name, p=payload: settled(shards.discord[n], p["token"]),
                                            timeout=30)
    for name, payload in refusals:
        reply = Conversation(shards.discord[name].for_token(payload["token"])).last
        assert reply.ephemeral and "daily budget" in reply.text
    assert 1 <= admitted < len(payloads), [Conversation(shards.discord[n].for_token(p["token"])).last.text
                                            for n, p in refusals][:1]
    served_by = sorted({name for name, payload in payloads if (name, payload) not in refusals})
    spent = await spent_today(url, guild)
    assert spent <= limit + COST, f"{admitted} jobs admitted across {served_by}: ${spent} against ${limit}"
    await eventually(url, "budget_reservations", "SELECT id FROM budget_reservations", [])  # every hold was given back

    # -- kill -9 of A in the middle of a job -------------------------------------------------------------
    committed_jobs = await query(url, "SELECT id, status, cost FROM jobs WHERE status = 'done' ORDER BY id")
    committed_ledger = await query(url, "SELECT id, cost FROM usage_ledger ORDER BY id")
    await shards.answer("A", "config budget", actor=shards.factory.admin, guild_daily_usd=limit + 1)
    openrouter.hold = asyncio.Event()
    in_flight = shards.factory.slash("imagine", actor=Actor("victim"), prompt="in flight at the kill")
    requests_before = len(openrouter.chat_requests())
    await shards.discord["A"].dispatch("INTERACTION_CREATE", in_flight)
    await openrouter.wait_for_requests(requests_before + 1, timeout=30)
    (held,) = await query(url, "SELECT owner FROM budget_reservations")  # the job in flight holds its estimate
    killed = shards.processes["A"]
    killed.signal(signal.SIGKILL)
    assert await killed.wait() == -signal.SIGKILL
    openrouter.hold.set()

    assert await query(url, "SELECT id, status, cost FROM jobs WHERE status = 'done' ORDER BY id") == committed_jobs
    assert await query(url, "SELECT id, cost FROM usage_ledger ORDER BY id") == committed_ledger
    (orphan,) = await query(url, "SELECT id, status, owner FROM jobs WHERE prompt = 'in flight at the kill'")
    assert orphan["status"] in ("queued", "running")
    assert (await shards.answer("B", "imagine", prompt="B goes on")).files, "the other process is unaffected"
    # B's admission dropped the dead process's hold (same host, its process is gone); B's own is given back.
    assert await query(url, "SELECT id FROM budget_reservations WHERE owner = $1", held["owner"]) == []
    await eventually(url, "budget_reservations", "SELECT id FROM budget_reservations", [])

    # A again, as after a crash: at start it marks its job that was in flight interrupted.
    await shards.start("A")
    (row,) = await query(url, "SELECT status, error_kind FROM jobs WHERE id = $1", orphan["id"])
    assert (row["status"], row["error_kind"]) == ("failed", "interrupted")
    assert (await shards.answer("A", "imagine", prompt="A is back")).files
    assert orphan["owner"] is not None and orphan["owner"] != this_process()
