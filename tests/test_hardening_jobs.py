"""Hardening of the job path, driven as an attacker or a careless operator would, through the real tree.

DMs and user installs refused everywhere (commands, menus, autocomplete, buttons, forms); the queue
cap under a real burst; nothing downloaded before admission; buttons obeying the server's settings of
today and only their own server's jobs; forms answered after a restart; leftovers of a dead process
marked interrupted; costs and reservations surviving failures after the answer.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.operations import Operation
from bot.requests import ImageRequest
from bot.storage.jobs import INTERRUPTED, JobSpec, JobStatus
from bot.storage.usage import UsageLedger
from tests.fake_openrouter import FakeOpenRouter, render_png
from tests.kit.conversation import Conversation
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import ADMIN_PERMISSIONS, Actor
from tests.test_jobs_kit import buttons, click, imagine, job_id, result_message

SERVERS_ONLY = "only in the channels of a server"


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter)
    await kit.start()
    try:
        yield kit
    finally:
        await kit.stop()


def _photo(harness: BotHarness, name: str = "photo.png") -> dict[str, Any]:
    return harness.payloads.attachment(name, render_png(64, 48), "image/png", width=64, height=48)


def _downloads(harness: BotHarness, name: str) -> int:
    return len([r for r in harness.discord.requests if r.method == "GET" and r.path.endswith(f"/{name}")])


def _with_button(harness: BotHarness, custom_id: str) -> dict[str, Any]:
    """A bot message carrying one button, as a forged or stale click would come from."""
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Button", "custom_id": custom_id}]}
    message = harness.payloads.message(attachments=[_photo(harness)], components=[row])
    message["author"] = harness.discord.bot_user()
    return message


def _refused_privately(conversation: Conversation, words: str) -> None:
    reply = conversation.last
    assert reply.ephemeral, "a refusal is private"
    assert words in reply.text, reply.text


# -- 1. servers only ------------------------------------------------------------------------------


async def test_every_command_and_menu_is_published_for_server_installs_and_channels_only(
    harness: BotHarness,
) -> None:
    synced = [r for r in harness.discord.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert synced, "the bot synced its commands"
    commands = synced[-1].json
    assert {command["name"] for command in commands} >= {"imagine", "edit", "describe", "Edit image",
                                                         "Describe image", "config", "status", "jobs", "usage"}
    for command in commands:
        assert command.get("contexts") == [0], command["name"]
        assert command.get("integration_types") == [0], command["name"]


@pytest.mark.parametrize("kind", ["imagine", "edit", "describe"])
async def test_slash_commands_from_a_dm_are_refused_before_anything_is_fetched_or_spent(
    harness: BotHarness, kind: str
) -> None:
    photo = _photo(harness)
    options: dict[str, Any] = {"imagine": {"prompt": "a cat"}, "edit": {"prompt": "a hat", "image": photo},
                               "describe": {"image": photo}}[kind]
    conversation = await harness.run(harness.payloads.slash(kind, in_guild=False, **options))
    _refused_privately(conversation, SERVERS_ONLY)
    assert harness.openrouter.chat_requests() == []
    assert _downloads(harness, "photo.png") == 0
    assert harness.bot is not None
    rows = await harness.bot.store.database.fetch_all("SELECT count(*) AS n FROM jobs")
    assert rows[0]["n"] == 0, "no job was recorded"


async def test_a_user_install_inside_a_server_is_refused_like_a_dm(harness: BotHarness) -> None:
    payload = harness.payloads.as_user_install(harness.payloads.slash("imagine", prompt="a cat"))
    _refused_privately(await harness.run(payload), SERVERS_ONLY)
    assert harness.openrouter.chat_requests() == []


@pytest.mark.parametrize("menu", ["Edit image", "Describe image"])
async def test_message_menus_from_a_dm_are_refused(harness: BotHarness, menu: str) -> None:
    message = harness.payloads.message(attachments=[_photo(harness)])
    conversation = await harness.run(harness.payloads.message_command(menu, message, in_guild=False))
    _refused_privately(conversation, SERVERS_ONLY)
    assert conversation.modal is None
    assert harness.openrouter.chat_requests() == [] and _downloads(harness, "photo.png") == 0


async def test_autocomplete_from_a_dm_offers_nothing(harness: BotHarness) -> None:
    admin = Actor("dm-admin", permissions=ADMIN_PERMISSIONS)
    payload = harness.payloads.autocomplete("config model", "model", actor=admin, in_guild=False,
                                            operation="imagine", model="gem")
    conversation = await harness.run(payload)
    assert conversation.autocomplete_choices == []


async def test_result_buttons_and_forms_from_a_dm_are_refused(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    message = await result_message(harness, reply)
    before = len(harness.openrouter.chat_requests())
    for action in ("reroll", "edit", "describe"):
        payload = harness.payloads.component(buttons(reply)[action], message, in_guild=False)
        conversation = await harness.run(payload)
        _refused_privately(conversation, SERVERS_ONLY)
        assert conversation.modal is None
    form = harness.payloads.modal_submit(f"job-edit:{job_id(reply)}", {"prompt": "make it night"},
                                         message=message, in_guild=False)
    _refused_privately(await harness.run(form), SERVERS_ONLY)
    assert len(harness.openrouter.chat_requests()) == before


# -- 2. the queue cap under a burst ---------------------------------------------------------------------


async def test_the_queue_cap_holds_when_six_commands_arrive_at_once(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1, max_queued_jobs=2)
    kit = BotHarness(settings, fake_discord, fake_openrouter)
    await kit.start()
    try:
        fake_openrouter.hold = asyncio.Event()
        payloads = [kit.payloads.slash("imagine", actor=Actor(f"member{n}"), prompt=f"burst {n}") for n in range(6)]
        tasks = kit.dispatch(*payloads)  # all six before any is answered
        await fake_openrouter.wait_for_requests(1)
        busy = "The bot is very busy"

        def refused() -> int:
            return sum(1 for p in payloads if any(
                busy in json.dumps(r.json) for r in fake_discord.for_token(p["token"])))

        await fake_discord.wait_for(lambda: refused() == 3)
        fake_openrouter.hold.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        conversations = [kit.conversation(p) for p in payloads]
        results = [c for c in conversations if c.last.files]
        refusals = [c for c in conversations if busy in c.last.text]
        assert len(results) == 3 and len(refusals) == 3
        assert all(c.last.ephemeral for c in refusals)
        assert len(fake_openrouter.chat_requests()) == 3
    finally:
        await kit.stop()


# -- 5. admission before any download -------------------------------------------------------------------


async def _hold_a_job(harness: BotHarness, actor: Actor) -> set[asyncio.Task[Any]]:
    harness.openrouter.hold = asyncio.Event()
    tasks = harness.dispatch(harness.payloads.slash("imagine", actor=actor, prompt="slow"))
    await harness.openrouter.wait_for_requests(1)
    return tasks


@pytest.mark.parametrize("kind", ["edit", "describe"])
async def test_a_member_at_their_limit_gets_nothing_downloaded_or_decoded(harness: BotHarness, kind: str) -> None:
    actor = Actor("busy")
    held = await _hold_a_job(harness, actor)
    photo = _photo(harness, "second.png")
    options: dict[str, Any] = {"prompt": "a hat", "image": photo} if kind == "edit" else {"image": photo}
    conversation = await harness.run(harness.payloads.slash(kind, actor=actor, **options))
    _refused_privately(conversation, "already have a job running")
    assert _downloads(harness, "second.png") == 0, "refused before the download"
    assert harness.openrouter.hold is not None
    harness.openrouter.hold.set()
    await asyncio.gather(*held)


async def test_a_member_in_cooldown_gets_nothing_downloaded(harness: BotHarness) -> None:
    await harness.run(harness.payloads.slash("config cooldown", actor=harness.payloads.admin,
                                             operation="describe", seconds=600))
    first = await harness.run(harness.payloads.slash("describe", image=_photo(harness, "first.png")))
    assert first.last.embeds[0]["title"] == "Describe"
    conversation = await harness.run(harness.payloads.slash("describe", image=_photo(harness, "again.png")))
    assert conversation.last.ephemeral
    assert _downloads(harness, "again.png") == 0


async def test_a_refused_image_gives_the_cooldown_back(harness: BotHarness) -> None:
    await harness.run(harness.payloads.slash("config cooldown", actor=harness.payloads.admin,
                                             operation="describe", seconds=600))
    broken = harness.payloads.attachment("notes.png", b"this is not an image", "image/png")
    refused = await harness.run(harness.payloads.slash("describe", image=broken))
    assert refused.last.ephemeral and harness.openrouter.chat_requests() == []
    fixed = await harness.run(harness.payloads.slash("describe", image=_photo(harness)))
    assert fixed.last.embeds[0]["title"] == "Describe", "a bad upload did not cost the member their turn"


# -- 7. buttons obey today's settings -------------------------------------------------------------------


async def test_reroll_uses_the_servers_current_model_and_obeys_disable(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a red fox")).last
    admin = harness.payloads.admin
    await harness.run(harness.payloads.slash("config model", actor=admin, operation="imagine",
                                             model="black-forest-labs/flux.2-pro"))
    rerolled = await click(harness, reply, "reroll")
    assert rerolled.last.files
    assert harness.openrouter.chat_requests()[-1].json["model"] == "black-forest-labs/flux.2-pro"

    await harness.run(harness.payloads.slash("config disable", actor=admin, operation="imagine"))
    refused = await click(harness, reply, "reroll")
    _refused_privately(refused, "turned off")
    assert len(harness.openrouter.chat_requests()) == 2


async def test_reroll_of_an_edit_obeys_todays_max_references(harness: BotHarness) -> None:
    admin = harness.payloads.admin
    await harness.run(harness.payloads.slash("config max-references", actor=admin, value=2))
    edited = await harness.run(harness.payloads.slash(
        "edit", prompt="swap the hats", image=_photo(harness, "a.png"), reference2=_photo(harness, "b.png")))
    assert len(harness.openrouter.chat_requests()[-1].input_image_urls) == 2
    await harness.run(harness.payloads.slash("config max-references", actor=admin, value=1))

    rerolled = await click(harness, edited.last, "reroll")
    assert rerolled.last.files
    assert len(harness.openrouter.chat_requests()[-1].input_image_urls) == 1
    assert "first 1 of the job's 2 images" in rerolled.last.text


# -- 12. buttons of missing or foreign jobs ---------------------------------------------------------------


@pytest.mark.parametrize("action", ["reroll", "edit", "describe", "delete"])
async def test_a_click_on_a_job_that_is_not_on_record_is_answered(harness: BotHarness, action: str) -> None:
    custom_id = f"job:{action}:987654"
    conversation = await harness.run(harness.payloads.component(custom_id, _with_button(harness, custom_id)))
    _refused_privately(conversation, "no longer on record")
    assert harness.openrouter.chat_requests() == []


@pytest.mark.parametrize("action", ["reroll", "edit", "describe", "delete"])
async def test_a_click_on_another_servers_job_is_refused_as_missing(harness: BotHarness, action: str) -> None:
    assert harness.bot is not None
    member = harness.payloads.member
    foreign = await harness.bot.store.jobs.create(
        JobSpec(operation=Operation.IMAGINE, member_id=member.user_id, guild_id=harness.payloads.guild_id + 1,
                request=ImageRequest(prompt="another server's secret prompt", model="google/gemini-2.5-flash-image")),
        created_at=harness.bot.jobs.clock(),
    )
    custom_id = f"job:{action}:{foreign}"
    conversation = await harness.run(harness.payloads.component(custom_id, _with_button(harness, custom_id),
                                                                actor=member))
    _refused_privately(conversation, "no longer on record")
    assert conversation.modal is None
    assert harness.openrouter.chat_requests() == []
    assert not harness.discord.matching("DELETE", "/messages/")


# -- 11. forms answered after a restart -------------------------------------------------------------------


async def test_the_edit_buttons_form_opened_before_a_restart_is_answered_after_it(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a castle")).last
    message = await result_message(harness, reply)
    opened = await click(harness, reply, "edit", message=message)
    assert opened.modal is not None
    await harness.restart()

    submitted = await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "make it sunny"}, message=message))
    assert submitted.last.embeds[0]["title"] == "Edit"
    assert submitted.last.files


async def test_the_edit_image_form_opened_before_a_restart_is_answered_after_it(harness: BotHarness) -> None:
    message = harness.payloads.message(attachments=[_photo(harness)])
    opened = await harness.run(harness.payloads.message_command("Edit image", message))
    assert opened.modal is not None
    channel, message_id = int(message["channel_id"]), int(message["id"])
    harness.discord.messages[(channel, message_id)] = message  # Discord still has it
    await harness.restart()

    submitted = await harness.run(harness.payloads.modal_submit(opened.modal["custom_id"], {"prompt": "add a hat"}))
    assert submitted.last.embeds[0]["title"] == "Edit"
    assert len(harness.openrouter.chat_requests()[-1].input_image_urls) == 1


async def test_the_edit_image_form_for_a_deleted_message_says_so(harness: BotHarness) -> None:
    message = harness.payloads.message(attachments=[_photo(harness)])
    opened = await harness.run(harness.payloads.message_command("Edit image", message))
    assert opened.modal is not None
    await harness.restart()  # the message was deleted meanwhile: the stand-in does not have it
    submitted = await harness.run(harness.payloads.modal_submit(opened.modal["custom_id"], {"prompt": "add a hat"}))
    _refused_privately(submitted, "can no longer find the message")


# -- 10. leftovers of a dead process -----------------------------------------------------------------------


async def test_jobs_left_running_by_a_dead_process_are_marked_interrupted_at_start(harness: BotHarness) -> None:
    assert harness.bot is not None
    store = harness.bot.store
    member = harness.payloads.member
    spec = JobSpec(operation=Operation.IMAGINE, member_id=member.user_id, guild_id=harness.payloads.guild_id,
                   request=ImageRequest(prompt="lost in a crash", model="m"))
    live = await store.jobs.create(spec, created_at=harness.bot.jobs.clock())  # this process: still alive
    store.jobs.owner = f"{socket.gethostname()}:999999999:1"  # a pid no process has
    dead = await store.jobs.create(spec, created_at=harness.bot.jobs.clock())
    await store.jobs.mark_running(dead, started_at=harness.bot.jobs.clock())
    elsewhere_owner = "another-machine:1:1"
    store.jobs.owner = elsewhere_owner
    elsewhere = await store.jobs.create(spec, created_at=harness.bot.jobs.clock())

    await harness.restart()
    assert harness.bot is not None
    records = {number: await harness.bot.store.jobs.get(number) for number in (live, dead, elsewhere)}
    assert records[dead] is not None and records[dead].status is JobStatus.FAILED
    assert records[dead].error_kind == INTERRUPTED
    assert records[live] is not None and records[live].status is JobStatus.QUEUED
    assert records[elsewhere] is not None and records[elsewhere].status is JobStatus.QUEUED

    listed = await harness.run(harness.payloads.slash("jobs", actor=member))
    assert "interrupted" in listed.last.text


# -- 8. costs and reservations ------------------------------------------------------------------------------


async def test_a_cancel_during_the_call_still_writes_a_ledger_row(harness: BotHarness) -> None:
    assert harness.bot is not None
    held = await _hold_a_job(harness, harness.payloads.member)
    assert await harness.bot.jobs.drain(0) == 1
    await asyncio.gather(*held, return_exceptions=True)
    rows = await harness.bot.store.database.fetch_all("SELECT job_id, cost_reported FROM usage_ledger")
    assert len(rows) == 1, "the call was made: it is in the ledger even though it was cancelled"


async def test_the_cost_of_an_answer_whose_image_is_broken_reaches_the_ledger(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.openrouter.fault_next("not_an_image")
    conversation = await imagine(harness)
    assert conversation.last.ephemeral
    rows = await harness.bot.store.database.fetch_all("SELECT cost, cost_reported, succeeded FROM usage_ledger")
    assert len(rows) == 1
    assert rows[0]["cost_reported"] == 1 and rows[0]["cost"] == pytest.approx(harness.openrouter.cost)
    assert rows[0]["succeeded"] == 0


async def test_a_failed_ledger_write_keeps_the_reservation_until_a_retry_lands(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert harness.bot is not None
    bot = harness.bot
    guild = harness.payloads.guild_id
    await bot.store.budgets.update(guild, guild_daily_usd=1.0)
    real_add = UsageLedger.add
    failures = {"left": 1}

    async def flaky_add(connection: Any, entry: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("disk full")
        await real_add(connection, entry)

    monkeypatch.setattr(UsageLedger, "add", staticmethod(flaky_add))
    bot.jobs.record_retry_delays_s = ()  # first: no retry at all
    reply = (await imagine(harness)).last
    assert reply.files, "the member still gets the result"
    assert bot.jobs.budgets is not None
    held = bot.jobs.budgets.held(guild)
    assert held.cost == pytest.approx(harness.openrouter.cost), "the real cost stays held, not given back"

    failures["left"] = 1
    bot.jobs.record_retry_delays_s = (0.0,)
    await imagine(harness, "a second one")
    await bot.jobs.wait_for_records()
    rows = await bot.store.database.fetch_all("SELECT job_id FROM usage_ledger")
    assert len(rows) == 1, "the second job's row landed on the retry"
    assert bot.jobs.budgets.held(guild).cost == pytest.approx(harness.openrouter.cost), (
        "only the first job, never recorded, is still held"
    )


# -- 9. the budget cache ----------------------------------------------------------------------------------------


async def test_the_budget_cache_never_holds_a_change_that_rolled_back(harness: BotHarness) -> None:
    assert harness.bot is not None
    budgets = harness.bot.store.budgets
    guild = harness.payloads.guild_id
    budgets.forget_cache()
    seen: list[Any] = []

    async def record_then_fail(connection: Any, old: Any, new: Any) -> None:
        seen.append(await budgets.get(guild))  # another coroutine reads while the change is uncommitted
        raise RuntimeError("history write failed")

    with pytest.raises(RuntimeError):
        await budgets.update(guild, guild_daily_usd=5.0, record=record_then_fail)
    assert seen and seen[0].guild_daily_usd is None, "the read saw only committed data"
    assert (await budgets.get(guild)).guild_daily_usd is None, "and nothing uncommitted was cached"


async def test_a_forged_edit_image_form_naming_another_channel_reads_nothing(harness: BotHarness) -> None:
    message = harness.payloads.message(attachments=[_photo(harness)])
    hidden_channel = harness.payloads.channel_id + 1
    harness.discord.messages[(hidden_channel, int(message["id"]))] = message
    forged = harness.payloads.modal_submit(f"edit-image:{hidden_channel}:{message['id']}", {"prompt": "leak it"})
    _refused_privately(await harness.run(forged), "can no longer find the message")
    assert not harness.discord.matching("GET", f"/channels/{hidden_channel}/messages/")
    assert harness.openrouter.chat_requests() == []


async def test_a_forged_edit_form_from_another_channel_is_refused(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a castle")).last
    elsewhere = harness.payloads.message()  # Discord names the message a form came from: this one has no Edit
    payload = harness.payloads.modal_submit(f"job-edit:{job_id(reply)}", {"prompt": "x"}, message=elsewhere)
    payload["channel_id"] = str(harness.payloads.channel_id + 1)
    payload["channel"] = {**payload["channel"], "id": payload["channel_id"]}
    _refused_privately(await harness.run(payload), "no longer on record")
    assert len(harness.openrouter.chat_requests()) == 1
