"""The Images API as a real process (`python -m bot`): model picks from both catalogs, every option,
streamed previews, parameter refusals, the 502 rule, and every request the bot sends to `/images`
validated against OpenRouter's published `ImageGenerationRequest`."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation, Reply
from tests.kit.fake_discord import FakeDiscord
from tests.kit.process import BotProcess, answer, payload_factory, process_environment, settled
from tests.test_images_route import validate_image_request

GPT_IMAGE = "openai/gpt-image-2"
SEEDREAM = "bytedance-seed/seedream-4.5"
QWEN = "qwen/qwen-image-3"


async def _answer(fake_discord: FakeDiscord, payload: dict[str, Any]) -> Reply:
    """The member's final reply: a progress message (queue, preview) is not one."""
    def final(conversation: Conversation) -> bool:
        if not settled(conversation):
            return False
        last = conversation.visible[-1]
        return not last.content and not any(sent.filename.startswith("preview.") for sent in last.files)

    return (await answer(fake_discord, payload, final)).last


async def test_the_images_api_end_to_end_in_a_real_process(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    env = process_environment(fake_discord, fake_openrouter, tmp_path / "db" / "bot.sqlite3", LOG_LEVEL="WARNING")
    process = BotProcess(env, cwd=tmp_path)
    await process.start()
    admin = factory.admin
    try:
        try:
            await asyncio.wait_for(fake_discord.identified.wait(), 30)
        except TimeoutError:
            pytest.fail(f"the bot never identified; it printed:\n{process.text[-3000:]}")

        # A model only the Images API serves, picked from the autocomplete that lists both catalogs.
        await fake_discord.dispatch("INTERACTION_CREATE", picking := factory.autocomplete(
            "config model", "model", actor=admin, operation="imagine", model="gpt-image"))
        await fake_discord.wait_for(
            lambda: Conversation(fake_discord.for_token(picking["token"])).autocomplete_choices is not None)
        choices = Conversation(fake_discord.for_token(picking["token"])).autocomplete_choices or []
        assert GPT_IMAGE in [choice["value"] for choice in choices]
        await _answer(fake_discord, factory.slash("config model", actor=admin, operation="imagine", model=GPT_IMAGE))

        # Every option; a streamed preview; the unsupported seed named, not silently dropped.
        streamed = factory.slash("imagine", prompt="a red panda astronaut", format="classic-landscape",
                                 quality="high", seed=5, count=2)
        reply = await _answer(fake_discord, streamed)
        assert len(reply.files) == 2 and f"seed: not supported by {GPT_IMAGE}" in reply.text
        previews = [r for r in fake_discord.for_token(streamed["token"])
                    if r.method == "PATCH" and any(f.filename.startswith("preview.") for f in r.files)]
        assert previews, "the partial image reached the progress message"

        await _answer(fake_discord, factory.slash("config model", actor=admin, operation="imagine", model=SEEDREAM))
        seeded = await _answer(fake_discord, factory.slash("imagine", prompt="a fox", seed=77, resolution="4K",
                                                           count=3))
        assert len(seeded.files) == 3 and seeded.components_v2 and "**Seed** `77`" in seeded.text

        await _answer(fake_discord, factory.slash("config model", actor=admin, operation="imagine", model=QWEN))
        split = await _answer(fake_discord, factory.slash("imagine", prompt="a lantern", count=2))
        assert len(split.files) == 2, "a model that makes one image per call got two calls"

        # Refused before anything is spent; a 502 that was not charged.
        await _answer(fake_discord, factory.slash("config count", actor=admin, operation="imagine", maximum=2))
        before = len(fake_openrouter.image_requests())
        too_many = await _answer(fake_discord, factory.slash("imagine", prompt="a crowd", count=4))
        assert too_many.ephemeral and len(fake_openrouter.image_requests()) == before
        fake_openrouter.fail_next(502, route="images", times=5)
        failed = await _answer(fake_discord, factory.slash("imagine", prompt="a storm"))
        assert failed.ephemeral and "not charged" in failed.text

        for request in fake_openrouter.image_requests():
            assert validate_image_request(request.json) == [], request.json
        process.signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        await process.kill()
