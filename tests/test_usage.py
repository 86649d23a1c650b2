"""The usage ledger after successes and failures, and `/usage` for members, admins (with its chart) and the owner."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.operations import Operation
from bot.usage_chart import OPERATION_COLOURS, render_daily_spend
from tests.fake_openrouter import DEFAULT_API_KEY, FakeOpenRouter
from tests.kit.conversation import Reply
from tests.kit.fake_discord import FakeDiscord, team, team_member
from tests.kit.harness import BotHarness
from tests.kit.payloads import ADMIN_PERMISSIONS, Actor
from tests.test_jobs_kit import Clock, at, click, imagine, job_id, started


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        yield kit


async def test_a_success_writes_one_ledger_row_with_the_reported_cost(harness: BotHarness) -> None:
    harness.openrouter.cost = 0.0123
    reply = (await imagine(harness)).last
    assert harness.bot is not None
    (entry,) = await harness.bot.store.usage.entries_for_job(job_id(reply))
    assert entry.cost == pytest.approx(0.0123) and entry.cost_reported and entry.succeeded
    assert entry.generation_id == "gen-1" and entry.images == 1
    assert (entry.guild_id, entry.member_id, entry.operation) == (
        harness.payloads.guild_id, harness.payloads.member.user_id, Operation.IMAGINE)
    record = await harness.bot.store.jobs.get(job_id(reply))
    assert record is not None and record.cost == entry.cost


async def test_a_failed_call_records_zero_cost(harness: BotHarness) -> None:
    harness.openrouter.fail_next(400)
    await imagine(harness)
    assert harness.bot is not None
    (record,) = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)
    (entry,) = await harness.bot.store.usage.entries_for_job(record.id)
    assert entry.cost == 0 and not entry.cost_reported and not entry.succeeded and entry.images == 0


async def test_a_failure_after_openrouter_reported_a_cost_keeps_that_cost(harness: BotHarness) -> None:
    harness.payloads.filesize_limit = 50  # the generated image cannot be made to fit: fails after the call
    refusal = (await imagine(harness)).last
    assert refusal.ephemeral and "too large to post" in refusal.text
    assert harness.bot is not None
    (record,) = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)
    assert record.error_kind == "ImageRejected" and record.cost == pytest.approx(0.0039)
    (entry,) = await harness.bot.store.usage.entries_for_job(record.id)
    assert entry.cost == pytest.approx(0.0039) and entry.cost_reported and not entry.succeeded


async def test_a_refusal_before_the_upstream_writes_no_ledger_row(harness: BotHarness) -> None:
    await harness.run(harness.payloads.slash("config budget", actor=harness.payloads.admin, member_daily_images=1))
    await imagine(harness, "first")
    await imagine(harness, "refused")
    assert harness.bot is not None
    today = harness.bot.jobs.clock().date()
    spent = await harness.bot.store.usage.spend(harness.payloads.guild_id, since=today)
    assert spent.calls == 1


async def test_button_jobs_are_in_the_ledger_too(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    await click(harness, reply, "describe")
    assert harness.bot is not None
    by_operation = await harness.bot.store.usage.by_operation(
        harness.payloads.guild_id, since=harness.bot.jobs.clock().date())
    assert by_operation[Operation.IMAGINE].calls == 1 and by_operation[Operation.DESCRIBE].calls == 1
    assert by_operation[Operation.DESCRIBE].images == 0


async def test_members_see_their_own_spend_today_this_week_and_this_month(harness: BotHarness) -> None:
    assert harness.bot is not None
    clock = Clock(at("2026-11-02 12:00:00"))  # a Monday
    harness.bot.jobs.clock = clock
    await imagine(harness, "start of the month")
    clock.now = at("2026-11-24 09:00:00")  # Tuesday three weeks later
    await imagine(harness, "yesterday")
    clock.now = at("2026-11-25 10:00:00")
    await imagine(harness, "today")
    await imagine(harness, "today again")
    await imagine(harness, "not mine", actor=Actor("other"))

    conversation = await harness.run(harness.payloads.slash("usage"))
    reply = conversation.last
    assert reply.ephemeral and reply.files == []
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    assert fields["Today"] == "$0.0078 · 2 jobs"
    assert fields["This week"] == "$0.0117 · 3 jobs"
    assert fields["This month"] == "$0.0156 · 4 jobs"


async def test_admins_see_the_server_by_operation_and_member_with_a_png_chart(harness: BotHarness) -> None:
    reply_to_describe = (await imagine(harness, "one")).last
    await imagine(harness, "two", actor=harness.payloads.admin)
    await click(harness, reply_to_describe, "describe")

    conversation = await harness.run(harness.payloads.slash("usage", actor=harness.payloads.admin))
    reply = conversation.last
    assert reply.ephemeral
    embed = reply.embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Today"].startswith("**$0.0117 · 3 jobs**")
    assert "Imagine: $0.0078 · 2 jobs" in fields["Today"] and "Describe: $0.0039 · 1 job" in fields["Today"]
    member = harness.payloads.member.user_id
    assert f"<@{member}> $0.0078 · 2 jobs" in fields["Last 30 days"]
    (chart,) = reply.files
    assert chart.filename == "usage.png" and embed["image"]["url"] == "attachment://usage.png"
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(chart.data))
    assert image.format == "PNG" and image.size == (960, 440)
    colours = {colour for _count, colour in image.getcolors(maxcolors=1 << 16)}  # type: ignore[union-attr]
    assert OPERATION_COLOURS[Operation.IMAGINE] in colours and OPERATION_COLOURS[Operation.DESCRIBE] in colours


def key_checks(harness: BotHarness) -> int:
    return sum(1 for request in harness.openrouter.requests if request.path.endswith("/key"))


def assert_no_secret(reply: Reply, harness: BotHarness) -> None:
    shown = reply.text + json.dumps(reply.embeds)
    assert DEFAULT_API_KEY not in shown and "sk-or" not in shown
    assert harness.openrouter.key_info["label"] not in shown, "the label holds part of the key"


async def admin_usage(harness: BotHarness, actor: Actor | None = None) -> Reply:
    reply = (await harness.run(harness.payloads.slash("usage", actor=actor or harness.payloads.admin))).last
    assert reply.ephemeral and reply.embeds[0]["title"] == "Usage in this server"
    return reply


async def test_a_server_admin_who_does_not_run_the_bot_sees_no_key_figures(harness: BotHarness) -> None:
    await imagine(harness, "one")
    checks = key_checks(harness)
    reply = await admin_usage(harness)
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    assert fields["Today"].startswith("**$0.0039 · 1 job**"), "the server's own figures are still shown"
    assert "OpenRouter key" not in fields
    for key_figure in ("$25.00", "$20.50", "$4.50", "limit set on the key", "left of its"):
        assert key_figure not in reply.text
    assert key_checks(harness) == checks, "the key is not even asked about"
    assert_no_secret(reply, harness)


async def test_the_application_owner_sees_the_keys_limit(harness: BotHarness) -> None:
    harness.discord.application_owner = harness.payloads.admin.user_dict()
    reply = await admin_usage(harness)
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    assert fields["OpenRouter key"] == "$20.50 left of its $25.00 limit."
    assert_no_secret(reply, harness)


async def test_the_key_without_a_limit_is_reported_as_such(harness: BotHarness) -> None:
    harness.discord.application_owner = harness.payloads.admin.user_dict()
    harness.openrouter.key_info.update({"limit": None, "limit_remaining": None, "usage": 4.5})
    reply = await admin_usage(harness)
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    assert fields["OpenRouter key"] == "No spending limit set on the key ($4.50 used in all)."
    assert_no_secret(reply, harness)


@pytest.mark.parametrize(("role", "sees_key"), [("admin", True), ("developer", True), ("read_only", False)])
async def test_members_of_the_owning_team_see_the_key_by_their_role(
    harness: BotHarness, role: str, sees_key: bool
) -> None:
    founder = Actor("founder", permissions=ADMIN_PERMISSIONS)
    admin = harness.payloads.admin
    harness.discord.application_owner = admin.user_dict()  # ignored by Discord's rules once a team owns the app
    harness.discord.application_team = team(
        [team_member(founder.user_dict(), role="admin"), team_member(admin.user_dict(), role=role)]
    )
    reply = await admin_usage(harness)
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    if sees_key:
        assert fields["OpenRouter key"] == "$20.50 left of its $25.00 limit."
    else:
        assert "OpenRouter key" not in fields and "$25.00" not in reply.text
    assert_no_secret(reply, harness)
    founders_view = await admin_usage(harness, founder)
    assert "OpenRouter key" in {field["name"] for field in founders_view.embeds[0]["fields"]}


async def test_an_admin_outside_the_owning_team_sees_no_key_figures(harness: BotHarness) -> None:
    harness.discord.application_team = team([team_member(Actor("founder").user_dict(), role="admin")])
    reply = await admin_usage(harness)
    assert "OpenRouter key" not in {field["name"] for field in reply.embeds[0]["fields"]}
    assert "$25.00" not in reply.text


async def test_when_discord_cannot_say_who_owns_the_bot_nobody_sees_the_key(harness: BotHarness) -> None:
    harness.discord.application_owner = harness.payloads.admin.user_dict()
    harness.discord.application_status = 403
    reply = await admin_usage(harness)
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    assert "Today" in fields and "OpenRouter key" not in fields


def test_the_chart_draws_a_bar_only_where_there_was_spend() -> None:
    days = [date(2026, 11, 24) - timedelta(days=29 - index) for index in range(30)]
    empty = Image.open(io.BytesIO(render_daily_spend(days, {}, title="t")))
    with_spend = Image.open(io.BytesIO(render_daily_spend(
        days, {days[-1]: {Operation.EDIT: 0.5}}, title="t")))
    edit = OPERATION_COLOURS[Operation.EDIT]
    count = {colour: n for n, colour in with_spend.getcolors(maxcolors=1 << 16)}  # type: ignore[union-attr]
    legend_only = {colour: n for n, colour in empty.getcolors(maxcolors=1 << 16)}  # type: ignore[union-attr]
    assert count[edit] > legend_only[edit] + 1000, "a tall bar for the one day with spend"
