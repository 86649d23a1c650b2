"""`/status` for any member: which commands are ready with which model, and whether the key works."""

from __future__ import annotations

from typing import Any

import discord

from bot.catalog import ModelCatalog
from bot.openrouter import ConnectionFailedError, KeyInfo, ModelInfo, ProviderInfo
from tests.fake_openrouter import DEFAULT_API_KEY
from tests.kit.conversation import Reply
from tests.kit.harness import BotHarness


async def status(harness: BotHarness, **options: Any) -> Reply:
    conversation = await harness.run(harness.payloads.slash("status", **options))
    reply = conversation.last
    assert reply.ephemeral
    return reply


def fields(reply: Reply) -> dict[str, str]:
    return {item["name"]: item["value"] for item in reply.embeds[0]["fields"]}


async def admin(harness: BotHarness, path: str, **values: Any) -> None:
    await harness.run(harness.payloads.slash(path, actor=harness.payloads.admin, **values))


def key_checks(harness: BotHarness) -> int:
    return sum(1 for request in harness.openrouter.requests if request.path == "/key")


async def test_a_member_sees_every_command_ready_and_the_key_working(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()
    reply = await status(harness)
    shown = fields(reply)
    assert shown["/imagine"] == "🟢 Ready\nModel: `google/gemini-2.5-flash-image`\nRoute: chat"
    assert shown["/edit"] == "🟢 Ready\nModel: `google/gemini-2.5-flash-image`\nRoute: chat"
    assert shown["/describe"] == "🟢 Ready\nModel: `google/gemini-2.5-flash`"
    assert shown["OpenRouter key"].startswith("✅ Works")
    assert "Every image command is ready" in reply.text
    assert reply.embeds[0]["color"] == discord.Colour.green().value
    assert DEFAULT_API_KEY not in reply.text
    assert harness.openrouter.key_info["label"] not in reply.text, "the label holds part of the key"


async def test_the_servers_configuration_shows(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()
    await admin(harness, "config model", operation="imagine", model="meta-llama/llama-3.1-8b-instruct")
    await admin(harness, "config model", operation="edit", model="acme/not-listed")
    await admin(harness, "config disable", operation="describe")
    reply = await status(harness)
    shown = fields(reply)
    assert shown["/imagine"] == "🔴 Model can't make images\nModel: `meta-llama/llama-3.1-8b-instruct`\nRoute: chat"
    assert shown["/edit"].startswith("🟡") and "`acme/not-listed`" in shown["/edit"]
    assert shown["/describe"].startswith("⚫ Disabled")
    assert "0 of 3 image commands are ready" in reply.text
    assert reply.embeds[0]["color"] == discord.Colour.orange().value


async def test_the_key_check_is_cached(harness: BotHarness) -> None:
    assert harness.bot is not None
    now = [0.0]
    harness.bot.catalog.clock = lambda: now[0]
    await status(harness)
    await status(harness)
    assert key_checks(harness) == 1
    now[0] += 301
    reply = await status(harness)
    assert key_checks(harness) == 2
    assert "checked just now" in fields(reply)["OpenRouter key"]


async def test_a_refused_key_is_reported_without_showing_it(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.wait_until_loaded()
    harness.openrouter.api_key = "sk-or-v1-a-different-key"  # the bot's key is no longer accepted
    reply = await status(harness)
    assert fields(reply)["OpenRouter key"].startswith("❌ Refused by OpenRouter (HTTP 401)")
    assert "OPENROUTER_API_KEY" in reply.text
    assert "no image command works" in reply.text
    assert DEFAULT_API_KEY not in reply.text


async def test_an_account_out_of_credit_is_reported(harness: BotHarness) -> None:
    harness.openrouter.key_info.update(limit=10.0, limit_remaining=0.0, usage=10.0)
    reply = await status(harness)
    assert "out of credits" in fields(reply)["OpenRouter key"]
    assert "out of credits, so no image command works" in reply.text


class DownSource:
    async def list_models(self, output_modalities: str = "all") -> list[ModelInfo]:
        raise ConnectionFailedError("down")

    async def list_providers(self) -> list[ProviderInfo]:
        raise ConnectionFailedError("down")

    async def key_info(self) -> KeyInfo:
        raise ConnectionFailedError("down")


async def test_openrouter_unreachable(harness: BotHarness) -> None:
    assert harness.bot is not None
    await harness.bot.catalog.aclose()
    harness.bot.catalog = ModelCatalog(DownSource())
    try:
        reply = await status(harness)
    finally:
        await harness.bot.catalog.aclose()
    shown = fields(reply)
    assert shown["OpenRouter key"].startswith("⚪ Could not be checked (ConnectionFailedError)")
    assert shown["/imagine"].startswith("⚪ Not checked")


async def test_status_in_direct_messages_says_to_use_a_server(harness: BotHarness) -> None:
    reply = await status(harness, in_guild=False)
    assert reply.ephemeral and "only in the channels of a server" in reply.text
    assert "/imagine" not in reply.text


async def test_status_stays_within_embed_limits(harness: BotHarness) -> None:
    for operation in ("imagine", "edit", "describe"):
        await admin(harness, "config model", operation=operation, model="acme/" + "m" * 190)
    reply = await status(harness)
    embed = reply.embeds[0]
    assert len(embed["fields"]) == 4
    assert all(len(item["value"]) <= 1024 and len(item["name"]) <= 256 for item in embed["fields"])
    assert len(embed.get("description", "")) <= 4096
