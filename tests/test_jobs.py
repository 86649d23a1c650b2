"""The job history: what a run records, and `/jobs` for members and admins, through the real tree."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord import app_commands

from bot.core import DEFAULT_EXTENSIONS
from bot.job_log import JOB_LOGGER
from bot.operations import Operation
from bot.storage.jobs import JobStatus
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness
from tests.kit.payloads import Actor
from tests.test_jobs_kit import imagine, job_id, started


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        yield kit


async def test_a_finished_job_records_what_was_asked_and_what_came_of_it(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a quiet harbour", format="portrait")).last
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(reply))
    assert record is not None
    spec = record.spec
    assert (spec.operation, spec.prompt, spec.image_format, spec.aspect_ratio, spec.model) == (
        Operation.IMAGINE, "a quiet harbour", "portrait", "9:16", "google/gemini-2.5-flash-image")
    assert spec.guild_id == harness.payloads.guild_id and spec.channel_id == harness.payloads.channel_id
    assert spec.member_id == harness.payloads.member.user_id
    assert record.status is JobStatus.DONE and record.error_kind is None
    assert record.cost == pytest.approx(0.0039) and record.generation_id == "gen-1"
    assert record.started_at is not None and record.finished_at is not None
    assert record.created_at <= record.started_at <= record.finished_at
    assert record.upstream_ms is not None and record.upstream_ms >= 0
    assert record.result_message_id is not None and record.result_files == ("imagine_1.png",)


async def test_a_failed_job_records_the_error_kind_and_no_result(harness: BotHarness) -> None:
    harness.openrouter.fail_next(400, message="Invalid prompt")
    failed = (await imagine(harness, "something")).last
    assert failed.ephemeral
    assert harness.bot is not None
    (record,) = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)
    assert record.status is JobStatus.FAILED and record.error_kind == "BadRequestError"
    assert record.cost is None and record.result_message_id is None


async def test_jobs_lists_the_last_ten_newest_first_with_links(harness: BotHarness) -> None:
    for number in range(11):
        await imagine(harness, f"prompt number {number}")
    harness.openrouter.fail_next(400)
    await imagine(harness, "the failing one")

    reply = (await harness.run(harness.payloads.slash("jobs"))).last
    assert reply.ephemeral
    text = reply.embeds[0]["description"]
    entries = text.split("\n\n")
    assert len(entries) == 10
    assert "the failing one" in entries[0] and "❌ failed (BadRequestError)" in entries[0]
    assert "prompt number 10" in entries[1] and "✅ done" in entries[1] and "$0.0039" in entries[1]
    assert "prompt number 1\n" not in text + "\n" and "prompt number 2" in entries[-1]
    link = f"https://discord.com/channels/{harness.payloads.guild_id}/{harness.payloads.channel_id}/"
    assert f"[result]({link}" in entries[1]


async def test_jobs_shows_only_the_members_own_jobs(harness: BotHarness) -> None:
    await imagine(harness, "mine")
    await imagine(harness, "the admin's", actor=harness.payloads.admin)
    text = (await harness.run(harness.payloads.slash("jobs"))).last.text
    assert "mine" in text and "the admin's" not in text


async def test_members_cannot_look_at_other_members_jobs(harness: BotHarness) -> None:
    await imagine(harness, "private prompt", actor=harness.payloads.admin)
    reply = (await harness.run(harness.payloads.slash("jobs", member=harness.payloads.admin))).last
    assert reply.ephemeral and "Manage Server" in reply.text and "private prompt" not in reply.text


async def test_admins_can_look_at_another_members_jobs(harness: BotHarness) -> None:
    await imagine(harness, "a member's prompt")
    payload = harness.payloads.slash("jobs", actor=harness.payloads.admin, member=harness.payloads.member)
    reply = (await harness.run(payload)).last
    assert reply.ephemeral and "a member's prompt" in reply.text
    assert reply.embeds[0]["title"].startswith("Member's recent jobs")


async def test_jobs_of_someone_without_any(harness: BotHarness) -> None:
    reply = (await harness.run(harness.payloads.slash("jobs", actor=Actor("newcomer")))).last
    assert "No jobs yet" in reply.text


def test_usage_loads_after_config_so_budget_joins_the_config_group() -> None:
    for name in ("cogs.result_buttons", "cogs.jobs", "cogs.usage"):
        assert name in DEFAULT_EXTENSIONS
    if "cogs.config" in DEFAULT_EXTENSIONS:
        assert DEFAULT_EXTENSIONS.index("cogs.config") < DEFAULT_EXTENSIONS.index("cogs.usage")


async def test_budget_attaches_to_an_existing_config_group(database_path: Path, fake_discord: FakeDiscord,
                                                          fake_openrouter: FakeOpenRouter) -> None:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        assert kit.bot is not None
        await kit.bot.unload_extension("cogs.usage")
        theirs = app_commands.Group(name="config", description="Server settings")
        kit.bot.tree.add_command(theirs)
        await kit.bot.load_extension("cogs.usage")
        assert kit.bot.tree.get_command("config") is theirs
        assert theirs.get_command("budget") is not None
        await kit.bot.unload_extension("cogs.usage")
        assert theirs.get_command("budget") is None, "unloading gives the group back as it was"


async def test_every_finished_job_writes_one_job_log_line(harness: BotHarness,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    await imagine(harness, "fine")
    harness.openrouter.fail_next(400)
    await imagine(harness, "fails")
    lines = [record for record in caplog.records if record.name == JOB_LOGGER]
    assert [(line.status, getattr(line, "error", None)) for line in lines] == [  # type: ignore[attr-defined]
        ("ok", None), ("failed", "BadRequestError")]
    assert lines[0].cost_usd == pytest.approx(0.0039)  # type: ignore[attr-defined]
