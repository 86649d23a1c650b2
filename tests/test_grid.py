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
    (_v2({"type": 1, "components": [{"type": 2, "style": 2, "label": "no id"}]}), [],
     "components.0.components.0.custom_id"),
    (_v2({"type": 1, "components": [{"type": 2, "style": 2, "custom_id": "bare"}]}), [],
     "components.0.components.0.label"),
])
def test_the_stand_in_names_what_discord_refuses(body: dict[str, Any], files: list[str], field: str) -> None:
    assert field in message_problems(body, files)


def test_a_valid_grid_body_passes() -> None:
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": f"U{n}", "custom_id": f"job:upscale:1:{n}"}
                                     for n in range(1, 5)]}
    body = _v2({"type": 17, "components": [GALLERY, {"type": 10, "content": "a prompt"}]}, row, content=None,
               embeds=[])
    assert message_problems(body, ["a.png"]) == {}


@pytest.mark.refusals_expected
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


# -- per-image buttons ------------------------------------------------------------------------------------


def _decoded(data_url: str) -> bytes:
    import base64

    return base64.b64decode(data_url.split(",", 1)[1])


@pytest.mark.parametrize("number", [1, 2, 3, 4])
async def test_each_upscale_uses_its_image_at_the_next_resolution_and_keeps_the_seed(
    harness: BotHarness, number: int
) -> None:
    grid = (await imagine(harness, "four foxes in snow", count=4, seed=77)).last
    conversation = await press(harness, grid, per_image(grid)[("upscale", number)])

    upscaled = conversation.last
    assert not upscaled.ephemeral and len(upscaled.files) == 1 and not upscaled.components_v2
    assert upscaled.embeds[0]["title"] == "Upscale"
    request = harness.openrouter.chat_requests()[-1]
    assert request.prompt == "four foxes in snow"
    assert request.json["image_config"]["image_size"] == "2K", "the next tier above the default 1K"
    assert request.json["seed"] == 77 + number - 1, "the seed this image was made with (one call each)"
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[number - 1].data]
    assert size_of(upscaled.files[0].data) == (2048, 2048)
    assert f"image {number} of [job #{grid_job(grid)}]" in upscaled.text
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(int(upscaled.custom_ids[0].split(":")[2]))
    assert record is not None and record.spec.parent_job_id == grid_job(grid)
    assert (record.spec.parent_image_index, record.spec.parent_action) == (number, "upscale")


@pytest.mark.parametrize("number", [1, 2, 3, 4])
async def test_each_vary_makes_a_new_image_from_its_image_with_a_new_seed(harness: BotHarness, number: int) -> None:
    grid = (await imagine(harness, "four foxes in snow", count=4, seed=77, format="landscape")).last
    varied = (await press(harness, grid, per_image(grid)[("vary", number)])).last

    assert varied.embeds[0]["title"] == "Vary" and len(varied.files) == 1
    request = harness.openrouter.chat_requests()[-1]
    assert request.prompt == "four foxes in snow" and request.json["image_config"]["aspect_ratio"] == "16:9"
    assert "image_size" not in request.json["image_config"], "same settings: no resolution was asked for"
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[number - 1].data]
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(int(varied.custom_ids[0].split(":")[2]))
    assert record is not None and (record.spec.parent_image_index, record.spec.parent_action) == (number, "vary")


async def test_upscale_where_no_higher_tier_is_offered_is_refused_before_anything_is_sent(
    harness: BotHarness,
) -> None:
    grid = (await imagine(harness, "big", count=2, resolution="4K")).last
    sent = len(harness.openrouter.chat_requests())
    refused = (await press(harness, grid, per_image(grid)[("upscale", 2)])).last
    assert refused.ephemeral and "nothing larger than 4K" in refused.text and "V2" in refused.text
    assert len(harness.openrouter.chat_requests()) == sent


async def test_edit_and_describe_act_on_the_image_they_name(harness: BotHarness) -> None:
    grid = (await imagine(harness, "four foxes in snow", count=4)).last
    message = await grid_message(harness, grid)
    opened = await press(harness, grid, per_image(grid)[("edit", 3)], message=message)
    assert opened.modal is not None and opened.modal["title"] == "Edit 3"
    edited = (await harness.run(harness.payloads.modal_submit(
        opened.modal["custom_id"], {"prompt": "make it night"}, message=message))).last
    assert edited.embeds[0]["title"] == "Edit"
    request = harness.openrouter.chat_requests()[-1]
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[2].data]

    described = (await press(harness, grid, per_image(grid)[("describe", 2)], message=message)).last
    assert "A test description of the image." in described.text and "image 2 of" in described.text
    request = harness.openrouter.chat_requests()[-1]
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[1].data]


async def test_reroll_of_a_grid_is_a_new_grid_with_a_new_seed(harness: BotHarness) -> None:
    grid = (await imagine(harness, "four foxes in snow", count=4)).last
    first_seeds = sorted(r.json["seed"] for r in harness.openrouter.chat_requests())
    again = (await press(harness, grid, f"job:reroll:{grid_job(grid)}")).last
    assert again.components_v2 and len(again.files) == 4 and "### Re-roll" in again.text
    assert grid_job(again) != grid_job(grid)
    requests = harness.openrouter.chat_requests()
    assert len(requests) == 8
    second_seeds = sorted(r.json["seed"] for r in requests[4:])
    assert second_seeds != first_seeds, "the bot picked the first seed, so a re-roll picks another"
    assert harness.discord.refused == []


async def test_reroll_keeps_a_seed_the_member_gave(harness: BotHarness) -> None:
    grid = (await imagine(harness, "four foxes in snow", count=2, seed=1234)).last
    again = (await press(harness, grid, f"job:reroll:{grid_job(grid)}")).last
    assert "**Seeds** `1234` to `1235` (one per call)" in again.text
    assert sorted(r.json["seed"] for r in harness.openrouter.chat_requests()) == [1234, 1234, 1235, 1235]


async def test_each_call_of_a_grid_gets_the_next_seed_so_its_images_differ(harness: BotHarness) -> None:
    grid = (await imagine(harness, "four foxes", count=4, seed=77)).last
    assert sorted(r.json["seed"] for r in harness.openrouter.chat_requests()) == [77, 78, 79, 80]
    assert "`77` to `80`" in grid.text


async def test_per_image_buttons_work_after_a_restart_with_expired_urls(harness: BotHarness) -> None:
    grid = (await imagine(harness, "a castle in fog", count=4)).last
    stale = await grid_message(harness, grid, with_files=False)  # the click brings URLs that no longer answer
    fresh = await grid_message(harness, grid)
    harness.discord.messages[(harness.payloads.channel_id, int(fresh["id"]))] = fresh  # GET gives fresh ones
    await harness.restart()

    varied = (await press(harness, grid, per_image(grid)[("vary", 4)], message=stale)).last
    assert varied.embeds[0]["title"] == "Vary"
    request = harness.openrouter.chat_requests()[-1]
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[3].data], (
        "image 4 fetched again from the stored result message")
    upscaled = (await press(harness, grid, per_image(grid)[("upscale", 1)])).last
    assert upscaled.embeds[0]["title"] == "Upscale"


async def test_a_single_image_result_keeps_its_embed_and_gains_upscale_and_vary(harness: BotHarness) -> None:
    reply = (await imagine(harness, "one lighthouse")).last
    assert not reply.components_v2 and reply.embeds[0]["title"] == "Imagine"
    number = int(reply.custom_ids[0].split(":")[2])
    assert reply.labels[f"job:upscale:{number}:1"] == "Upscale" and reply.labels[f"job:vary:{number}:1"] == "Vary"
    message = harness.payloads.message(
        attachments=[harness.payloads.attachment(f.filename, f.data) for f in reply.files], components=reply.components)
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None
    message["id"] = str(record.result_message_id)
    upscaled = (await harness.run(harness.payloads.component(f"job:upscale:{number}:1", message=message))).last
    assert upscaled.embeds[0]["title"] == "Upscale"


async def test_an_old_single_image_result_still_works_after_the_upgrade(harness: BotHarness) -> None:
    """A result posted before grids: four `job:<action>:<id>` buttons and nothing else on the message."""
    reply = (await imagine(harness, "an old result")).last
    number = int(reply.custom_ids[0].split(":")[2])
    old_row = {"type": 1, "components": [
        {"type": 2, "style": 2, "label": action.title(), "custom_id": f"job:{action}:{number}"}
        for action in ("reroll", "edit", "describe", "delete")]}
    message = harness.payloads.message(
        attachments=[harness.payloads.attachment(f.filename, f.data) for f in reply.files], components=[old_row])
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(number)
    assert record is not None
    message["id"] = str(record.result_message_id)
    await harness.restart()

    rerolled = (await harness.run(harness.payloads.component(f"job:reroll:{number}", message=message))).last
    assert rerolled.embeds[0]["title"] == "Re-roll"
    described = (await harness.run(harness.payloads.component(f"job:describe:{number}", message=message))).last
    assert "A test description of the image." in described.text


async def test_a_forged_image_number_is_refused(harness: BotHarness) -> None:
    grid = (await imagine(harness, "two", count=2)).last
    number = grid_job(grid)
    forged = f"job:vary:{number}:7"
    message = await grid_message(harness, grid)
    message["components"] = [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "V7", "custom_id": forged}]}]
    message["flags"] = 0
    refused = (await harness.run(harness.payloads.component(forged, message=message))).last
    assert refused.ephemeral and "has no image 7" in refused.text


# -- delete, /jobs, the channel fallback, /edit -----------------------------------------------------------


async def test_another_member_cannot_delete_a_grid_but_its_owner_can(harness: BotHarness) -> None:
    grid = (await imagine(harness, "mine", count=4)).last
    delete = f"job:delete:{grid_job(grid)}"
    refused = await press(harness, grid, delete, actor=Actor("bystander"))
    assert refused.last.ephemeral and "Manage Messages" in refused.last.text
    assert not any(r.method == "DELETE" for r in refused.requests)

    deleted = await press(harness, grid, delete)
    assert [r.path.rsplit("/", 1)[-1] for r in deleted.requests if r.method == "DELETE"] == ["@original"]
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(grid_job(grid))
    assert record is not None and record.result_deleted


async def test_jobs_names_which_image_an_action_came_from(harness: BotHarness) -> None:
    grid = (await imagine(harness, "four foxes", count=4)).last
    await press(harness, grid, per_image(grid)[("upscale", 2)])
    await press(harness, grid, per_image(grid)[("vary", 4)])
    message = await grid_message(harness, grid)
    opened = await press(harness, grid, per_image(grid)[("edit", 3)], message=message)
    await harness.run(harness.payloads.modal_submit(opened.modal["custom_id"], {"prompt": "night"}, message=message))
    await press(harness, grid, per_image(grid)[("describe", 1)], message=message)
    listed = (await harness.run(harness.payloads.slash("jobs"))).last
    for line in ("Upscale of image 2", "Vary of image 4", "Edit of image 3", "Description of image 1"):
        assert f"{line} of job #{grid_job(grid)}" in listed.text


async def test_a_grid_whose_token_expired_is_posted_in_the_channel_with_every_image(harness: BotHarness) -> None:
    payload = harness.payloads.slash("imagine", prompt="a slow grid", count=4)
    harness.discord.expired_tokens.add(payload["token"])
    await harness.run(payload)
    (posted,) = harness.discord.matching("POST", f"/channels/{harness.payloads.channel_id}/messages")
    assert posted.refusal is None
    assert posted.json["content"].startswith(f"<@{harness.payloads.member.user_id}>")
    assert not posted.json.get("flags", 0) & IS_COMPONENTS_V2
    names = [sent.filename for sent in posted.files]
    assert len(names) == 4
    assert [embed["image"]["url"] for embed in posted.json["embeds"]] == [f"attachment://{n}" for n in names]
    custom_ids = [c["custom_id"] for row in posted.json["components"] for c in row["components"]]
    assert len(posted.json["components"]) == 5 and len(custom_ids) == 18


async def test_a_grid_of_four_from_edit(harness: BotHarness) -> None:
    from tests.fake_openrouter import render_png

    photo = harness.payloads.attachment("cat.png", render_png(64, 48), "image/png", width=64, height=48)
    grid = (await harness.run(harness.payloads.slash("edit", prompt="add a hat", image=photo, count=4))).last
    assert grid.components_v2 and len(grid.gallery) == 4 and "### Edit" in grid.text and "cat.png" in grid.text
    assert harness.discord.refused == []
    upscaled = (await press(harness, grid, per_image(grid)[("upscale", 4)])).last
    assert upscaled.embeds[0]["title"] == "Upscale"
    request = harness.openrouter.chat_requests()[-1]
    assert request.json["model"] == "google/gemini-2.5-flash-image"
    assert request.json["image_config"] == {"aspect_ratio": "4:3", "image_size": "2K"}
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[3].data]


async def test_grid_files_over_the_servers_upload_limit_are_fitted_and_the_result_says_so(
    harness: BotHarness,
) -> None:
    harness.payloads.filesize_limit = 300 * 1024
    harness.openrouter.image_padding = 400 * 1024  # each image is over the server's limit
    grid = (await imagine(harness, "heavy", count=4)).last
    assert grid.components_v2 and len(grid.files) == 4
    assert all(len(sent.data) <= 300 * 1024 for sent in grid.files)
    assert "to fit Discord's" in grid.text
    assert [item["media"]["url"] for item in grid.gallery] == [f"attachment://{f.filename}" for f in grid.files]
    assert harness.discord.refused == []


async def test_a_spoilered_grid_blurs_every_image(harness: BotHarness) -> None:
    grid = (await imagine(harness, "secret", count=2, spoiler=True)).last
    assert all(sent.filename.startswith("SPOILER_") for sent in grid.files)
    assert all(item["spoiler"] for item in grid.gallery)
    assert harness.discord.refused == []


# -- on the Images API, costs, long prompts, the callback route ----------------------------------------

SEEDREAM = "bytedance-seed/seedream-4.5"
KREA = "krea/krea-1"


async def _use(harness: BotHarness, model: str) -> None:
    reply = (await harness.run(harness.payloads.slash(
        "config model", actor=harness.payloads.admin, operation="imagine", model=model))).last
    assert reply.ephemeral


async def test_upscale_on_the_images_api_sends_the_image_and_the_next_tier(harness: BotHarness) -> None:
    harness.extensions = (*EXTENSIONS, "cogs.config")
    await harness.restart()
    await _use(harness, SEEDREAM)
    grid = (await imagine(harness, "two owls", count=2, seed=5)).last
    (made,) = harness.openrouter.image_requests()
    assert made.json["n"] == 2
    upscaled = (await press(harness, grid, per_image(grid)[("upscale", 2)])).last
    assert upscaled.embeds[0]["title"] == "Upscale"
    sent = harness.openrouter.image_requests()[-1].json
    assert (sent["resolution"], sent["seed"], sent["prompt"]) == ("2K", 5, "two owls")
    assert "n" not in sent
    (reference,) = sent["input_references"]
    assert _decoded(reference["image_url"]["url"]) == grid.files[1].data


async def test_a_model_that_takes_no_reference_cannot_upscale_or_vary(harness: BotHarness) -> None:
    harness.extensions = (*EXTENSIONS, "cogs.config")
    await harness.restart()
    await _use(harness, KREA)
    grid = (await imagine(harness, "two owls", count=2)).last
    sent = len(harness.openrouter.image_requests())
    for action in ("upscale", "vary"):
        refused = (await press(harness, grid, per_image(grid)[(action, 1)])).last
        assert refused.ephemeral and f"`{KREA}` can't take an image as a reference" in refused.text
    assert len(harness.openrouter.image_requests()) == sent


async def test_each_images_cost_is_in_the_ledger_and_the_grid_shows_the_total(harness: BotHarness) -> None:
    grid = (await imagine(harness, "four foxes", count=4)).last
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(grid_job(grid))
    assert record is not None and record.cost is not None
    rows = await harness.bot.store.database.fetch_all(
        "SELECT cost FROM usage_ledger WHERE job_id = ?", (grid_job(grid),))
    assert len(rows) == 4, "one ledger row per call, each with its own cost"
    assert sum(row["cost"] for row in rows) == pytest.approx(record.cost)
    from bot.rendering import format_cost

    assert f"**Cost** {format_cost(record.cost)} in all for 4 images" in grid.text
    costs = sorted(row["cost"] for row in rows)
    assert sorted(record.result_costs) == pytest.approx(costs), "each image's cost, one call each"


async def test_images_of_one_call_each_record_their_share_of_its_cost(harness: BotHarness) -> None:
    harness.extensions = (*EXTENSIONS, "cogs.config")
    await harness.restart()
    await _use(harness, SEEDREAM)
    grid = (await imagine(harness, "four foxes", count=4)).last
    assert harness.bot is not None
    (request,) = harness.openrouter.image_requests()  # Seedream makes all four in one call
    record = await harness.bot.store.jobs.get(grid_job(grid))
    assert record is not None and record.cost == pytest.approx(request.cost)
    assert record.result_costs == pytest.approx((request.cost / 4,) * 4)


async def test_a_grid_of_the_longest_prompt_stays_within_discords_limits(harness: BotHarness) -> None:
    from bot.operations import MAX_PROMPT_LENGTH

    prompt = ("a [very](https://example.com) *long* prompt " * 400)[:MAX_PROMPT_LENGTH]
    grid = (await imagine(harness, prompt, count=4)).last
    assert grid.components_v2 and harness.discord.refused == []
    assert all(len(item["description"]) <= 1024 for item in grid.gallery)
    assert sum(len(item.get("content", "")) for item in _texts(grid)) <= 4000
    assert "…" in grid.text, "the cut prompt is marked"


def _texts(reply: Reply) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if item.get("type") == 10:
                found.append(item)
            walk(item.get("components", []))

    walk(reply.components)
    return found


@pytest.mark.refusals_expected
async def test_the_stand_in_refuses_a_malformed_v2_callback_and_webhook_edit(harness: BotHarness) -> None:
    import httpx

    bad = {"flags": IS_COMPONENTS_V2, "content": "not allowed", "components": [{"type": 12, "items": []}]}
    base = harness.discord.api_base
    async with httpx.AsyncClient() as client:
        callback = await client.post(f"{base}/interactions/1/itoken-x/callback", json={"type": 4, "data": bad})
        edit = await client.patch(f"{base}/webhooks/1/itoken-x/messages/@original", json=bad)
    for answer in (callback, edit):
        assert answer.status_code == 400
        body = answer.json()
        assert body["code"] == 50035 and {"content", "components.0.items"} <= set(body["errors"])


# -- the seed of each image -------------------------------------------------------------------------------


async def test_a_topped_up_grid_shows_the_seed_each_image_was_made_with(harness: BotHarness) -> None:
    harness.extensions = (*EXTENSIONS, "cogs.config")
    await harness.restart()
    await _use(harness, KREA)  # lists n up to 4, makes one image per call: the second is a top-up call
    grid = (await imagine(harness, "two owls", count=2, seed=10)).last
    assert [request.json["seed"] for request in harness.openrouter.image_requests()] == [10, 11]
    assert "**Seeds** `10` to `11`" in grid.text, "not 'Seed 10' for both"
    assert harness.bot is not None
    record = await harness.bot.store.jobs.get(grid_job(grid))
    assert record is not None and record.result_seeds == (10, 11)
    assert record.result_files == tuple(sent.filename for sent in grid.files)


async def test_upscale_after_a_failed_call_sends_that_images_own_seed(
    database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    async with started(database_path, fake_discord, fake_openrouter, max_concurrent_jobs=1) as harness:
        harness.extensions = EXTENSIONS
        await harness.restart()  # one slot: the grid's calls run one after another, the first fails
        harness.openrouter.fail_next(400, message="Invalid prompt for this provider", route="chat")
        grid = (await imagine(harness, "three hares", count=3, seed=77)).last
        assert len(grid.files) == 2 and "could be made" in grid.text
        made = [r.json["seed"] for r in harness.openrouter.chat_requests()]
        assert made == [77, 78, 79], "the failed call (77) made nothing"
        assert "**Seeds** `78` to `79`" in grid.text
        await press(harness, grid, per_image(grid)[("upscale", 1)])
        assert harness.openrouter.chat_requests()[-1].json["seed"] == 78, "image 1 came from the call with 78"


async def test_reroll_of_a_vary_finds_its_grid_image_again_when_the_attachment_ids_changed(
    harness: BotHarness,
) -> None:
    harness.extensions = (*EXTENSIONS, "cogs.config")
    await harness.restart()
    await _use(harness, SEEDREAM)  # its four images differ (the chat stand-in draws the same one four times)
    grid = (await imagine(harness, "four foxes in snow", count=4)).last
    assert len({sent.data for sent in grid.files}) == 4, "four different images"
    message = await grid_message(harness, grid)
    varied = (await press(harness, grid, per_image(grid)[("vary", 3)], message=message)).last
    vary_job = int(varied.custom_ids[0].split(":")[2])
    # Image 3's stored URL has expired, and the grid's message, fetched again, lists its files under new ids.
    for attachment in message["attachments"]:
        harness.discord.attachments.pop(attachment["url"].split("/attachments/", 1)[1], None)
    again = await grid_message(harness, grid)
    assert {a["id"] for a in again["attachments"]}.isdisjoint(a["id"] for a in message["attachments"])
    harness.discord.messages[(harness.payloads.channel_id, int(again["id"]))] = again

    attachments = [harness.payloads.attachment(f.filename, f.data) for f in varied.files]
    vary_message = harness.payloads.message(attachments=attachments, components=varied.components)
    rerolled = (await harness.run(harness.payloads.component(f"job:reroll:{vary_job}", message=vary_message))).last
    assert rerolled.embeds[0]["title"] == "Re-roll" and rerolled.files
    request = harness.openrouter.image_requests()[-1]
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[2].data], "image 3, not image 1"


async def test_reroll_of_a_vary_made_on_a_copy_falls_back_to_the_same_image_of_the_grid(harness: BotHarness) -> None:
    harness.extensions = (*EXTENSIONS, "cogs.config")
    await harness.restart()
    await _use(harness, SEEDREAM)
    grid = (await imagine(harness, "four foxes in snow", count=4)).last
    copy = await grid_message(harness, grid)
    copy["id"] = "4242"  # a copy of the grid (as /show posts one), not its result message
    varied = (await press(harness, grid, per_image(grid)[("vary", 3)], message=copy)).last
    vary_job = int(varied.custom_ids[0].split(":")[2])
    for attachment in copy["attachments"]:  # the copy is gone: its URLs no longer answer, nor does the message
        harness.discord.attachments.pop(attachment["url"].split("/attachments/", 1)[1], None)
    fresh = await grid_message(harness, grid)
    harness.discord.messages[(harness.payloads.channel_id, int(fresh["id"]))] = fresh

    attachments = [harness.payloads.attachment(f.filename, f.data) for f in varied.files]
    vary_message = harness.payloads.message(attachments=attachments, components=varied.components)
    rerolled = (await harness.run(harness.payloads.component(f"job:reroll:{vary_job}", message=vary_message))).last
    assert rerolled.embeds[0]["title"] == "Re-roll"
    request = harness.openrouter.image_requests()[-1]
    assert [_decoded(url) for url in request.input_image_urls] == [grid.files[2].data], "the grid's image 3"
