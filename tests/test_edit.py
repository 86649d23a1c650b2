"""`/edit` end to end: real payloads through the real tree, the stand-in OpenRouter over a socket."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.operations import Operation
from cogs.edit import ASPECT_RATIOS, nearest_aspect_ratio
from tests.kit.harness import BotHarness
from tests.test_attachments import decode_data_url, png_bytes


async def _set_edit_config(harness: BotHarness, **changes: object) -> None:
    assert harness.bot is not None
    await harness.bot.store.guild_config.update(harness.payloads.guild_id, Operation.EDIT, **changes)


async def test_edit_sends_the_prompt_then_the_image_and_shows_an_imagine_like_result(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("cat.png", png_bytes(1600, 900), "image/png")
    payload = harness.payloads.slash("edit", prompt="Give the cat a red scarf", image=attachment)
    conversation = await harness.run(payload)

    (request,) = harness.openrouter.chat_requests()
    body = request.json
    assert body["model"] == "google/gemini-2.5-flash-image"
    assert body["modalities"] == ["image", "text"]
    assert body["image_config"] == {"aspect_ratio": "16:9"}, "1600x900 keeps its shape"
    assert "provider" not in body
    (message,) = body["messages"]
    assert message["role"] == "user"
    text_part, image_part = message["content"]
    assert text_part == {"type": "text", "text": "Give the cat a red scarf"}
    assert image_part["type"] == "image_url"
    mime, sent = decode_data_url(image_part["image_url"]["url"])
    assert (mime, sent.size) == ("image/png", (1600, 900))

    assert conversation.callback_types == [5]
    reply = conversation.last
    assert not reply.ephemeral
    (result_file,) = reply.files
    assert Image.open(io.BytesIO(result_file.data)).size == (1344, 768)
    (embed,) = reply.embeds
    assert embed["title"] == "Edit"
    assert embed["description"] == "Give the cat a red scarf"
    assert embed["image"]["url"] == f"attachment://{result_file.filename}"
    assert embed["thumbnail"]["url"] == attachment["url"], "the source is shown next to the result"
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert fields["Model"] == "google/gemini-2.5-flash-image"
    assert "16:9" in fields["Format"]
    assert fields["Cost"] == "$0.0039"
    assert attachment["url"] in fields["Source image"]
    assert "Member" in embed["footer"]["text"]


@pytest.mark.parametrize(("choice", "ratio"), [("square", "1:1"), ("landscape", "16:9"), ("portrait", "9:16")])
async def test_an_explicit_format_wins_over_the_images_shape(harness: BotHarness, choice: str, ratio: str) -> None:
    attachment = harness.payloads.attachment("wide.png", png_bytes(2100, 900), "image/png")
    conversation = await harness.run(
        harness.payloads.slash("edit", prompt="night time", image=attachment, format=choice)
    )
    (request,) = harness.openrouter.chat_requests()
    assert request.json["image_config"] == {"aspect_ratio": ratio}
    fields = {item["name"]: item["value"] for item in conversation.last.embeds[0]["fields"]}
    assert ratio in fields["Format"]


@pytest.mark.parametrize(
    ("size", "ratio"),
    [((1000, 1000), "1:1"), ((4000, 1000), "21:9"), ((3000, 2000), "3:2"), ((1080, 1920), "9:16"),
     ((800, 1000), "4:5"), ((1024, 768), "4:3"), ((700, 1000), "2:3"), ((1001, 999), "1:1")],
)
def test_the_nearest_openrouter_aspect_ratio_is_chosen(size: tuple[int, int], ratio: str) -> None:
    assert nearest_aspect_ratio(*size) == ratio
    assert ratio in ASPECT_RATIOS


async def test_an_odd_shape_is_kept_as_the_nearest_ratio_upstream(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("tall.png", png_bytes(333, 1000), "image/png")
    await harness.run(harness.payloads.slash("edit", prompt="x", image=attachment))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["image_config"] == {"aspect_ratio": "9:16"}


async def test_references_are_sent_in_order_after_the_text(harness: BotHarness) -> None:
    await _set_edit_config(harness, max_references=3)
    sizes = [(300, 200), (200, 300), (250, 250)]
    image, second, third = (
        harness.payloads.attachment(f"img{number}.png", png_bytes(*size), "image/png")
        for number, size in enumerate(sizes, start=1)
    )
    conversation = await harness.run(harness.payloads.slash(
        "edit", prompt="put the hat on the dog", image=image, reference2=second, reference3=third
    ))

    (request,) = harness.openrouter.chat_requests()
    parts = request.json["messages"][0]["content"]
    assert [part["type"] for part in parts] == ["text", "image_url", "image_url", "image_url"]
    assert [decode_data_url(url)[1].size for url in request.input_image_urls] == sizes
    assert request.json["image_config"] == {"aspect_ratio": "3:2"}, "the first image's shape"
    fields = {item["name"]: item["value"] for item in conversation.last.embeds[0]["fields"]}
    for attachment in (image, second, third):
        assert attachment["url"] in fields["Source images"]


@pytest.mark.parametrize(("limit", "given"), [(1, 2), (1, 3), (2, 3)])
async def test_more_images_than_the_server_allows_is_refused_naming_the_limit(
    harness: BotHarness, limit: int, given: int
) -> None:
    if limit != 1:
        await _set_edit_config(harness, max_references=limit)
    attachments = [harness.payloads.attachment(f"i{n}.png", png_bytes(32, 32), "image/png") for n in range(given)]
    options = dict(zip(["image", "reference2", "reference3"], attachments, strict=False))
    conversation = await harness.run(harness.payloads.slash("edit", prompt="merge them", **options))

    assert conversation.callback_types == [4]
    reply = conversation.last
    assert reply.ephemeral
    assert f"allows {limit} image" in reply.text and f"you gave {given}" in reply.text
    assert "Manage Server" in reply.text and "/config max-references" in reply.text
    assert harness.openrouter.chat_requests() == []


async def test_as_many_images_as_the_limit_are_accepted(harness: BotHarness) -> None:
    await _set_edit_config(harness, max_references=2)
    first, second = (harness.payloads.attachment(f"i{n}.png", png_bytes(40, 40), "image/png") for n in range(2))
    conversation = await harness.run(
        harness.payloads.slash("edit", prompt="merge", image=first, reference2=second)
    )
    assert not conversation.last.ephemeral
    assert len(harness.openrouter.chat_requests()[0].input_image_urls) == 2


async def test_the_servers_edit_model_and_provider_filter_are_used(harness: BotHarness) -> None:
    await _set_edit_config(harness, model="openai/gpt-5-image", only_providers=("openai",))
    harness.openrouter.model_providers["openai/gpt-5-image"] = ["openai"]
    attachment = harness.payloads.attachment("a.png", png_bytes(64, 64), "image/png")
    conversation = await harness.run(harness.payloads.slash("edit", prompt="x", image=attachment))

    (request,) = harness.openrouter.chat_requests()
    assert request.json["model"] == "openai/gpt-5-image"
    assert request.json["provider"] == {"only": ["openai"]}
    assert not conversation.last.ephemeral


async def test_edit_is_refused_when_the_server_turned_it_off(harness: BotHarness) -> None:
    await _set_edit_config(harness, enabled=False)
    attachment = harness.payloads.attachment("a.png", png_bytes(64, 64), "image/png")
    conversation = await harness.run(harness.payloads.slash("edit", prompt="x", image=attachment))

    reply = conversation.last
    assert conversation.callback_types == [4] and reply.ephemeral
    assert "turned off" in reply.text and "/config enable operation:edit" in reply.text
    assert harness.openrouter.chat_requests() == []


async def test_an_upstream_refusal_after_the_defer_is_private(harness: BotHarness) -> None:
    harness.openrouter.fail_next(403)
    attachment = harness.payloads.attachment("a.png", png_bytes(64, 64), "image/png")
    payload = harness.payloads.slash("edit", prompt="x", image=attachment)
    conversation = await harness.run(payload)

    assert conversation.original is not None and conversation.original.deleted
    assert conversation.last.ephemeral
    assert conversation.last.embeds[0]["title"] == "Blocked by moderation"


async def test_a_long_prompt_and_model_text_stay_within_discords_embed_limit(harness: BotHarness) -> None:
    harness.openrouter.image_text = "word " * 600
    attachment = harness.payloads.attachment("a.png", png_bytes(64, 64), "image/png")
    prompt = "change " * 570  # just under 4000 characters
    conversation = await harness.run(harness.payloads.slash("edit", prompt=prompt.strip(), image=attachment))

    (embed,) = conversation.last.embeds
    total = len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed["footer"]["text"])
    total += sum(len(item["name"]) + len(item["value"]) for item in embed["fields"])
    assert total <= 6000
    assert embed["description"] == prompt.strip(), "the whole prompt fits beside a 1024-character model reply"
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert len(fields["The model said"]) <= 1024 and fields["The model said"].endswith("…")
