"""`/imagine` end to end: real payloads through the real tree, a stand-in OpenRouter over a socket."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from bot.openrouter import ImageResult
from tests.kit.harness import BotHarness


@pytest.mark.parametrize(
    ("choice", "ratio", "size"),
    [("square", "1:1", (1024, 1024)), ("landscape", "16:9", (1344, 768)), ("portrait", "9:16", (768, 1344))],
)
async def test_each_format_reaches_upstream_and_comes_back_as_a_file(
    harness: BotHarness, choice: str, ratio: str, size: tuple[int, int]
) -> None:
    payload = harness.payloads.slash("imagine", prompt="A lighthouse at dusk, oil painting", format=choice)
    conversation = await harness.run(payload)

    assert conversation.callback_types == [5], "a deferred 'thinking' response comes first"
    reply = conversation.last
    assert not reply.ephemeral
    assert len(reply.files) == 1
    assert Image.open(io.BytesIO(reply.files[0].data)).size == size
    embed = reply.embeds[0]
    assert embed["description"] == "A lighthouse at dusk, oil painting"
    assert embed["image"]["url"] == f"attachment://{reply.files[0].filename}"
    fields = {item["name"]: item["value"] for item in embed["fields"]}
    assert fields["Model"] == "google/gemini-2.5-flash-image"
    assert ratio in fields["Format"]
    assert fields["Cost"] == "$0.0039"

    (request,) = harness.openrouter.chat_requests()
    assert request.json["model"] == "google/gemini-2.5-flash-image"
    assert request.json["messages"] == [{"role": "user", "content": "A lighthouse at dusk, oil painting"}]
    assert request.json["modalities"] == ["image", "text"]
    assert request.json["image_config"] == {"aspect_ratio": ratio}
    assert "provider" not in request.json


async def test_default_format_is_square(harness: BotHarness) -> None:
    await harness.run(harness.payloads.slash("imagine", prompt="a cat"))
    (request,) = harness.openrouter.chat_requests()
    assert request.json["image_config"] == {"aspect_ratio": "1:1"}


async def test_mentions_in_prompts_cannot_ping(harness: BotHarness) -> None:
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="@everyone look <@&123> @here"))
    edits = [r for r in conversation.requests if r.method == "PATCH"]
    assert edits and all(r.json["allowed_mentions"] == {"parse": []} for r in edits)
    assert "@everyone" in conversation.last.embeds[0]["description"], "the prompt is shown as written"


async def test_longest_prompt_and_chatty_model_stay_within_embed_limits(harness: BotHarness) -> None:
    harness.openrouter.image_text = "word " * 2000
    prompt = ("a very long prompt " * 300)[:4000]
    conversation = await harness.run(harness.payloads.slash("imagine", prompt=prompt))
    embed = conversation.last.embeds[0]
    total = len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    (request,) = harness.openrouter.chat_requests()
    assert request.json["messages"][0]["content"] == prompt, "the prompt is sent as written"


def test_cap_embed_shortens_the_description_and_marks_the_cut() -> None:
    import discord

    from bot.rendering import cap_embed

    embed = discord.Embed(title="Imagine", description="word " * 800)
    for number in range(3):
        embed.add_field(name=f"field {number}", value="v" * 1000)
    capped = cap_embed(embed)
    assert len(capped) <= 6000 and capped.description is not None and capped.description.endswith("…")


async def test_a_result_after_the_token_expired_is_posted_in_the_channel(harness: BotHarness) -> None:
    payload = harness.payloads.slash("imagine", prompt="a slow painting")
    harness.discord.expired_tokens.add(payload["token"])
    await harness.run(payload)
    (posted,) = harness.discord.matching("POST", f"/channels/{harness.payloads.channel_id}/messages")
    member_id = str(harness.payloads.member.user_id)
    assert posted.json["content"].startswith(f"<@{member_id}>")
    mentions = posted.json["allowed_mentions"]
    assert mentions["parse"] == [] and [str(user) for user in mentions["users"]] == [member_id]
    assert posted.json["embeds"][0]["title"] == "Imagine"
    assert posted.files and posted.files[0].data.startswith(b"\x89PNG")


async def test_an_answer_with_more_than_ten_images_delivers_ten_and_counts_the_rest(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One answer gives at most MAX_IMAGES_PER_ANSWER (10) images; the result says how many were dropped."""
    assert harness.bot is not None
    client = harness.bot.openrouter
    real = client.generate_image
    results: list[ImageResult] = []

    async def recording(*args: Any, **kwargs: Any) -> ImageResult:
        results.append(await real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(client, "generate_image", recording)
    harness.openrouter.image_count = 12
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a contact sheet"))
    assert conversation.original is not None and len(conversation.original.files) == 10
    assert conversation.followups == [], "ten fit in one message"
    assert not conversation.original.ephemeral
    (result,) = results
    assert result.dropped == 2
    assert "2 more images that I left out" in conversation.original.text, "the reply says some were dropped"
    assert len(conversation.original.gallery) == 10 and harness.discord.refused == [], "ten fit one V2 message"
    assert len([c for c in conversation.original.custom_ids if c.startswith("job:upscale:")]) == 5, (
        "buttons for the first five: one row each")


#: Three results of 9 MiB each are over one message's 24 MiB: a grid, whose gallery shows only its own message's
#: files, must fit them into one message.
LARGE_RESULT_PADDING = 9 * 1024 * 1024


async def test_a_grid_over_one_messages_size_is_fitted_into_it_and_says_so(harness: BotHarness) -> None:
    from bot.rendering import MAX_UPLOAD_BYTES_PER_MESSAGE

    harness.payloads.filesize_limit = 25 * 1024 * 1024  # each file fits the server's limit untouched
    harness.openrouter.image_count = 3
    harness.openrouter.image_padding = LARGE_RESULT_PADDING
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="a contact sheet"))
    assert conversation.original is not None and len(conversation.original.files) == 3
    assert conversation.followups == [], "one message: the gallery can only show its own files"
    assert sum(len(sent.data) for sent in conversation.original.files) <= MAX_UPLOAD_BYTES_PER_MESSAGE
    assert "to fit Discord's" in conversation.original.text
    assert harness.discord.refused == []


async def test_a_grid_needs_no_follow_up_so_a_failing_follow_up_cannot_touch_it(harness: BotHarness) -> None:
    harness.payloads.filesize_limit = 25 * 1024 * 1024
    harness.openrouter.image_count = 3
    harness.openrouter.image_padding = LARGE_RESULT_PADDING
    harness.discord.followup_status = 400
    conversation = await harness.run(harness.payloads.slash("imagine", prompt="many"))
    assert conversation.original is not None and not conversation.original.deleted
    assert len(conversation.original.files) == 3 and conversation.original.components_v2


def test_files_are_batched_by_count_and_by_discords_request_size() -> None:
    from bot.jobs.service import MAX_BYTES_PER_MESSAGE, _batches, _FileSnapshot

    def snap(size: int) -> _FileSnapshot:
        return _FileSnapshot("a.png", b"x" * size, None, False)

    nine_mib = 9 * 1024 * 1024
    assert [len(batch) for batch in _batches([snap(nine_mib)] * 3)] == [2, 1]
    assert [len(batch) for batch in _batches([snap(10)] * 23)] == [10, 10, 3]
    assert _batches([]) == [[]]
    assert all(sum(len(f.data) for f in batch) <= MAX_BYTES_PER_MESSAGE for batch in _batches([snap(nine_mib)] * 5))
