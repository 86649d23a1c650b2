"""`/describe` end to end, and the splitting that keeps long answers whole."""

from __future__ import annotations

import random
from typing import Any

import discord
import pytest

from bot.operations import Operation
from bot.rendering import pack_embeds, split_text
from cogs.describe import describe_prompt
from tests.kit.conversation import Conversation
from tests.kit.harness import BotHarness
from tests.test_attachments import decode_data_url, png_bytes

WORDS = ["lighthouse", "a", "dusk", "painted", "waves", "orange", "sky", "gull", "rocky", "shore", "in", "the"]


def long_answer(length: int, seed: int = 1) -> str:
    """Prose of about `length` characters, in paragraphs, with no word repeated at a paragraph edge."""
    rng = random.Random(seed)
    paragraphs, total = [], 0
    while total < length:
        sentence_count = rng.randint(3, 8)
        paragraph = " ".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20))).capitalize() + "."
            for _ in range(sentence_count)
        )
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(item["name"]) + len(item["value"]) for item in embed.get("fields", []))
    return total + len((embed.get("footer") or {}).get("text", ""))


def _descriptions(conversation: Conversation) -> list[str]:
    return [embed.get("description", "") for reply in conversation.visible for embed in reply.embeds]


async def test_describe_asks_the_vision_model_with_no_modalities(harness: BotHarness) -> None:
    attachment = harness.payloads.attachment("cat.png", png_bytes(640, 480), "image/png")
    conversation = await harness.run(harness.payloads.slash("describe", image=attachment))

    (request,) = harness.openrouter.chat_requests()
    body = request.json
    assert body["model"] == "google/gemini-2.5-flash"
    assert "modalities" not in body and "image_config" not in body
    text_part, image_part = body["messages"][0]["content"]
    assert text_part == {"type": "text", "text": describe_prompt(None, "en-US")}
    mime, image = decode_data_url(image_part["image_url"]["url"])
    assert (mime, image.size) == ("image/png", (640, 480))

    assert conversation.callback_types == [5]
    reply = conversation.last
    assert not reply.ephemeral
    (embed,) = reply.embeds
    assert embed["title"] == "Describe"
    assert embed["description"] == "A test description of the image."
    assert embed["thumbnail"]["url"] == attachment["url"]
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert fields["Model"] == "google/gemini-2.5-flash"
    assert fields["Cost"] == "$0.0039"
    assert "Question" not in fields, "the default question is not echoed"
    assert "Member" in embed["footer"]["text"]


async def test_a_question_is_sent_as_the_text_part_and_shown(harness: BotHarness) -> None:
    harness.openrouter.text_reply = "Three."
    attachment = harness.payloads.attachment("birds.jpg", png_bytes(64, 64), "image/jpeg")
    conversation = await harness.run(
        harness.payloads.slash("describe", image=attachment, prompt="How many birds are there?")
    )
    (request,) = harness.openrouter.chat_requests()
    question = describe_prompt("How many birds are there?", "en-US")
    assert request.json["messages"][0]["content"][0] == {"type": "text", "text": question}
    (embed,) = conversation.last.embeds
    assert embed["description"] == "Three."
    assert {"name": "Question", "value": "How many birds are there?", "inline": False} in embed["fields"]


async def test_the_servers_describe_model_and_provider_filter_are_used(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.store.guild_config.update(
        harness.payloads.guild_id, Operation.DESCRIBE, model="openai/gpt-5-image", ignore_providers=("azure",)
    )
    attachment = harness.payloads.attachment("a.png", png_bytes(32, 32), "image/png")
    await harness.run(harness.payloads.slash("describe", image=attachment))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["model"] == "openai/gpt-5-image"
    assert request.json["provider"] == {"ignore": ["azure"]}


@pytest.mark.parametrize("length", [5_000, 12_000, 70_000])
async def test_a_long_answer_is_split_whole_over_embeds_and_messages(harness: BotHarness, length: int) -> None:
    answer = long_answer(length)
    harness.openrouter.text_reply = answer
    attachment = harness.payloads.attachment("a.png", png_bytes(32, 32), "image/png")
    conversation = await harness.run(harness.payloads.slash("describe", image=attachment))

    replies = conversation.visible
    assert all(not reply.ephemeral for reply in replies)
    for reply in replies:
        assert 1 <= len(reply.embeds) <= 10
        assert sum(_embed_chars(embed) for embed in reply.embeds) <= 6000
    pieces = _descriptions(conversation)
    assert all(len(piece) <= 4096 for piece in pieces)
    assert " ".join(pieces).split() == answer.split(), "every word arrives, in order, none cut in two"
    assert len(pieces) == -(-len(answer) // 4096) or len(pieces) == -(-len(answer) // 4096) + 1
    first, last = replies[0].embeds[0], replies[-1].embeds[-1]
    assert first["thumbnail"]["url"] == attachment["url"]
    assert f"Part {len(pieces)} of {len(pieces)}" in last["footer"]["text"]
    assert {item["name"] for item in last["fields"]} >= {"Model", "Cost", "Time"}
    if length == 5_000:
        assert len(replies) == 1 and len(replies[0].embeds) == 2, "a 5000-character answer fits one message"
    else:
        assert len(replies) > 1, "beyond 6000 characters the answer continues in follow-up messages"


@pytest.mark.parametrize("reply_text", ["", "   \n  "])
async def test_an_empty_answer_is_an_error_not_an_empty_embed(harness: BotHarness, reply_text: str) -> None:
    harness.openrouter.text_reply = reply_text
    attachment = harness.payloads.attachment("a.png", png_bytes(32, 32), "image/png")
    conversation = await harness.run(harness.payloads.slash("describe", image=attachment))

    assert len(harness.openrouter.chat_requests()) == 1
    assert conversation.original is not None and conversation.original.deleted
    (reply,) = conversation.visible
    assert reply.ephemeral
    assert reply.embeds[0]["title"] == "No answer"
    assert "empty answer" in reply.text


async def test_describe_is_refused_when_the_server_turned_it_off(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.store.guild_config.update(harness.payloads.guild_id, Operation.DESCRIBE, enabled=False)
    attachment = harness.payloads.attachment("a.png", png_bytes(32, 32), "image/png")
    conversation = await harness.run(harness.payloads.slash("describe", image=attachment))

    assert conversation.callback_types == [4] and conversation.last.ephemeral
    assert "/config enable operation:describe" in conversation.last.text
    assert harness.openrouter.chat_requests() == []


# -- splitting --------------------------------------------------------------------------------------


def test_split_text_prefers_paragraphs_then_lines_then_spaces() -> None:
    paragraph = "alpha beta gamma. " * 30
    text = f"{paragraph.strip()}\n\n{paragraph.strip()}"
    assert split_text(text, 600) == [paragraph.strip(), paragraph.strip()]
    lines = "\n".join(["short line here"] * 10)
    assert all("\n" not in piece[:1] for piece in split_text(lines, 50))
    assert split_text("one two three four", 9) == ["one two", "three", "four"]


def test_split_text_never_loses_characters_and_cuts_only_unsplittable_words() -> None:
    url = "https://example.com/" + "x" * 150
    text = f"see {url} for more"
    pieces = split_text(text, 100)
    assert all(len(piece) <= 100 for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert pieces[0] == "see", "the long word starts a new piece instead of being cut after 'see'"
    assert split_text("  short  ") == ["short"]
    assert split_text("") == []


def test_pack_embeds_respects_both_message_limits() -> None:
    big = [discord.Embed(description="x" * 2500) for _ in range(5)]
    assert [len(group) for group in pack_embeds(big)] == [2, 2, 1]
    small = [discord.Embed(description="y") for _ in range(23)]
    assert [len(group) for group in pack_embeds(small)] == [10, 10, 3]
    with pytest.raises(ValueError, match="cannot fit"):
        pack_embeds([discord.Embed(description="z" * 4096, title="t" * 256).add_field(name="n", value="v" * 1700)])
