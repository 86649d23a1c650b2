"""`/show job:<id>` through the real tree: re-posting a finished result with working buttons, who may show
which job, refusals (missing, another server's, unfinished, gone), the autocomplete, and restarts."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.operations import Operation
from bot.requests import ImageRequest
from bot.storage.jobs import INTERRUPTED, JobSpec, JobStatus, JobStore
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor, snowflake
from tests.test_attachments import png_bytes
from tests.test_describe import long_answer
from tests.test_jobs_kit import Clock, at, buttons, click, imagine, job_id, result_message

#: What `/show` and the buttons on what it posts need (the Describe button needs `cogs.describe`); nothing else,
#: so that another feature's work in progress cannot break these tests.
SHOW_EXTENSIONS = ("cogs.imagine", "cogs.describe", "cogs.result_buttons", "cogs.show")
ACTIONS = ("reroll", "edit", "describe", "delete")


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter,
                     extensions=SHOW_EXTENSIONS)
    await kit.start()
    try:
        yield kit
    finally:
        await kit.stop()


# -- helpers ------------------------------------------------------------------------------------


async def stored(harness: BotHarness, reply: Reply, *, with_files: bool = True) -> dict[str, Any]:
    """Let the stand-in Discord serve the job's result message (GET /channels/{c}/messages/{m})."""
    message = await result_message(harness, reply, with_files=with_files)
    harness.discord.messages[(int(message["channel_id"]), int(message["id"]))] = message
    return message


async def show(harness: BotHarness, job: int | str, actor: Actor | None = None) -> Conversation:
    return await harness.run(harness.payloads.slash("show", actor=actor, job=str(job)))


async def choices(harness: BotHarness, typed: str = "", actor: Actor | None = None) -> list[dict[str, Any]]:
    conversation = await harness.run(harness.payloads.autocomplete("show", focused="job", actor=actor, job=typed))
    assert conversation.autocomplete_choices is not None, "autocomplete always answers"
    return conversation.autocomplete_choices


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed.get("fields", [])}


def posted_again(harness: BotHarness, reply: Reply) -> dict[str, Any]:
    """The re-posted message as a later click brings it: its own attachments, embeds and buttons."""
    attachments = [harness.payloads.attachment(sent.filename, sent.data, sent.content_type or "image/png")
                   for sent in reply.files]
    message = harness.payloads.message(attachments=attachments, embeds=reply.embeds, components=reply.components)
    message["author"] = harness.discord.bot_user()
    return message


async def recorded_job(
    harness: BotHarness,
    *,
    status: JobStatus = JobStatus.DONE,
    guild_id: int | None = None,
    member: Actor | None = None,
    prompt: str = "a recorded job",
    error_kind: str | None = None,
    age: timedelta = timedelta(0),
) -> int:
    """A job written through the job store as the job service would, without running it."""
    assert harness.bot is not None
    store = harness.bot.store
    now = harness.bot.jobs.clock()
    spec = JobSpec(
        operation=Operation.IMAGINE,
        member_id=(member or harness.payloads.member).user_id,
        guild_id=guild_id if guild_id is not None else harness.payloads.guild_id,
        channel_id=harness.payloads.channel_id,
        request=ImageRequest(prompt=prompt, model="google/gemini-2.5-flash-image", image_format="square",
                             aspect_ratio="1:1"),
    )
    number = await store.jobs.create(spec, created_at=now - age)
    if status is JobStatus.RUNNING:
        await store.jobs.mark_running(number, started_at=now)
    elif status in (JobStatus.DONE, JobStatus.FAILED):
        done = status is JobStatus.DONE
        async with store.database.transaction() as connection:
            await JobStore.finish(
                connection, number, status=status, finished_at=now, cost=0.01 if done else None,
                generation_id=None, error_kind=error_kind, upstream_ms=None,
                result_channel_id=harness.payloads.channel_id if done else None,
                result_message_id=int(snowflake()) if done else None,
                result_files=["imagine_1.png"] if done else [],
            )
    return number


# -- showing a result again -----------------------------------------------------------------------


async def test_show_posts_the_images_again_publicly_with_the_results_buttons(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a *red* fox", format="landscape")).last
    number = job_id(reply)
    await stored(harness, reply)

    conversation = await show(harness, f"#{number}")
    assert conversation.callback_types == [4], "answered at once, nothing deferred"
    shown = conversation.last
    assert not shown.ephemeral, "a result is public"
    assert [(sent.filename, sent.data) for sent in shown.files] == [(sent.filename, sent.data) for sent in reply.files]
    assert buttons(shown) == {action: f"job:{action}:{number}" for action in ACTIONS}
    assert set(shown.custom_ids) == set(reply.custom_ids), "Upscale and Vary too"
    assert {f"job:upscale:{number}:1", f"job:vary:{number}:1"} <= set(shown.custom_ids)

    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None and record.result_url is not None
    (embed,) = shown.embeds
    assert embed["title"] == "Imagine"
    assert embed["description"] == "a \\*red\\* fox", "the prompt is escaped as in every result"
    shown_fields = fields(embed)
    assert shown_fields["Model"] == "google/gemini-2.5-flash-image"
    assert shown_fields["Format"] == "Landscape (16:9)"
    assert shown_fields["Cost"] == "$0.0039"
    assert shown_fields["Asked by"].startswith(f"<@{harness.payloads.member.user_id}>")
    assert shown_fields["Original"] == f"[job #{number}]({record.result_url})"
    assert embed["footer"]["text"] == "Shown again by Member"
    assert embed["image"]["url"] == f"attachment://{reply.files[0].filename}"
    assert len(harness.openrouter.chat_requests()) == 1, "showing generates nothing"
    lookups = harness.discord.matching("GET", "/messages/")
    assert [request.path for request in lookups] == [
        f"/channels/{harness.payloads.channel_id}/messages/{record.result_message_id}"]


async def test_show_posts_a_grid_again_as_a_grid_with_its_per_image_buttons(harness: BotHarness) -> None:
    harness.openrouter.image_count = 2
    reply = (await imagine(harness, "a *red* fox", format="landscape")).last
    assert reply.components_v2
    number = job_id(reply)
    await stored(harness, reply)

    shown = (await show(harness, f"#{number}")).last
    assert not shown.ephemeral and shown.components_v2 and not shown.embeds
    assert [(sent.filename, sent.data) for sent in shown.files] == [(sent.filename, sent.data) for sent in reply.files]
    assert [item["media"]["url"] for item in shown.gallery] == [f"attachment://{f.filename}" for f in reply.files]
    assert set(shown.custom_ids) == set(reply.custom_ids), "the same buttons, per image too"
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None
    for part in ("a \\*red\\* fox", "google/gemini-2.5-flash-image", "Landscape (16:9)", "$0.0039",
                 f"<@{harness.payloads.member.user_id}>", f"[job #{number}]({record.result_url})",
                 "Shown again by Member"):
        assert part in shown.text
    assert harness.discord.refused == []
    assert len(harness.openrouter.chat_requests()) == 1, "showing generates nothing"


async def test_the_buttons_of_a_shown_result_work(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a lighthouse at dusk", format="portrait")).last
    number = job_id(reply)
    await stored(harness, reply)
    shown = (await show(harness, number)).last
    message = posted_again(harness, shown)

    rerolled = (await harness.run(harness.payloads.component(buttons(shown)["reroll"], message=message))).last
    assert not rerolled.ephemeral and rerolled.files
    assert rerolled.embeds[0]["title"] == "Re-roll" and rerolled.embeds[0]["description"] == "a lighthouse at dusk"
    assert job_id(rerolled) != number
    original, again = harness.openrouter.chat_requests()
    assert again.prompt == "a lighthouse at dusk"
    assert again.json["image_config"] == original.json["image_config"]

    described = (await harness.run(harness.payloads.component(buttons(shown)["describe"], message=message))).last
    assert "A test description of the image." in described.text
    (image_url,) = harness.openrouter.chat_requests()[-1].input_image_urls
    assert base64.b64decode(image_url.split(",", 1)[1]) == reply.files[0].data


async def test_spoilered_filenames_are_kept_and_not_shown_in_the_embed(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    number = job_id(reply)
    assert harness.bot is not None
    async with harness.bot.store.database.transaction() as connection:  # a result posted with spoiler names
        await connection.execute("UPDATE jobs SET result_files = ? WHERE id = ?", ('["SPOILER_imagine_1.png"]', number))
    message = await stored(harness, reply)
    message["attachments"] = [harness.payloads.attachment("SPOILER_imagine_1.png", reply.files[0].data)]

    shown = (await show(harness, number)).last
    assert [sent.filename for sent in shown.files] == ["SPOILER_imagine_1.png"]
    assert shown.files[0].data == reply.files[0].data
    assert "image" not in shown.embeds[0], "Discord never hides an embed's image, so a spoiler has none"
    assert set(buttons(shown)) == set(ACTIONS)


async def test_a_slow_show_defers_publicly_then_replaces_the_thinking_message(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    await stored(harness, reply)
    assert harness.bot is not None
    harness.bot.attachments.defer_after_s = 0  # every look-up now counts as slow

    conversation = await show(harness, job_id(reply))
    assert conversation.callback_types == [5]
    shown = conversation.last
    assert not shown.ephemeral and shown.files[0].data == reply.files[0].data
    assert set(buttons(shown)) == set(ACTIONS)


async def test_a_describe_answer_is_posted_again_from_its_message(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("cat.png", png_bytes(64, 48), "image/png")
    reply = (await harness.run(harness.payloads.slash("describe", image=attachment))).last
    number = job_id(reply)
    await stored(harness, reply)

    shown = (await show(harness, number)).last
    assert not shown.ephemeral
    assert [embed["description"] for embed in shown.embeds] == [embed["description"] for embed in reply.embeds]
    assert "A test description of the image." in shown.text
    last = shown.embeds[-1]
    assert fields(last)["Original"].startswith(f"[job #{number}](https://discord.com/channels/")
    assert last["footer"]["text"] == "Requested by Member · Shown again by Member"
    assert buttons(shown) == {"delete": f"job:delete:{number}"}, "a text result can only be deleted"
    assert len(harness.openrouter.chat_requests()) == 1


async def test_a_describe_answer_longer_than_its_message_is_not_shown_in_part(harness: BotHarness) -> None:
    harness.openrouter.text_reply = long_answer(12_000)
    attachment = harness.payloads.attachment("cat.png", png_bytes(32, 32), "image/png")
    conversation = await harness.run(harness.payloads.slash("describe", image=attachment))
    assert len(conversation.visible) > 1, "the answer continued in follow-ups, which are not on record"
    first = conversation.visible[0]
    await stored(harness, first)

    refusal = (await show(harness, job_id(first))).last
    assert refusal.ephemeral and refusal.files == []
    assert "can't be shown again" in refusal.text and "only its first part is on record" in refusal.text


async def test_a_describe_answer_whose_message_is_gone_says_so(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("cat.png", png_bytes(32, 32), "image/png")
    reply = (await harness.run(harness.payloads.slash("describe", image=attachment))).last
    refusal = (await show(harness, job_id(reply))).last  # the stand-in has no copy of the message
    assert refusal.ephemeral and "The answer of job" in refusal.text and "can't be shown again" in refusal.text


# -- who may show which job -------------------------------------------------------------------------


async def test_another_members_job_is_refused_for_a_member(harness: BotHarness) -> None:
    owner = Actor("owner")
    reply = (await imagine(harness, "someone else's prompt", actor=owner)).last
    await stored(harness, reply)

    conversation = await show(harness, job_id(reply))
    refusal = conversation.last
    assert conversation.callback_types == [4] and refusal.ephemeral
    assert "another member" in refusal.text and "Manage Server" in refusal.text
    assert "someone else's prompt" not in refusal.text and refusal.files == []
    assert harness.discord.matching("GET", "/messages/") == [], "nothing was looked up"


async def test_an_admin_may_show_anyones_job(harness: BotHarness) -> None:
    owner = Actor("owner")
    reply = (await imagine(harness, "someone else's prompt", actor=owner)).last
    await stored(harness, reply)

    shown = (await show(harness, job_id(reply), actor=harness.payloads.admin)).last
    assert not shown.ephemeral and shown.files[0].data == reply.files[0].data
    assert fields(shown.embeds[0])["Asked by"].startswith(f"<@{owner.user_id}>")
    assert shown.embeds[0]["footer"]["text"] == "Shown again by Admin"


async def test_another_servers_job_is_refused_exactly_as_a_missing_one(harness: BotHarness) -> None:
    elsewhere = await recorded_job(harness, guild_id=int(snowflake()))
    missing = elsewhere + 1000
    for actor in (harness.payloads.member, harness.payloads.admin):
        foreign = (await show(harness, elsewhere, actor=actor)).last
        unknown = (await show(harness, missing, actor=actor)).last
        assert foreign.ephemeral and unknown.ephemeral
        assert f"no job #{elsewhere} in this server" in foreign.text
        assert foreign.text.replace(str(elsewhere), "N") == unknown.text.replace(str(missing), "N")
    assert harness.discord.matching("GET", "/messages/") == []


async def test_something_that_is_no_job_number_is_refused(harness: BotHarness) -> None:
    refusal = (await show(harness, "a fox")).last
    assert refusal.ephemeral and "Which job?" in refusal.text


# -- what can't be shown ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error_kind", "words"), [
    (JobStatus.QUEUED, None, "still waiting in line"),
    (JobStatus.RUNNING, None, "still running"),
    (JobStatus.FAILED, INTERRUPTED, "was interrupted"),
    (JobStatus.FAILED, "BadRequestError", "failed, so it has no result to show"),
])
async def test_an_unfinished_job_is_refused_with_what_became_of_it(
    harness: BotHarness, status: JobStatus, error_kind: str | None, words: str
) -> None:
    number = await recorded_job(harness, status=status, error_kind=error_kind)
    refusal = (await show(harness, number)).last
    assert refusal.ephemeral and f"Job #{number}" in refusal.text and words in refusal.text


async def test_a_job_that_failed_upstream_has_nothing_to_show(harness: BotHarness) -> None:
    harness.openrouter.fail_next(400, message="Invalid prompt")
    await imagine(harness, "fails")
    assert harness.bot is not None
    (record,) = await harness.bot.store.jobs.recent(harness.payloads.guild_id, harness.payloads.member.user_id)
    refusal = (await show(harness, record.id)).last
    assert refusal.ephemeral and "failed, so it has no result to show" in refusal.text


@pytest.mark.parametrize("how", ["message deleted", "urls expired", "attachment missing", "private address"])
async def test_a_result_whose_images_cannot_be_fetched_says_so_privately(harness: BotHarness, how: str) -> None:
    reply = (await imagine(harness)).last
    if how == "urls expired":
        await stored(harness, reply, with_files=False)
    elif how == "attachment missing":
        message = await stored(harness, reply)
        message["attachments"] = []
    elif how == "private address":  # the guarded pipeline refuses it before connecting anywhere
        message = await stored(harness, reply)
        message["attachments"][0]["url"] = message["attachments"][0]["proxy_url"] = (
            "http://169.254.169.254/latest/meta-data/imagine_1.png")

    conversation = await show(harness, job_id(reply))
    refusal = conversation.last
    assert conversation.callback_types == [4], "refused before anything public"
    assert refusal.ephemeral and refusal.files == []
    assert f"The result of job #{job_id(reply)} can't be shown again" in refusal.text
    assert "no longer serves its images" in refusal.text


async def test_images_over_the_upload_limit_here_are_refused_before_any_download(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    message = await stored(harness, reply)
    harness.discord.attachments.clear()  # a download would fail: the refusal must come first
    harness.payloads.filesize_limit = message["attachments"][0]["size"] - 1

    refusal = (await show(harness, job_id(reply))).last
    assert refusal.ephemeral and refusal.files == []
    assert "larger than this server's upload limit" in refusal.text


async def test_a_refusal_after_a_public_defer_is_still_private(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    await stored(harness, reply, with_files=False)
    assert harness.bot is not None
    harness.bot.attachments.defer_after_s = 0

    conversation = await show(harness, job_id(reply))
    assert conversation.callback_types == [5]
    assert [shown.ephemeral for shown in conversation.visible] == [True], "the 'thinking' message is gone"
    assert "can't be shown again" in conversation.last.text


async def test_a_deleted_result_says_it_was_deleted(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    await stored(harness, reply)
    await click(harness, reply, "delete")
    lookups = len(harness.discord.matching("GET", "/messages/"))

    refusal = (await show(harness, job_id(reply))).last
    assert refusal.ephemeral and "its message was deleted" in refusal.text
    assert len(harness.discord.matching("GET", "/messages/")) == lookups, "a deleted result is not looked up"


# -- the autocomplete ------------------------------------------------------------------------------


async def test_autocomplete_lists_the_members_own_finished_jobs_and_an_admin_sees_all(harness: BotHarness) -> None:
    other = Actor("other")
    mine_first = job_id((await imagine(harness, "my first prompt")).last)
    theirs = job_id((await imagine(harness, "their prompt", actor=other)).last)
    mine_second = job_id((await imagine(harness, "my second prompt")).last)
    await recorded_job(harness, status=JobStatus.RUNNING, prompt="my running prompt")
    await recorded_job(harness, status=JobStatus.FAILED, prompt="my failed prompt", error_kind="BadRequestError")
    await recorded_job(harness, guild_id=int(snowflake()), prompt="my prompt elsewhere")

    listed = await choices(harness)
    assert [choice["value"] for choice in listed] == [str(mine_second), str(mine_first)], "own, finished, newest first"
    assert listed[0]["name"] == f"#{mine_second} · Imagine · my second prompt · just now"

    for_admin = await choices(harness, actor=harness.payloads.admin)
    assert [choice["value"] for choice in for_admin] == [str(mine_second), str(theirs), str(mine_first)]
    assert [choice["value"] for choice in await choices(harness, actor=other)] == [str(theirs)]


async def test_autocomplete_is_bounded_to_25_and_filters_by_id_and_prompt_words(harness: BotHarness) -> None:
    assert harness.bot is not None
    harness.bot.jobs.clock = Clock(at("2026-03-01 12:00:00"))
    numbers = [await recorded_job(harness, prompt=f"a Lighthouse number {index}", age=timedelta(hours=40 - index))
               for index in range(40)]

    listed = await choices(harness)
    assert len(listed) == 25
    assert [choice["value"] for choice in listed] == [str(number) for number in reversed(numbers[-25:])]
    assert listed[0]["name"] == f"#{numbers[-1]} · Imagine · a Lighthouse number 39 · 1 hr. ago"
    assert listed[-1]["name"].endswith("· 1 day ago")

    words = await choices(harness, "lighth NUMBER 3")
    assert {choice["value"] for choice in words} == {str(numbers[index]) for index in [3, *range(30, 40)]}
    assert await choices(harness, "house") == [], "words match from their start"

    wanted = numbers[12]
    by_id = await choices(harness, f"#{wanted}")
    assert by_id[0]["value"] == str(wanted)
    assert all(choice["value"].startswith(str(wanted)) for choice in by_id)
    assert await choices(harness, "%") == [] and await choices(harness, "_") == [], "no LIKE wildcards"


async def test_autocomplete_names_fit_discords_100_characters(harness: BotHarness) -> None:
    await recorded_job(harness, prompt="word " * 400)
    (choice,) = await choices(harness)
    assert len(choice["name"]) <= 100 and choice["name"].endswith("… · just now")


# -- restarts -------------------------------------------------------------------------------------


async def test_show_and_its_buttons_work_after_a_restart(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a castle in fog")).last
    number = job_id(reply)
    await stored(harness, reply)
    await harness.restart()

    assert [choice["value"] for choice in await choices(harness)] == [str(number)]
    shown = (await show(harness, number)).last
    assert not shown.ephemeral and shown.files[0].data == reply.files[0].data
    assert buttons(shown) == {action: f"job:{action}:{number}" for action in ACTIONS}
    message = posted_again(harness, shown)
    await harness.restart()

    rerolled = (await harness.run(harness.payloads.component(buttons(shown)["reroll"], message=message))).last
    assert rerolled.embeds[0]["title"] == "Re-roll" and rerolled.embeds[0]["description"] == "a castle in fog"
    assert len(harness.openrouter.chat_requests()) == 2


async def test_deleting_a_shown_copy_leaves_the_original_result_usable(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a harbour")).last
    number = job_id(reply)
    await stored(harness, reply)
    shown = (await show(harness, number)).last
    copy = posted_again(harness, shown)
    deleted = await harness.run(harness.payloads.component(buttons(shown)["delete"], message=copy))
    assert deleted.callback_types == [6]
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None and not record.result_deleted, "only the copy went; the result is still on record"
    assert (await show(harness, number)).last.files, "and it can be shown again"


async def test_the_edit_form_of_a_copy_shown_in_another_channel_is_answered(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a harbour")).last
    number = job_id(reply)
    await stored(harness, reply)
    shown = (await show(harness, number)).last
    copy = posted_again(harness, shown)
    other_channel = str(harness.payloads.channel_id + 7)
    copy["channel_id"] = other_channel
    submit = harness.payloads.modal_submit(f"job-edit:{number}", {"prompt": "at night"}, message=copy)
    submit["channel_id"] = other_channel
    submit["channel"] = {**submit["channel"], "id": other_channel}
    edited = (await harness.run(submit)).last
    assert edited.embeds[0]["title"] == "Edit" and edited.files
