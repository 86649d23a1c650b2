"""Result buttons through the real tree: type-3 clicks with the custom ids the bot produced, modal submits,
permission rules for Delete, a restart between the result and the click, missing jobs and gone images."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cogs.describe import describe_prompt
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import Actor
from tests.test_describe import long_answer
from tests.test_jobs_kit import buttons, click, imagine, job_id, result_message, started


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        yield kit


async def test_a_result_carries_four_buttons_with_its_job_id(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    number = job_id(reply)
    assert buttons(reply) == {action: f"job:{action}:{number}" for action in ("reroll", "edit", "describe", "delete")}
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None and record.spec.prompt == "a lighthouse at dusk"
    assert record.result_files == (reply.files[0].filename,)


async def test_reroll_makes_a_new_result_with_the_same_prompt_format_and_model(harness: BotHarness) -> None:
    first = (await imagine(harness, "a red fox", format="landscape")).last
    conversation = await click(harness, first, "reroll")

    assert conversation.callback_types == [5], "a click that starts work defers with 'thinking'"
    again = conversation.last
    assert not again.ephemeral
    assert Image.open(io.BytesIO(again.files[0].data)).size == (1344, 768)
    assert job_id(again) != job_id(first), "the re-roll is a job of its own, with its own buttons"
    assert again.embeds[0]["title"] == "Re-roll"
    original, rerolled = harness.openrouter.chat_requests()
    for key in ("model", "messages", "image_config", "modalities"):
        assert rerolled.json[key] == original.json[key]


async def test_buttons_work_after_a_restart(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a castle in fog")).last
    message = await result_message(harness, reply)
    await harness.restart()

    rerolled = (await click(harness, reply, "reroll", message=message)).last
    assert rerolled.files and rerolled.embeds[0]["description"] == "a castle in fog"

    described = (await click(harness, reply, "describe", message=message)).last
    assert described.embeds[0]["title"] == "Describe"
    assert "A test description of the image." in described.text

    opened = await click(harness, reply, "edit", message=message)
    assert opened.modal is not None
    submitted = await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "make it sunny"}, message=message))
    assert submitted.last.embeds[0]["title"] == "Edit"
    assert len(harness.openrouter.chat_requests()) == 4


def _decoded(data_url: str) -> bytes:
    import base64

    return base64.b64decode(data_url.split(",", 1)[1])


async def test_edit_opens_a_modal_then_edits_this_results_image(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a blue car")).last
    message = await result_message(harness, reply)
    opened = await click(harness, reply, "edit", message=message)
    assert opened.callback_types == [9], "the click answers with the modal"
    assert harness.openrouter.chat_requests()[1:] == [], "nothing goes upstream before the prompt is given"

    submitted = await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "paint it red"}, message=message))  # type: ignore[index]
    edited = submitted.last
    assert edited.embeds[0]["title"] == "Edit" and edited.embeds[0]["description"] == "paint it red"
    assert set(buttons(edited)) == {"reroll", "edit", "describe", "delete"}
    request = harness.openrouter.chat_requests()[-1]
    assert request.prompt == "paint it red"
    (image_url,) = request.input_image_urls
    assert _decoded(image_url) == reply.files[0].data, "the result's own image, re-fetched, is edited"
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(edited))
    assert record is not None and record.spec.parent_job_id == job_id(reply)
    assert record.spec.references[0].job_id == job_id(reply)


async def test_reroll_of_an_edit_fetches_the_reference_again(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a blue car")).last
    message = await result_message(harness, reply)
    opened = await click(harness, reply, "edit", message=message)
    edited = (await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "paint it red"}, message=message))).last  # type: ignore[index]

    rerolled = (await click(harness, edited, "reroll")).last
    request = harness.openrouter.chat_requests()[-1]
    assert rerolled.embeds[0]["title"] == "Re-roll" and request.prompt == "paint it red"
    assert [_decoded(url) for url in request.input_image_urls] == [reply.files[0].data]


async def test_reroll_of_an_edit_whose_reference_is_gone_says_so(harness: BotHarness) -> None:
    reply = (await imagine(harness, "a blue car")).last
    message = await result_message(harness, reply)
    opened = await click(harness, reply, "edit", message=message)
    edited = (await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "paint it red"}, message=message))).last  # type: ignore[index]
    harness.discord.attachments.clear()  # every stored attachment URL has expired
    sent = len(harness.openrouter.chat_requests())

    refused = (await click(harness, edited, "reroll", message=await result_message(harness, edited))).last
    assert refused.ephemeral and "An image this job used is gone" in refused.text
    assert len(harness.openrouter.chat_requests()) == sent


async def test_describe_uses_the_servers_vision_model_on_this_image(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    described = (await click(harness, reply, "describe")).last
    assert not described.ephemeral
    assert "A test description of the image." in described.text
    assert set(buttons(described)) == {"delete"}, "a text result can only be deleted"
    request = harness.openrouter.chat_requests()[-1]
    assert request.json["model"] == "google/gemini-2.5-flash"
    assert "modalities" not in request.json
    assert [_decoded(url) for url in request.input_image_urls] == [reply.files[0].data]


async def test_the_requester_can_delete_their_result(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    conversation = await click(harness, reply, "delete")
    assert conversation.callback_types == [6], "the click is acknowledged on the message itself"
    deletes = [r for r in conversation.requests if r.method == "DELETE"]
    assert [r.path.rsplit("/", 1)[-1] for r in deletes] == ["@original"]
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(reply))
    assert record is not None and record.result_deleted and record.result_url is None


async def test_someone_with_manage_messages_can_delete_any_result(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    conversation = await click(harness, reply, "delete", actor=harness.payloads.admin)
    assert any(r.method == "DELETE" for r in conversation.requests)


async def test_other_members_cannot_delete(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    conversation = await click(harness, reply, "delete", actor=Actor("bystander"))
    refusal = conversation.last
    assert refusal.ephemeral
    assert "Only the member who asked for this result" in refusal.text and "Manage Messages" in refusal.text
    assert not any(r.method == "DELETE" for r in conversation.requests)
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(reply))
    assert record is not None and not record.result_deleted


@pytest.mark.parametrize("action", ["reroll", "edit", "describe", "delete"])
async def test_a_click_on_a_job_not_on_record_is_answered_privately(harness: BotHarness, action: str) -> None:
    custom_id = f"job:{action}:987654"
    message = harness.payloads.message(components=[
        {"type": 1, "components": [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id}]}])
    conversation = await harness.run(harness.payloads.component(custom_id, message=message))
    reply = conversation.last
    assert reply.ephemeral and "job #987654" in reply.text and "no longer on record" in reply.text
    assert harness.openrouter.chat_requests() == []


@pytest.mark.parametrize("action", ["describe", "edit"])
async def test_a_click_on_a_result_whose_image_is_gone_says_so(harness: BotHarness, action: str) -> None:
    reply = (await imagine(harness)).last
    message = await result_message(harness, reply, with_files=False)  # its URL no longer answers
    conversation = await click(harness, reply, action, message=message)
    if action == "edit":
        conversation = await harness.run(harness.payloads.modal_submit(
            conversation.modal["custom_id"], {"prompt": "add a hat"}, message=message))  # type: ignore[index]
    refusal = conversation.last
    assert refusal.ephemeral and "The image of this result is gone" in refusal.text
    assert len(harness.openrouter.chat_requests()) == 1, "nothing but the original /imagine went upstream"


async def test_after_delete_edit_and_describe_say_the_image_is_gone(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    message = await result_message(harness, reply)
    await click(harness, reply, "delete", message=message)
    for action in ("edit", "describe"):
        refusal = (await click(harness, reply, action, message=message)).last
        assert refusal.ephemeral and "gone" in refusal.text


# -- the buttons go through the commands' own code --------------------------------------------------


def _fields(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed.get("fields", [])}


async def test_describe_splits_a_long_answer_whole_and_links_its_origin(harness: BotHarness) -> None:
    answer = long_answer(9_000)
    harness.openrouter.text_reply = answer
    reply = (await imagine(harness)).last
    conversation = await click(harness, reply, "describe")

    pieces = [embed.get("description", "") for shown in conversation.visible for embed in shown.embeds]
    assert len(pieces) == 3 and all(len(piece) <= 4096 for piece in pieces)
    assert " ".join(pieces).split() == answer.split(), "the whole answer arrives, as with /describe"
    request = harness.openrouter.chat_requests()[-1]
    assert request.json["messages"][0]["content"][0] == {"type": "text", "text": describe_prompt(None, "en-US")}
    last = conversation.visible[-1].embeds[-1]
    assert _fields(last)["From"].startswith(f"[job #{job_id(reply)}](https://discord.com/channels/")
    described = conversation.visible[0]
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(job_id(described))
    assert record is not None and record.spec.parent_job_id == job_id(reply)
    assert [reference.job_id for reference in record.spec.references] == [job_id(reply)]


async def test_edit_and_reroll_results_look_like_the_commands_and_say_where_they_came_from(
    harness: BotHarness,
) -> None:
    reply = (await imagine(harness, "a blue car", format="portrait")).last
    message = await result_message(harness, reply)
    opened = await click(harness, reply, "edit", message=message)
    edited = (await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "paint it red"}, message=message))).last  # type: ignore[index]
    rerolled = (await click(harness, reply, "reroll", message=message)).last

    for result in (edited, rerolled):
        fields = _fields(result.embeds[0])
        assert list(fields)[:5] == ["Model", "Format", "Cost", "Time", "From"]
        assert fields["Format"] == "Portrait (9:16)"
        assert f"job #{job_id(reply)}" in fields["From"]
        assert result.embeds[0]["image"]["url"] == f"attachment://{result.files[0].filename}"
        assert "Member" in result.embeds[0]["footer"]["text"]


@pytest.mark.parametrize("action", ["describe", "edit"])
async def test_a_result_image_is_refused_by_the_same_rules_as_an_upload(harness: BotHarness, action: str) -> None:
    """The image comes through the attachment pipeline: its size limit and checks apply, privately."""
    reply = (await imagine(harness)).last
    message = await result_message(harness, reply)
    message["attachments"][0]["size"] = 30 * 1024 * 1024  # Discord declares it larger than 25 MiB
    conversation = await click(harness, reply, action, message=message)
    if action == "edit":
        conversation = await harness.run(harness.payloads.modal_submit(
            conversation.modal["custom_id"], {"prompt": "add a hat"}, message=message))  # type: ignore[index]

    assert conversation.callback_types == [4], "refused before any public 'thinking' message"
    refusal = conversation.last
    assert refusal.ephemeral and "at most 25 MiB" in refusal.text
    assert len(harness.openrouter.chat_requests()) == 1, "nothing but the original /imagine went upstream"


async def test_a_gone_image_is_refused_before_anything_public(harness: BotHarness) -> None:
    reply = (await imagine(harness)).last
    message = await result_message(harness, reply, with_files=False)
    conversation = await click(harness, reply, "describe", message=message)
    assert conversation.callback_types == [4] and conversation.last.ephemeral


async def test_a_result_message_without_its_files_is_fetched_again(harness: BotHarness) -> None:
    """A click on a copy of the message without attachments looks the stored message up by id."""
    reply = (await imagine(harness)).last
    message = await result_message(harness, reply)
    message["attachments"] = []
    lookups_before = len(harness.discord.matching("GET", "/messages/"))
    refusal = (await click(harness, reply, "describe", message=message)).last
    lookups = harness.discord.matching("GET", "/messages/")[lookups_before:]
    assert [request.path.rsplit("/", 1)[-1] for request in lookups] == [message["id"]]
    assert refusal.ephemeral and "The image of this result is gone" in refusal.text, "the stand-in has no copy"


async def test_without_the_describe_cog_the_describe_button_says_so_privately(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    kit = BotHarness(make_settings(database_path, fake_discord, fake_openrouter), fake_discord, fake_openrouter,
                     extensions=("cogs.imagine", "cogs.result_buttons"))
    await kit.start()
    try:
        reply = (await imagine(kit)).last
        refusal = (await click(kit, reply, "describe")).last
        assert refusal.ephemeral and "not available" in refusal.text
        assert len(kit.openrouter.chat_requests()) == 1
    finally:
        await kit.stop()
