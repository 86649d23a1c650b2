"""Results of several images as a Components V2 grid, through the real tree against the stand-in Discord.

A grid of 4 from /imagine and /edit, each per-image button (Upscale, Vary, Edit, Describe) and the
whole-result ones, a restart between the result and the click, old single-image custom ids after
the upgrade, the size-fitting path, Delete by another member (refused) and by the owner, `/jobs`
naming which image an Upscale came from, and the stand-in refusing malformed V2 messages.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Reply
from tests.kit.fake_discord import IS_COMPONENTS_V2, FakeDiscord, message_problems
from tests.kit.harness import BotHarness
from tests.kit.payloads import Actor
from tests.test_jobs_kit import imagine, started

IMAGE_BUTTON = re.compile(r"^job:(?P<action>upscale|vary|edit|describe):(?P<id>[0-9]+):(?P<index>[0-9]+)$")
EXTENSIONS = ("cogs.imagine", "cogs.edit", "cogs.describe", "cogs.result_buttons", "cogs.jobs")


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    async with started(database_path, fake_discord, fake_openrouter) as kit:
        kit.extensions = EXTENSIONS
        await kit.restart()
        yield kit


def per_image(reply: Reply) -> dict[tuple[str, int], str]:
    """(action, image number) -> custom id of the reply's per-image buttons."""
    found = {}
    for custom_id in reply.custom_ids:
        match = IMAGE_BUTTON.match(custom_id)
        if match:
            found[(match["action"], int(match["index"]))] = custom_id
    return found


def grid_job(reply: Reply) -> int:
    ids = {int(IMAGE_BUTTON.match(c)["id"]) for c in per_image(reply).values()}  # type: ignore[index]
    assert len(ids) == 1, reply.custom_ids
    return ids.pop()


async def press(harness: BotHarness, reply: Reply, custom_id: str, *, actor: Actor | None = None,
                message: dict[str, Any] | None = None) -> Any:
    message = message if message is not None else await grid_message(harness, reply)
    return await harness.run(harness.payloads.component(custom_id, message=message, actor=actor))


async def grid_message(harness: BotHarness, reply: Reply, *, with_files: bool = True) -> dict[str, Any]:
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(grid_job(reply))
    assert record is not None and record.result_message_id is not None
    attachments = [
        harness.payloads.attachment(sent.filename, sent.data, sent.content_type or "image/png",
                                    url=None if with_files else f"http://127.0.0.1:{harness.discord.port}/attachments/0/x")
        for sent in reply.files
    ]
    message = harness.payloads.message(attachments=attachments, components=reply.components)
    message.update(id=str(record.result_message_id), flags=reply.flags, author=harness.discord.bot_user())
    return message


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


async def test_a_grid_of_four_is_one_components_v2_message(harness: BotHarness) -> None:
    reply = (await imagine(harness, "four foxes in snow", count=4, seed=77)).last

    assert reply.components_v2 and not reply.content and not reply.embeds
    assert harness.discord.refused == [], "Discord would have accepted every message"
    assert len(reply.files) == 4
    urls = [item["media"]["url"] for item in reply.gallery]
    assert urls == [f"attachment://{sent.filename}" for sent in reply.files]
    assert [item["description"] for item in reply.gallery] == [f"Image {n}: four foxes in snow" for n in range(1, 5)]
    text = reply.text
    for part in ("four foxes in snow", "google/gemini-2.5-flash-image", "Square", "`77`", "Cost", "Time"):
        assert part in text
    number = grid_job(reply)
    labels = reply.labels
    for n in range(1, 5):
        assert labels[f"job:upscale:{number}:{n}"] == f"U{n}" and labels[f"job:vary:{number}:{n}"] == f"V{n}"
        assert (("edit", n) in per_image(reply)) and (("describe", n) in per_image(reply))
    assert {f"job:reroll:{number}", f"job:delete:{number}"} <= set(reply.custom_ids)
    assert len(harness.openrouter.chat_requests()) == 4
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None and record.spec.request.count == 4
    assert record.result_files == tuple(sent.filename for sent in reply.files)


# -- the stand-in refuses what Discord refuses --------------------------------------------------------


def _v2(*components: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {"flags": IS_COMPONENTS_V2, "components": list(components), **body}


GALLERY = {"type": 12, "items": [{"media": {"url": "attachment://a.png"}}]}


@pytest.mark.parametrize(("body", "files", "field"), [
    (_v2(GALLERY, content="hello"), ["a.png"], "content"),
    (_v2(GALLERY, embeds=[{"title": "x"}]), ["a.png"], "embeds"),
    (_v2({"type": 12, "items": []}), [], "components.0.items"),
    (_v2({"type": 12, "items": [{"media": {"url": "attachment://a.png"}}] * 11}), ["a.png"], "components.0.items"),
    (_v2(GALLERY), ["b.png"], "components.0.items.0.media.url"),
    (_v2(*[{"type": 10, "content": "x"}] * 41), [], "components"),
    (_v2({"type": 1, "components": [{"type": 2, "style": 2, "label": "a", "custom_id": "same"},
                                    {"type": 2, "style": 2, "label": "b", "custom_id": "same"}]}), [], "components"),
    (_v2({"type": 1, "components": [{"type": 2, "style": 2, "label": "a", "custom_id": "x" * 101}]}), [],
     "components.0.components.0.custom_id"),
    (_v2({"type": 2, "style": 2, "label": "a", "custom_id": "loose"}), [], "components.0"),
    ({"components": [{"type": 1, "components": [{"type": 2, "style": 2, "label": "a", "custom_id": f"r{n}"}]}
                     for n in range(6)]}, [], "components"),
    ({"components": [GALLERY]}, ["a.png"], "components.0"),
])
def test_the_stand_in_names_what_discord_refuses(body: dict[str, Any], files: list[str], field: str) -> None:
    assert field in message_problems(body, files)


def test_a_valid_grid_body_passes() -> None:
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": f"U{n}", "custom_id": f"job:upscale:1:{n}"}
                                     for n in range(1, 5)]}
    body = _v2({"type": 17, "components": [GALLERY, {"type": 10, "content": "a prompt"}]}, row, content=None,
               embeds=[])
    assert message_problems(body, ["a.png"]) == {}


async def test_a_malformed_v2_message_is_refused_with_discords_error(harness: BotHarness) -> None:
    import discord

    assert harness.bot is not None
    channel = harness.bot.get_partial_messageable(harness.payloads.channel_id)
    view = discord.ui.LayoutView()
    view.add_item(discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://missing.png")))
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(view=view, file=discord.File(io.BytesIO(b"x"), filename="other.png"))
    assert refused.value.status == 400 and refused.value.code == 50035
    assert "missing.png" in str(refused.value)
    with pytest.raises(discord.HTTPException) as with_content:
        await channel.send(content="hello", view=view, file=discord.File(io.BytesIO(b"x"), filename="missing.png"))
    assert with_content.value.code == 50035
    (first, _), (second, _) = harness.discord.refused
    assert first.path.endswith("/messages") and second.path.endswith("/messages")
