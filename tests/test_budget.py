"""Daily budgets through the real tree: `/config budget`, each refusal (nothing sent upstream), the day
roll-over with an injected clock, and the rule that concurrent jobs overshoot by at most one job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.storage.usage import Budget
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor
from tests.test_jobs_kit import Clock, at, click, imagine, started

COST = 0.0039  # what the stand-in charges per call


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        yield kit


async def set_budget(harness: BotHarness, **limits: Any) -> str:
    reply = (await harness.run(harness.payloads.slash("config budget", actor=harness.payloads.admin, **limits))).last
    assert reply.ephemeral
    return reply.text


def midnight_after(text: str) -> int:
    return int(at(text).timestamp())


async def test_budget_shows_sets_and_removes_limits(harness: BotHarness) -> None:
    assert "No limits" in await set_budget(harness)
    text = await set_budget(harness, guild_daily_usd=2.5, member_daily_usd=0.25, member_daily_images=10)
    assert "Server, per day: **$2.50**" in text and "Each member, per day: **$0.25**" in text
    assert "**10 images**" in text and "00:00 UTC" in text
    assert harness.bot is not None
    assert await harness.bot.store.budgets.get(harness.payloads.guild_id) == Budget(2.5, 0.25, 10)

    text = await set_budget(harness, member_daily_usd=0)
    assert "$0.25" not in text and "$2.50" in text
    await set_budget(harness, guild_daily_usd=0, member_daily_images=0)
    harness.bot.store.budgets.forget_cache()
    assert await harness.bot.store.budgets.get(harness.payloads.guild_id) == Budget()
    await harness.restart()
    assert "No limits" in await set_budget(harness)


async def test_only_managers_can_see_or_set_budgets(harness: BotHarness) -> None:
    reply = (await harness.run(harness.payloads.slash("config budget", guild_daily_usd=100.0))).last
    assert reply.ephemeral and "Manage Server" in reply.text
    assert harness.bot is not None
    assert await harness.bot.store.budgets.get(harness.payloads.guild_id) == Budget()


async def test_the_server_budget_refuses_before_anything_goes_upstream(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.bot.jobs.clock = Clock(at("2026-11-24 15:00:00"))
    await set_budget(harness, guild_daily_usd=0.006)
    assert not (await imagine(harness, "first")).last.ephemeral

    conversation = await imagine(harness, "second", actor=Actor("someone else"))
    refusal = conversation.last
    assert conversation.callback_types == [4] and refusal.ephemeral, "refused at once, privately"
    assert "This server's daily budget is $0.006" in refusal.text
    assert f"${COST} spent today" in refusal.text and "would go over" in refusal.text
    assert f"<t:{midnight_after('2026-11-25 00:00:00')}:R>" in refusal.text and "00:00 UTC" in refusal.text
    assert len(harness.openrouter.chat_requests()) == 1
    jobs = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)
    assert [job.spec.prompt for job in jobs] == ["first"], "a refused run is not a job"


async def test_a_used_up_budget_names_the_amount_used(harness: BotHarness) -> None:
    await set_budget(harness, guild_daily_usd=0.005)
    harness.openrouter.cost = 0.01  # dearer than any estimate: the one admitted job overshoots
    await imagine(harness, "first")
    refusal = (await imagine(harness, "second")).last
    assert "This server's daily budget of $0.005 is used up: $0.01 spent today" in refusal.text
    assert len(harness.openrouter.chat_requests()) == 1


async def test_the_estimate_from_catalog_prices_refuses_a_job_that_would_not_fit(harness: BotHarness) -> None:
    assert harness.bot is not None
    catalog = getattr(harness.bot, "catalog", None)
    if catalog is None:
        pytest.skip("this bot has no model catalog to price from")
    assert await catalog.wait_until_loaded()
    await set_budget(harness, guild_daily_usd=0.003)
    refusal = (await imagine(harness, "first")).last
    # 1290 image tokens at the stand-in's $0.0000025 completion price, plus a few prompt tokens.
    assert refusal.ephemeral and "this job would cost about $0.0032" in refusal.text
    assert harness.openrouter.chat_requests() == []


async def test_the_member_budget_applies_to_each_member_alone(harness: BotHarness) -> None:
    await set_budget(harness, member_daily_usd=0.006)
    await imagine(harness, "first")
    refusal = (await imagine(harness, "second")).last
    assert refusal.ephemeral and "Your daily budget in this server is $0.006" in refusal.text
    assert f"${COST} spent today" in refusal.text
    assert not (await imagine(harness, "another member's", actor=Actor("other"))).last.ephemeral
    assert [r.prompt for r in harness.openrouter.chat_requests()] == ["first", "another member's"]


async def test_the_image_limit_counts_images_and_covers_the_buttons(harness: BotHarness) -> None:
    await set_budget(harness, member_daily_images=1)
    first = (await imagine(harness, "first")).last
    refusal = (await imagine(harness, "second")).last
    assert refusal.ephemeral and "Your daily limit in this server is 1 image, and you made 1 today" in refusal.text
    rerolled = (await click(harness, first, "reroll")).last
    assert rerolled.ephemeral and "1 image" in rerolled.text, "buttons obey the same budgets"
    described = (await click(harness, first, "describe")).last
    assert not described.ephemeral, "a description makes no image, so the image limit does not stop it"
    assert [r.prompt for r in harness.openrouter.chat_requests()][0] == "first"
    assert len(harness.openrouter.chat_requests()) == 2


async def test_budgets_roll_over_at_midnight_utc(harness: BotHarness) -> None:
    assert harness.bot is not None
    clock = Clock(at("2026-11-24 23:59:50"))
    harness.bot.jobs.clock = clock
    await set_budget(harness, member_daily_images=1)
    await imagine(harness, "late at night")
    refusal = (await imagine(harness, "one more")).last
    assert refusal.ephemeral and f"<t:{midnight_after('2026-11-25 00:00:00')}:R>" in refusal.text

    clock.now = at("2026-11-25 00:00:01")
    assert not (await imagine(harness, "a new day")).last.ephemeral
    assert [r.prompt for r in harness.openrouter.chat_requests()] == ["late at night", "a new day"]
    usage = await harness.bot.store.usage.spend(harness.payloads.guild_id, since=clock.now.date())
    assert usage.calls == 1, "the ledger dates each call by the same clock"


async def test_concurrent_jobs_overshoot_a_budget_by_at_most_one_job(harness: BotHarness) -> None:
    limit = 0.005  # about one job
    await set_budget(harness, guild_daily_usd=limit)
    harness.openrouter.latency_s = 0.3  # every admitted job is still running when the others arrive
    members = [Actor(f"member{number}") for number in range(6)]
    conversations = await asyncio.gather(*(imagine(harness, f"job {n}", actor=m) for n, m in enumerate(members)))

    delivered = [c for c in conversations if not c.last.ephemeral]
    refused = [c for c in conversations if c.last.ephemeral]
    assert len(delivered) == 1 and len(refused) == 5
    assert all("daily budget" in c.last.text for c in refused)
    assert len(harness.openrouter.chat_requests()) == 1
    assert harness.bot is not None
    spent = await harness.bot.store.usage.spend(harness.payloads.guild_id, since=harness.bot.jobs.clock().date())
    assert spent.cost <= limit + COST
    assert harness.bot.jobs.budgets is not None
    assert harness.bot.jobs.budgets.held(harness.payloads.guild_id).empty, "every reservation was given back"


async def test_budget_changes_go_to_the_configuration_history(harness: BotHarness) -> None:
    recorded: list[dict[str, Any]] = []

    class History:
        async def record_setting(self, connection: Any, **row: Any) -> None:
            assert connection.in_transaction, "written in the budget change's own transaction"
            recorded.append(row)

    assert harness.bot is not None
    harness.bot.store.config_history = History()  # type: ignore[attr-defined]
    await set_budget(harness, guild_daily_usd=1.5, member_daily_images=4)
    await set_budget(harness, guild_daily_usd=0)
    admin = harness.payloads.admin
    assert [(r["setting"], r["old_value"], r["new_value"]) for r in recorded] == [
        ("server daily budget", None, "$1.50"),
        ("member daily images", None, "4 images"),
        ("server daily budget", "$1.50", None),
    ]
    assert {r["user_id"] for r in recorded} == {admin.user_id}
    assert {r["guild_id"] for r in recorded} == {harness.payloads.guild_id}


async def test_budget_joins_the_real_config_group_with_the_default_extensions(
        database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter) -> None:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter)
    await kit.start()
    try:
        assert kit.bot is not None
        group = kit.bot.tree.get_command("config")
        assert isinstance(group, app_commands.Group)
        assert group.get_command("budget") is not None and len(group.commands) > 1, "one group, shared"
        text = await set_budget(kit, member_daily_images=3)
        assert "**3 images**" in text
    finally:
        await kit.stop()


async def test_budget_says_when_role_quotas_replace_the_member_limits(harness: BotHarness) -> None:
    assert harness.bot is not None
    text = await set_budget(harness, member_daily_images=2)
    assert "Role quotas" not in text
    role = harness.payloads.role("Patron")
    harness.bot._connection.parse_guild_role_create(harness.payloads.role_create_event(role))  # type: ignore[arg-type]
    await harness.run(harness.payloads.slash("config quota", actor=harness.payloads.admin, role=role,
                                             images_per_day="4"))
    text = await set_budget(harness)
    assert "**2 images**" in text and "Role quotas (`/config quota`) replace the member limits" in text
