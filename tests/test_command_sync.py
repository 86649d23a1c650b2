"""Commands are synced when their schema changed, not on every start; the dev guild gets its own copy."""

from __future__ import annotations

from pathlib import Path

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings


def _global_syncs(discord_api: FakeDiscord) -> list:
    return [r for r in discord_api.matching("PUT", "/commands") if "/guilds/" not in r.path]


async def test_sync_only_when_commands_change(database_path: Path, fake_discord: FakeDiscord,
                                              fake_openrouter: FakeOpenRouter) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter)
    harness = BotHarness(settings, fake_discord, fake_openrouter, extensions=("cogs.imagine",))
    await harness.start()
    try:
        (first,) = _global_syncs(fake_discord)
        assert [command["name"] for command in first.json] == ["imagine"]
        options = {option["name"]: option for option in first.json[0]["options"]}
        assert options["prompt"]["max_length"] == 4000 and options["prompt"]["required"]
        values = [choice["value"] for choice in options["format"]["choices"]]
        assert values[:3] == ["square", "landscape", "portrait"], "the three classic shapes stay first"
        assert {"photo-landscape", "photo-portrait", "classic-landscape", "classic-portrait", "cinema"} <= set(values)

        await harness.restart()
        assert len(_global_syncs(fake_discord)) == 1, "unchanged commands are not synced again"

        harness.extensions = ()
        await harness.restart()
        assert len(_global_syncs(fake_discord)) == 2, "a changed command set is synced"
        assert _global_syncs(fake_discord)[-1].json == []
    finally:
        await harness.stop()


async def test_dev_guild_gets_commands_too(database_path: Path, fake_discord: FakeDiscord,
                                           fake_openrouter: FakeOpenRouter) -> None:
    settings = make_settings(database_path, fake_discord, fake_openrouter, dev_guild_id=4242)
    harness = BotHarness(settings, fake_discord, fake_openrouter, extensions=("cogs.imagine",))
    await harness.start()
    try:
        guild_syncs = fake_discord.matching("PUT", "/guilds/4242/commands")
        assert len(guild_syncs) == 1
        assert [command["name"] for command in guild_syncs[0].json] == ["imagine"]
    finally:
        await harness.stop()
