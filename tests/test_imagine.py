"""`/imagine` end to end: real payloads through the real tree, a stand-in OpenRouter over a socket."""

from __future__ import annotations

import io

import pytest
from PIL import Image

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
