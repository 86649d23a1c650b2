"""A job's life beyond the happy path: retries shown to the member, the 15-minute lifetime, shutdown."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import discord
import pytest

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings


async def _harness(tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter,
                   **overrides: object) -> BotHarness:
    harness = BotHarness(make_settings(tmp_path / "bot.sqlite3", fake_discord, fake_openrouter, **overrides),
                         fake_discord, fake_openrouter)
    await harness.start()
    return harness


async def test_a_retry_is_shown_in_the_progress_message(tmp_path: Path, fake_discord: FakeDiscord,
                                                        fake_openrouter: FakeOpenRouter) -> None:
    harness = await _harness(tmp_path, fake_discord, fake_openrouter, retry_base_delay_s=0.3, retry_max_delay_s=0.3)
    try:
        fake_openrouter.fail_next(503)
        conversation = await harness.run(harness.payloads.slash("imagine", prompt="a busy day"))
        shown = [r.json.get("content") or "" for r in conversation.requests
                 if r.method == "PATCH" and isinstance(r.json, dict)]
        assert any("Upstream busy, retrying" in text and "attempt 2 of 3" in text for text in shown)
        assert conversation.last.files and not conversation.last.content, "the result replaces the notice"
    finally:
        await harness.stop()


async def test_admin_detail_goes_to_the_log_not_to_the_member(harness: BotHarness,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    harness.openrouter.fail_next(502, metadata={"provider_name": "Google Vertex", "raw": "upstream said: boom"},
                                 times=3)
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="x"))
    assert "boom" not in conversation.last.text
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.tree"]
    assert any("provider=Google Vertex" in line and "upstream said: boom" in line for line in lines)


async def test_a_job_near_the_interaction_lifetime_ends_with_a_message(harness: BotHarness) -> None:
    payload = harness.payloads.slash("imagine", prompt="very slow")
    almost_expired = discord.utils.utcnow() - datetime.timedelta(minutes=14, seconds=30)
    payload["id"] = str(discord.utils.time_snowflake(almost_expired))
    harness.openrouter.hold = asyncio.Event()
    conversation = await harness.run(payload)
    reply = conversation.last
    assert reply.ephemeral and reply.embeds[0]["title"] == "Took too long"
    assert "15 minutes" in reply.text


async def test_shutdown_lets_jobs_finish_then_cancels_the_rest_with_a_message(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    harness = await _harness(tmp_path, fake_discord, fake_openrouter, shutdown_grace_s=0.2,
                             max_jobs_per_member=0)
    bot = harness.bot
    assert bot is not None
    fake_openrouter.hold = asyncio.Event()
    stuck = harness.payloads.slash("imagine", prompt="never finishes")
    tasks = harness.dispatch(stuck)
    await fake_openrouter.wait_for_requests(1)

    draining = asyncio.create_task(bot.jobs.drain(bot.settings.shutdown_grace_s))
    late = await harness.run(harness.payloads.slash("imagine", prompt="too late"))
    assert late.last.ephemeral and late.last.embeds[0]["title"] == "Restarting"
    assert await draining == 1
    await asyncio.gather(*tasks, return_exceptions=True)
    cancelled = harness.conversation(stuck).last
    assert cancelled.ephemeral and "restarted before your job finished" in cancelled.text
    assert len(fake_openrouter.chat_requests()) == 1, "nothing new was sent upstream while draining"
    await harness.stop()


async def test_shutdown_waits_for_a_job_that_finishes_within_the_grace(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    harness = await _harness(tmp_path, fake_discord, fake_openrouter, shutdown_grace_s=30)
    bot = harness.bot
    assert bot is not None
    fake_openrouter.hold = asyncio.Event()
    payload = harness.payloads.slash("imagine", prompt="nearly done")
    tasks = harness.dispatch(payload)
    await fake_openrouter.wait_for_requests(1)
    draining = asyncio.create_task(bot.jobs.drain(bot.settings.shutdown_grace_s))
    fake_openrouter.hold.set()
    assert await draining == 0
    await asyncio.gather(*tasks)
    assert harness.conversation(payload).last.files
    await harness.stop()


