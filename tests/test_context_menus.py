"""The "Edit image" and "Describe image" message menus, through the real tree and the real modal store."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.operations import Operation
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation
from tests.kit.harness import BotHarness
from tests.test_attachments import decode_data_url, encoded, noise_png, png_bytes


def _embed_with_image(url: str, proxy_url: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url, "width": 320, "height": 200}
    if proxy_url:
        image["proxy_url"] = proxy_url
    return {"type": "rich", "title": "A picture", "image": image}


def _modal_ids(conversation: Conversation) -> tuple[str, str]:
    """The modal's custom id and its text input's, as a client would read them."""
    modal = conversation.modal
    assert modal is not None, f"no modal was opened; callbacks: {conversation.callback_types}"
    (row,) = modal["components"]
    (text_input,) = row["components"]
    assert text_input["type"] == 4 and text_input["style"] == 2
    return modal["custom_id"], text_input["custom_id"]


async def _set(harness: BotHarness, operation: Operation, **changes: object) -> None:
    assert harness.bot is not None
    await harness.bot.store.guild_config.update(harness.payloads.guild_id, operation, **changes)


async def test_both_menus_sync_as_message_commands_and_the_tree_keeps_them(harness: BotHarness) -> None:
    """Plain `app_commands.ContextMenu`s: the stand-in answers the sync as Discord does, description and all."""
    assert harness.bot is not None
    (put,) = harness.discord.matching("PUT", "/commands")
    assert {command["name"] for command in put.json if command.get("type") == 3} == {"Edit image", "Describe image"}
    menus = harness.bot.tree.get_commands(type=discord.AppCommandType.message)
    assert {menu.name for menu in menus} == {"Edit image", "Describe image"}


# -- Describe image ---------------------------------------------------------------------------------


async def test_describe_image_describes_the_first_attached_image(harness: BotHarness) -> None:
    notes = harness.payloads.attachment("notes.txt", b"just text", "text/plain")
    first = harness.payloads.attachment("first.png", png_bytes(120, 80), "image/png", width=120, height=80)
    second = harness.payloads.attachment("second.png", png_bytes(50, 50), "image/png", width=50, height=50)
    message = harness.payloads.message(attachments=[notes, first, second], content="look at this")
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))

    (request,) = harness.openrouter.chat_requests()
    assert "modalities" not in request.json
    ((mime, image),) = [decode_data_url(url) for url in request.input_image_urls]
    assert (mime, image.size) == ("image/png", (120, 80)), "the first image, skipping the text file"
    reply = conversation.last
    assert not reply.ephemeral
    assert reply.embeds[0]["title"] == "Describe"
    assert reply.embeds[0]["thumbnail"]["url"] == first["url"]


async def test_describe_image_reads_an_image_inside_an_embed_through_the_media_proxy(harness: BotHarness) -> None:
    direct = harness.discord.host_attachment("direct.png", png_bytes(10, 10), "image/png")
    proxied = harness.discord.host_attachment("proxied.png", png_bytes(300, 200), "image/png")
    message = harness.payloads.message(embeds=[_embed_with_image(direct, proxied)])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))

    ((_, image),) = [decode_data_url(url) for url in harness.openrouter.chat_requests()[0].input_image_urls]
    assert image.size == (300, 200), "fetched from Discord's proxy, not the original host"
    assert not conversation.last.ephemeral


async def test_describe_image_takes_an_embed_image_without_a_proxy_url(harness: BotHarness) -> None:
    url = harness.discord.host_attachment("plain.webp", encoded(90, 60, "WEBP"), "image/webp")
    message = harness.payloads.message(embeds=[{"type": "image", "url": url, "thumbnail": {"url": url}}])
    await harness.run(harness.payloads.message_command("Describe image", message=message))
    ((mime, image),) = [decode_data_url(u) for u in harness.openrouter.chat_requests()[0].input_image_urls]
    assert (mime, image.size) == ("image/webp", (90, 60))


async def test_a_message_without_an_image_gets_a_private_answer(harness: BotHarness) -> None:
    message = harness.payloads.message(content="no pictures here", embeds=[{"type": "rich", "title": "Text only"}])
    for name in ("Describe image", "Edit image"):
        conversation = await harness.run(harness.payloads.message_command(name, message=message))
        assert conversation.callback_types == [4], name
        reply = conversation.last
        assert reply.ephemeral
        assert "has no image" in reply.text
        assert conversation.modal is None
    assert harness.openrouter.chat_requests() == []


async def test_an_embed_pointing_into_a_private_network_is_refused(harness: BotHarness) -> None:
    message = harness.payloads.message(embeds=[_embed_with_image("http://10.1.2.3/secret.png")])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))
    assert conversation.last.ephemeral
    assert "Upload the image as an attachment" in conversation.last.text
    assert harness.openrouter.chat_requests() == []


async def test_describe_image_refuses_a_damaged_image_privately(harness: BotHarness) -> None:
    broken = harness.payloads.attachment("broken.png", noise_png(80, 80)[:5000], "image/png")
    message = harness.payloads.message(attachments=[broken])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))
    assert conversation.callback_types == [4] and conversation.last.ephemeral
    assert "damaged" in conversation.last.text
    assert harness.openrouter.chat_requests() == []


async def test_describe_image_respects_a_disabled_describe(harness: BotHarness) -> None:
    await _set(harness, Operation.DESCRIBE, enabled=False)
    attachment = harness.payloads.attachment("a.png", png_bytes(20, 20), "image/png")
    message = harness.payloads.message(attachments=[attachment])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))
    assert conversation.last.ephemeral and "turned off" in conversation.last.text
    assert harness.openrouter.chat_requests() == []


# -- Edit image -------------------------------------------------------------------------------------


async def test_edit_image_asks_for_a_prompt_then_edits_the_messages_image(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("dog.png", png_bytes(800, 600), "image/png")
    message = harness.payloads.message(attachments=[attachment])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))

    assert opened.callback_types == [9], "the menu answers with a modal"
    assert opened.modal is not None and opened.modal["title"] == "Edit image"
    assert harness.openrouter.chat_requests() == []
    modal_id, field_id = _modal_ids(opened)
    # The submission carries no message: the modal itself must remember which one it was opened on.
    submitted = await harness.run(harness.payloads.modal_submit(modal_id, {field_id: "  add a party hat  "}))

    (request,) = harness.openrouter.chat_requests()
    text_part, image_part = request.json["messages"][0]["content"]
    assert text_part == {"type": "text", "text": "add a party hat"}
    assert decode_data_url(image_part["image_url"]["url"])[1].size == (800, 600)
    assert request.json["image_config"] == {"aspect_ratio": "4:3"}
    assert request.json["modalities"] == ["image", "text"]
    reply = submitted.last
    assert submitted.callback_types == [5] and not reply.ephemeral
    (embed,) = reply.embeds
    assert embed["title"] == "Edit" and embed["description"] == "add a party hat"
    assert embed["thumbnail"]["url"] == attachment["url"]
    assert len(reply.files) == 1


async def test_edit_image_uses_up_to_the_servers_limit_and_says_so(harness: BotHarness) -> None:
    await _set(harness, Operation.EDIT, max_references=2)
    attachments = [
        harness.payloads.attachment(f"p{number}.png", png_bytes(100 + number, 100), "image/png")
        for number in range(3)
    ]
    embed_url = harness.discord.host_attachment("in-embed.png", png_bytes(7, 7), "image/png")
    message = harness.payloads.message(attachments=attachments, embeds=[_embed_with_image(embed_url)])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))
    modal_id, field_id = _modal_ids(opened)
    submitted = await harness.run(harness.payloads.modal_submit(modal_id, {field_id: "blend"}))

    sizes = [decode_data_url(url)[1].size for url in harness.openrouter.chat_requests()[0].input_image_urls]
    assert sizes == [(100, 100), (101, 100)], "the first two, in the message's order"
    fields = {item["name"]: item["value"] for item in submitted.last.embeds[0]["fields"]}
    assert "first 2 of the message's 4 images" in fields["Note"]


async def test_edit_image_refuses_a_bad_image_after_the_modal_privately(harness: BotHarness) -> None:
    fake = harness.payloads.attachment("fake.png", b"GIF? no, just words" * 10, "image/png")
    message = harness.payloads.message(attachments=[fake])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))
    modal_id, field_id = _modal_ids(opened)
    submitted = await harness.run(harness.payloads.modal_submit(modal_id, {field_id: "sharpen"}))

    assert submitted.callback_types == [4], "refused before the public defer"
    assert submitted.last.ephemeral and "isn't an image" in submitted.last.text
    assert harness.openrouter.chat_requests() == []


async def test_edit_image_is_refused_before_the_modal_when_edit_is_off(harness: BotHarness) -> None:
    await _set(harness, Operation.EDIT, enabled=False)
    attachment = harness.payloads.attachment("a.png", png_bytes(20, 20), "image/png")
    message = harness.payloads.message(attachments=[attachment])
    conversation = await harness.run(harness.payloads.message_command("Edit image", message=message))
    assert conversation.modal is None
    assert conversation.last.ephemeral and "/config enable operation:edit" in conversation.last.text


async def test_two_members_modals_stay_with_their_own_messages(harness: BotHarness) -> None:
    first = harness.payloads.message(
        attachments=[harness.payloads.attachment("one.png", png_bytes(300, 100), "image/png")]
    )
    second = harness.payloads.message(
        attachments=[harness.payloads.attachment("two.png", png_bytes(100, 300), "image/png")],
        author=harness.payloads.admin,
    )
    opened_first = await harness.run(harness.payloads.message_command("Edit image", message=first))
    opened_second = await harness.run(
        harness.payloads.message_command("Edit image", message=second, actor=harness.payloads.admin)
    )
    first_ids, second_ids = _modal_ids(opened_first), _modal_ids(opened_second)
    assert first_ids[0] != second_ids[0]

    await harness.run(harness.payloads.modal_submit(second_ids[0], {second_ids[1]: "b"}, actor=harness.payloads.admin))
    await harness.run(harness.payloads.modal_submit(first_ids[0], {first_ids[1]: "a"}))

    by_prompt = {request.prompt: decode_data_url(request.input_image_urls[0])[1].size
                 for request in harness.openrouter.chat_requests()}
    assert by_prompt == {"a": (300, 100), "b": (100, 300)}


async def test_the_menus_leave_the_tree_when_their_cogs_unload(harness: BotHarness) -> None:
    assert harness.bot is not None
    tree = harness.bot.tree
    kind = discord.AppCommandType.message
    assert tree.get_command("Edit image", type=kind) is not None
    assert tree.get_command("Describe image", type=kind) is not None
    await harness.bot.unload_extension("cogs.edit")
    await harness.bot.unload_extension("cogs.describe")
    assert tree.get_command("Edit image", type=kind) is None
    assert tree.get_command("Describe image", type=kind) is None
    await harness.bot.load_extension("cogs.edit")
    assert tree.get_command("Edit image", type=kind) is not None



async def test_an_embed_showing_the_messages_own_attachment_counts_once(harness: BotHarness) -> None:
    """A bot result: the image is both an attachment and the embed's `attachment://` image."""
    await _set(harness, Operation.EDIT, max_references=3)
    attachment = harness.payloads.attachment("edit_1.png", png_bytes(64, 48), "image/png")
    resigned = attachment["url"] + "?ex=1&is=2&hm=3"  # Discord signs each copy of a CDN URL separately
    message = harness.payloads.message(attachments=[attachment], embeds=[_embed_with_image(resigned, resigned)])
    opened = await harness.run(harness.payloads.message_command("Edit image", message=message))
    modal_id, field_id = _modal_ids(opened)
    submitted = await harness.run(harness.payloads.modal_submit(modal_id, {field_id: "brighter"}))

    assert len(harness.openrouter.chat_requests()[0].input_image_urls) == 1
    assert "Source image" in {item["name"] for item in submitted.last.embeds[0]["fields"]}


async def test_the_refusal_of_an_embed_address_says_why(harness: BotHarness) -> None:
    message = harness.payloads.message(embeds=[{"type": "image", "url": "http://10.1.2.3/x.png",
                                                "thumbnail": {"url": "http://10.1.2.3/x.png"}}])
    conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))
    assert conversation.last.ephemeral
    assert conversation.last.text.endswith(
        "I can't fetch \u201cx.png\u201d from the address in that embed: it points into a private network. "
        "Upload the image as an attachment instead."
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "127.1", "0x7f.1"])
async def test_an_embed_at_another_port_of_the_stand_ins_host_is_refused(harness: BotHarness, host: str) -> None:
    """Trust is by origin: the stand-in Discord's 127.0.0.1 does not make every port on 127.0.0.1 trusted.

    The embed points at another server on 127.0.0.1 (nobody configured its port), in the dotted form the
    old check trusted by host name and in forms a resolver reads as the same address.
    """
    async with FakeOpenRouter() as elsewhere:
        served = elsewhere.add_file("private.png", png_bytes(8, 8))
        url = served.replace("127.0.0.1", host)
        message = harness.payloads.message(embeds=[_embed_with_image(url)])
        conversation = await harness.run(harness.payloads.message_command("Describe image", message=message))
        assert conversation.last.ephemeral and "private network" in conversation.last.text
        assert elsewhere.requests == [], "the file was never fetched"
    assert harness.openrouter.chat_requests() == []
