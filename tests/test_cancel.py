"""The Cancel button under a job's progress message, through the real command tree.

A waiting job leaves the queue (everyone behind moves up, OpenRouter never sees it); a running one has
its upstream request aborted (the stand-in OpenRouter sees the connection close); the member is told
who cancelled and what it cost, `/jobs` shows it, and the budget reservation is released. Clicks by
others are refused, clicks by moderators allowed, clicks on finished jobs or jobs a dead process left
behind are answered for what they are.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.storage.jobs import JobStatus
from tests.fake_openrouter import FakeOpenRouter, render_png
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import MEMBER_PERMISSIONS, Actor, PayloadFactory
from tests.kit.process import BotProcess, process_environment
from tests.kit.shadow import shadow_bot

EXTENSIONS = ("cogs.imagine", "cogs.describe", "cogs.result_buttons", "cogs.cancel", "cogs.jobs")
CANCEL = re.compile(r"^job:cancel:(?P<id>[0-9]+)$")
MODERATOR = MEMBER_PERMISSIONS | discord.Permissions(manage_messages=True)


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1,
                                   max_jobs_per_member=0), fake_discord, fake_openrouter, extensions=EXTENSIONS)
    bot = await kit.start()
    bot.jobs.progress_interval_s = 0  # every queue move is shown at once
    bot.jobs.working_notice_after_s = 0.05
    try:
        yield kit
    finally:
        if fake_openrouter.hold is not None:
            fake_openrouter.hold.set()
        if kit.bot is not None:
            await kit.bot.jobs.drain(5)  # a test that failed midway leaves no job running into the close
        await kit.stop()


# -- helpers --------------------------------------------------------------------------------------------


def _cancel_id(reply: Reply | None) -> str | None:
    if reply is None:
        return None
    return next((custom_id for custom_id in reply.custom_ids if CANCEL.match(custom_id)), None)


def _progress(harness: BotHarness, payload: dict[str, Any]) -> Reply:
    original = harness.conversation(payload).original
    assert original is not None, "the job was never answered"
    return original


async def _shown(harness: BotHarness, payload: dict[str, Any], words: str) -> Reply:
    """Wait until the job's public message reads `words`."""
    await harness.discord.wait_for(lambda: words in (harness.conversation(payload).original or Reply(False)).text)
    return _progress(harness, payload)


async def _cancel_button(harness: BotHarness, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Wait for the Cancel button on the job's progress message; its custom id and the message as clicked."""
    await harness.discord.wait_for(lambda: _cancel_id(harness.conversation(payload).original) is not None)
    reply = _progress(harness, payload)
    custom_id = _cancel_id(reply)
    assert custom_id is not None
    message = harness.payloads.message(content=reply.content, components=reply.components)
    message["author"] = harness.discord.bot_user()
    return custom_id, message


async def _click_cancel(harness: BotHarness, payload: dict[str, Any], actor: Actor | None = None) -> Conversation:
    custom_id, message = await _cancel_button(harness, payload)
    return await harness.run(harness.payloads.component(custom_id, message, actor=actor))


def _job_id(custom_id: str) -> int:
    match = CANCEL.match(custom_id)
    assert match is not None
    return int(match["id"])


async def _held_job(harness: BotHarness, prompt: str, actor: Actor | None = None,
                    ) -> tuple[dict[str, Any], set[asyncio.Task[Any]]]:
    """An /imagine whose upstream call is in flight (held by the stand-in)."""
    if harness.openrouter.hold is None:
        harness.openrouter.hold = asyncio.Event()
    before = len(harness.openrouter.chat_requests())
    payload = harness.payloads.slash("imagine", actor=actor, prompt=prompt)
    tasks = harness.dispatch(payload)
    await harness.openrouter.wait_for_requests(before + 1)
    return payload, tasks


def _private(conversation: Conversation, *words: str) -> str:
    reply = conversation.last
    assert reply.ephemeral, "the click is answered privately"
    for word in words:
        assert word in reply.text, reply.text
    return reply.text


async def _ledger(harness: BotHarness) -> list[Any]:
    assert harness.bot is not None
    return await harness.bot.store.database.fetch_all("SELECT job_id, cost, cost_reported FROM usage_ledger")


# -- waiting jobs ---------------------------------------------------------------------------------------


async def test_a_waiting_job_leaves_the_queue_and_everyone_behind_moves_up(harness: BotHarness) -> None:
    assert harness.bot is not None
    member = harness.payloads.member
    running, tasks = await _held_job(harness, "the running one")
    waiting: list[dict[str, Any]] = []
    for position, prompt in enumerate(("first in line", "second in line", "third in line"), start=1):
        payload = harness.payloads.slash("imagine", actor=Actor(f"waiter{position}") if position > 1 else member,
                                         prompt=prompt)
        tasks |= harness.dispatch(payload)
        reply = await _shown(harness, payload, f"position {position}")
        assert _cancel_id(reply) is not None, "a waiting job shows Cancel with its position"
        waiting.append(payload)
    first, second, third = waiting
    custom_id, _ = await _cancel_button(harness, first)

    clicked = await _click_cancel(harness, first, actor=member)
    _private(clicked, "cancelled", "left the queue", "Nothing was charged")
    gone = _progress(harness, first)
    assert gone.content == f"🚫 Cancelled by <@{member.user_id}> while it waited in the queue · nothing was charged."
    assert gone.components == [] and not gone.ephemeral, "the public message says so and loses its button"
    assert _cancel_id(await _shown(harness, second, "position 1")) is not None
    await _shown(harness, third, "position 2")
    assert harness.bot.jobs.queue.waiting == 2

    assert harness.openrouter.hold is not None
    harness.openrouter.hold.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    for payload in (running, second, third):
        result = harness.conversation(payload).last
        assert result.files and _cancel_id(result) is None, "the result replaces the Cancel button"
    prompts = [request.prompt for request in harness.openrouter.chat_requests()]
    assert len(prompts) == 3 and not any("first in line" in prompt for prompt in prompts)
    record = await harness.bot.store.jobs.get(_job_id(custom_id))
    assert record is not None and record.status is JobStatus.FAILED
    assert record.error_kind == f"cancelled by <@{member.user_id}>" and record.upstream_ms is None
    assert _job_id(custom_id) not in {row["job_id"] for row in await _ledger(harness)}, "nothing to bill"
    assert harness.openrouter.disconnects == 0


# -- running jobs ---------------------------------------------------------------------------------------


async def test_a_running_job_is_aborted_upstream_told_listed_and_its_reservation_released(
    harness: BotHarness,
) -> None:
    bot = harness.bot
    assert bot is not None and bot.jobs.budgets is not None
    guild, member = harness.payloads.guild_id, harness.payloads.member
    await bot.store.budgets.update(guild, guild_daily_usd=1.0)
    bot.jobs.working_notice_after_s = 1.5  # the real delay: no edit at all for jobs faster than that
    payload, tasks = await _held_job(harness, "a slow cathedral")
    assert bot.jobs.budgets.held(guild).cost > 0, "the job holds its estimate while it runs"
    custom_id, _ = await _cancel_button(harness, payload)
    assert _progress(harness, payload).content == "Working on it…"

    clicked = await _click_cancel(harness, payload)
    _private(clicked, f"Job #{_job_id(custom_id)} is cancelled", "request was stopped", "may still bill it")
    await harness.openrouter.wait_for_disconnects(1)
    assert harness.openrouter.chat_requests()[0].disconnected, "the stand-in saw the connection close"
    told = _progress(harness, payload)
    assert told.content.startswith(f"🚫 Cancelled by <@{member.user_id}> · cost unknown")
    assert "may still bill it" in told.content and told.components == []
    assert bot.jobs.budgets.held(guild).cost == 0, "the reservation is released"
    (row,) = await _ledger(harness)
    assert row["job_id"] == _job_id(custom_id) and row["cost_reported"] == 0, "the call was made: it is on record"
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert any(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes), "the command's task was stopped"

    listed = await harness.run(harness.payloads.slash("jobs"))
    assert f"cancelled by <@{member.user_id}>" in listed.last.text


async def test_a_cancel_after_a_billed_answer_reports_its_cost_and_the_unknown_rest(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.openrouter.fault_next("error_in_200")  # answered and billed, then retried...
    harness.openrouter.fault_next("hang")  # ... and the retry never answers
    payload = harness.payloads.slash("imagine", prompt="a billed then stuck call")
    tasks = harness.dispatch(payload)
    await harness.openrouter.wait_for_requests(2)
    clicked = await _click_cancel(harness, payload)
    _private(clicked, "Cost $0.0039 so far", "whatever OpenRouter bills for the request that was stopped")
    await harness.openrouter.wait_for_disconnects(1)
    assert "cost $0.0039 so far" in _progress(harness, payload).content
    (row,) = await _ledger(harness)
    assert row["cost"] == pytest.approx(0.0039) and row["cost_reported"] == 1
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_only_the_requester_or_a_moderator_may_cancel(harness: BotHarness) -> None:
    assert harness.bot is not None
    member = harness.payloads.member
    payload, tasks = await _held_job(harness, "mine, not yours")
    custom_id, _ = await _cancel_button(harness, payload)

    refused = await _click_cancel(harness, payload, actor=Actor("bystander"))
    _private(refused, f"Only <@{member.user_id}>", "Manage Messages")
    assert harness.bot.jobs.live(_job_id(custom_id)) is not None, "the job goes on"
    assert harness.openrouter.disconnects == 0 and _cancel_id(_progress(harness, payload)) is not None

    moderator = Actor("moderator", permissions=MODERATOR)
    allowed = await _click_cancel(harness, payload, actor=moderator)
    _private(allowed, "is cancelled")
    await harness.openrouter.wait_for_disconnects(1)
    assert _progress(harness, payload).content.startswith(f"🚫 Cancelled by <@{moderator.user_id}> ·")
    await asyncio.gather(*tasks, return_exceptions=True)

    again = await harness.run(harness.payloads.component(custom_id, await _stale_message(harness, custom_id),
                                                         actor=member))
    _private(again, f"already cancelled by <@{moderator.user_id}>")


async def test_two_clicks_at_once_cancel_once_and_both_are_answered(harness: BotHarness) -> None:
    member = harness.payloads.member
    payload, tasks = await _held_job(harness, "clicked twice")
    custom_id, message = await _cancel_button(harness, payload)
    moderator = Actor("moderator", permissions=MODERATOR)
    clicks = [harness.payloads.component(custom_id, message, actor=actor) for actor in (member, moderator)]
    await asyncio.wait_for(asyncio.gather(*harness.dispatch(*clicks)), 30)
    answers = sorted(harness.conversation(click).last.embeds[0]["title"] for click in clicks)
    assert answers == ["Already cancelled", "Cancelled"]
    assert all(harness.conversation(click).last.ephemeral for click in clicks)
    await harness.openrouter.wait_for_disconnects(1)
    await asyncio.gather(*tasks, return_exceptions=True)
    assert harness.openrouter.disconnects == 1 and len(harness.openrouter.chat_requests()) == 1


# -- finished jobs, forged ids, a restart -----------------------------------------------------------------


async def _stale_message(harness: BotHarness, custom_id: str) -> dict[str, Any]:
    """A message still carrying a Cancel button (a client that had not refreshed, or a forged click)."""
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Cancel", "custom_id": custom_id}]}
    message = harness.payloads.message(content="Working on it…", components=[row])
    message["author"] = harness.discord.bot_user()
    return message


async def test_a_fast_job_shows_no_progress_and_a_late_cancel_is_told_it_finished(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.bot.jobs.working_notice_after_s = 60
    payload = harness.payloads.slash("imagine", prompt="a quick sketch")
    conversation = await harness.run(payload)
    assert conversation.last.files
    edits = [r for r in conversation.requests if r.method == "PATCH"]
    assert len(edits) == 1, "no progress edit (and no Cancel button) before a fast job's result"
    assert not any("job:cancel:" in str(r.json) for r in conversation.requests)
    (record,) = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)

    custom_id = f"job:cancel:{record.id}"
    late = await harness.run(harness.payloads.component(custom_id, await _stale_message(harness, custom_id)))
    _private(late, "already finished", "nothing to cancel")


async def test_a_text_answer_and_an_error_also_replace_the_cancel_button(harness: BotHarness) -> None:
    photo = harness.payloads.attachment("cat.png", render_png(64, 64))
    harness.openrouter.hold = asyncio.Event()
    describe = harness.payloads.slash("describe", image=photo)
    tasks = harness.dispatch(describe)
    await _cancel_button(harness, describe)
    harness.openrouter.hold.set()
    await asyncio.gather(*tasks)
    answer = harness.conversation(describe).last
    assert answer.embeds[0]["title"] == "Describe"
    assert _cancel_id(answer) is None and any(c.startswith("job:delete:") for c in answer.custom_ids)

    harness.openrouter.hold = asyncio.Event()
    harness.openrouter.fail_next(400)
    failing = harness.payloads.slash("imagine", prompt="doomed")
    tasks = harness.dispatch(failing)
    await _cancel_button(harness, failing)
    harness.openrouter.hold.set()
    await asyncio.gather(*tasks)
    failed = harness.conversation(failing)
    assert failed.last.ephemeral and all(_cancel_id(reply) is None for reply in failed.visible)


async def test_a_cancel_click_for_another_servers_job_is_refused_as_missing(harness: BotHarness) -> None:
    payload, tasks = await _held_job(harness, "not yours to see")
    custom_id, message = await _cancel_button(harness, payload)
    click = harness.payloads.component(custom_id, message, actor=Actor("admin elsewhere", permissions=MODERATOR))
    other = str(harness.payloads.guild_id + 1)
    click.update({"guild_id": other, "guild": {**click["guild"], "id": other},
                  "authorizing_integration_owners": {"0": other}})
    _private(await harness.run(click), "no longer on record")
    assert harness.openrouter.disconnects == 0
    assert harness.openrouter.hold is not None
    harness.openrouter.hold.set()
    await asyncio.gather(*tasks)


async def test_cancel_after_the_bot_process_died_says_the_job_is_gone(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    database = tmp_path / "db" / "bot.sqlite3"
    async with shadow_bot(make_settings(tmp_path / "shadow.sqlite3", fake_discord, fake_openrouter),
                          load=("cogs.imagine",)) as shadow:  # the real command tree, to build payloads from
        factory = PayloadFactory(shadow.tree, fake_discord)
    fake_discord.guilds = [factory.guild_dict()]
    fake_openrouter.hold = asyncio.Event()
    process = BotProcess(process_environment(fake_discord, fake_openrouter, database), cwd=tmp_path)
    await process.start()
    try:
        await asyncio.wait_for(fake_discord.identified.wait(), 30)
        payload = factory.slash("imagine", prompt="cut short by a crash")
        await fake_discord.dispatch("INTERACTION_CREATE", payload)
        await fake_openrouter.wait_for_requests(1, timeout=30)

        def cancel_shown() -> bool:
            return _cancel_id(Conversation(fake_discord.for_token(payload["token"])).original) is not None

        await fake_discord.wait_for(cancel_shown, timeout=30)  # after about 1.5 s, from the real process
        process.signal(signal.SIGKILL)
        await process.wait()
    finally:
        await process.kill()
    progress = Conversation(fake_discord.for_token(payload["token"])).original
    assert progress is not None
    custom_id = _cancel_id(progress)
    assert custom_id is not None

    kit = BotHarness(make_settings(database, fake_discord, fake_openrouter), fake_discord, fake_openrouter,
                     extensions=EXTENSIONS)
    kit.factory = factory
    await kit.start()  # marks the dead process's job interrupted
    try:
        message = factory.message(content=progress.content, components=progress.components)
        message["author"] = fake_discord.bot_user()
        clicked = await kit.run(factory.component(custom_id, message))
        _private(clicked, "gone", "the bot restarted before it finished", "run the command again")
        listed = await kit.run(factory.slash("jobs"))
        assert "interrupted" in listed.last.text
    finally:
        fake_openrouter.hold.set()
        await kit.stop()
