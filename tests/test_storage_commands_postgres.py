"""The commands end to end on PostgreSQL: the real tree, the stand-ins, and a real PostgreSQL server.

One bot runs `/config`, `/imagine`, `/jobs` and `/config budget` with its store on PostgreSQL. Then
two bots (two processes' worth of services: pools, listeners, job services) serve one guild on one
database: an admin's change through one is obeyed by a command served by the other within a second,
and jobs sent to both at once do not together run past the guild's daily budget.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.jobs import JobStatus
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor
from tests.test_jobs_kit import imagine, job_id
from tests.test_storage_kit import pg_url, stand_in_postgres_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres

COST = 0.0039  # what the stand-in charges per call


def bot_on(pg_url: str, tmp_path: Path, discord_api: FakeDiscord, openrouter: FakeOpenRouter,
           name: str) -> BotHarness:
    """A bot whose store is the PostgreSQL database (its SQLite path is never opened)."""
    settings = make_settings(tmp_path / name / "unused.sqlite3", discord_api, openrouter)
    return BotHarness(settings, discord_api, openrouter, database_url=pg_url)


@pytest.fixture
async def bot(pg_url: str, tmp_path: Path, fake_discord: FakeDiscord,
              fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    kit = bot_on(pg_url, tmp_path, fake_discord, fake_openrouter, "one")
    await kit.start()
    try:
        yield kit
    finally:
        await kit.stop()


@pytest.fixture
async def two_bots(pg_url: str, tmp_path: Path, fake_discord: FakeDiscord,
                   fake_openrouter: FakeOpenRouter) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    """Two bots on one database serving the same guild, as two processes during a re-shard would."""
    first = bot_on(pg_url, tmp_path, fake_discord, fake_openrouter, "first")
    second = bot_on(pg_url, tmp_path, fake_discord, fake_openrouter, "second")
    await first.start()
    try:
        second.factory = copy.copy(first.payloads)  # the same guild, channel and members
        await second.start()
        try:
            yield first, second
        finally:
            await second.stop()
    finally:
        await first.stop()


async def test_a_bot_on_postgresql_configures_creates_and_lists_jobs(bot: BotHarness) -> None:
    assert bot.bot is not None
    assert bot.bot.store.database.dialect.name == "postgresql"
    reply = (await bot.run(bot.payloads.slash(
        "config model", actor=bot.payloads.admin, operation="imagine", model="openai/gpt-5-image"
    ))).last
    assert reply.ephemeral and "openai/gpt-5-image" in reply.text

    result = (await imagine(bot, "a quiet harbour")).last
    assert not result.ephemeral and result.files
    assert bot.openrouter.chat_requests()[-1].json["model"] == "openai/gpt-5-image"
    record = await bot.bot.store.jobs.get(job_id(result))
    assert record is not None and record.status is JobStatus.DONE and record.cost == pytest.approx(COST)
    entries = await bot.bot.store.usage.entries_for_job(job_id(result))
    assert [entry.cost for entry in entries] == [pytest.approx(COST)]

    listed = (await bot.run(bot.payloads.slash("jobs"))).last
    assert "a quiet harbour" in listed.embeds[0]["description"]

    history = (await bot.run(bot.payloads.slash("config history", actor=bot.payloads.admin))).last
    assert "openai/gpt-5-image" in str(history.embeds)


async def test_a_change_through_one_bot_is_obeyed_by_the_other_within_a_second(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    first, second = two_bots
    assert first.bot is not None and second.bot is not None
    assert not (await imagine(second, "before")).last.ephemeral  # the second bot has the guild's config cached
    changed = asyncio.Event()
    second.bot.store.database.on_invalidate(lambda topic, guild: changed.set())

    turned_off = (await first.run(first.payloads.slash(
        "config disable", actor=first.payloads.admin, operation="imagine"
    ))).last
    assert "now **off**" in turned_off.text
    await asyncio.wait_for(changed.wait(), 1.0)

    refused = (await imagine(second, "after")).last
    assert refused.ephemeral and "turned off" in refused.text
    assert len(first.openrouter.chat_requests()) == 1, "only the job before the change went upstream"


async def test_jobs_sent_to_two_bots_at_once_do_not_pass_the_budget_together(
    two_bots: tuple[BotHarness, BotHarness],
) -> None:
    first, second = two_bots
    limit = 0.005  # about one job
    reply = (await first.run(first.payloads.slash(
        "config budget", actor=first.payloads.admin, guild_daily_usd=limit
    ))).last
    assert reply.ephemeral
    first.openrouter.latency_s = 0.3  # every admitted job is still running when the others arrive
    members = [Actor(f"member{number}") for number in range(6)]
    conversations = await asyncio.gather(*(
        imagine(first if number % 2 else second, f"job {number}", actor=member)
        for number, member in enumerate(members)
    ))

    delivered = [c for c in conversations if not c.last.ephemeral]
    refused = [c for c in conversations if c.last.ephemeral]
    assert len(delivered) == 1 and len(refused) == 5
    assert all("daily budget" in c.last.text for c in refused)
    assert len(first.openrouter.chat_requests()) == 1
    assert first.bot is not None and second.bot is not None
    spent = await first.bot.store.usage.spend(first.payloads.guild_id, since=first.bot.jobs.clock().date())
    assert spent.cost <= limit + COST
    for kit in (first, second):
        assert kit.bot is not None and kit.bot.jobs.budgets is not None
        await kit.bot.jobs.budgets.settle()
    held = await first.bot.store.reservations.held(first.payloads.guild_id, now=first.bot.jobs.clock())
    assert held.cost == 0 and held.unknown == 0, "every reservation was given back"
