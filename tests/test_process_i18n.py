"""Localization in a real process (`python -m bot`): what it syncs, and how it answers in each shipped locale.

The check of issue 17 as it will be run: the commands the process registers carry names and
descriptions in every shipped locale, and commands driven with `locale` set to each of them are
answered in that language (and in English for a locale without a catalog).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.core import DEFAULT_EXTENSIONS
from bot.i18n import SHIPPED, using
from bot.messages import status, ui
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import make_settings
from tests.kit.payloads import PayloadFactory
from tests.kit.process import BotProcess, process_environment
from tests.kit.shadow import shadow_bot


async def _factory(tmp_path: Path, discord_api: FakeDiscord, openrouter: FakeOpenRouter) -> PayloadFactory:
    async with shadow_bot(make_settings(tmp_path / "shadow.sqlite3", discord_api, openrouter),
                          load=DEFAULT_EXTENSIONS) as shadow:
        return PayloadFactory(shadow.tree, discord_api)


async def _answer(discord_api: FakeDiscord, payload: dict[str, Any]) -> Conversation:
    await discord_api.dispatch("INTERACTION_CREATE", payload)

    def finished() -> bool:
        visible = Conversation(discord_api.for_token(payload["token"])).visible
        return bool(visible) and not visible[-1].loading

    await discord_api.wait_for(finished, timeout=30)
    return Conversation(discord_api.for_token(payload["token"]))


def _localized(item: dict[str, Any], key: str) -> set[str]:
    return set(item.get(f"{key}_localizations") or {})


async def test_a_real_process_registers_localized_commands_and_answers_in_each_locale(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await _factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    process = BotProcess(process_environment(fake_discord, fake_openrouter, tmp_path / "db" / "bot.sqlite3"),
                         cwd=tmp_path)
    await process.start()
    try:
        try:
            await asyncio.wait_for(fake_discord.identified.wait(), 30)
        except TimeoutError:
            pytest.fail(f"the bot never identified on the gateway; it printed:\n{process.text[-3000:]}")
        (synced,) = fake_discord.matching("PUT", "/commands")
        shipped = set(SHIPPED)
        for command in synced.json:
            assert _localized(command, "name") == shipped, command["name"]
            if command.get("type", 1) == 1:
                assert _localized(command, "description") == shipped, command["name"]
            for option in command.get("options", []):
                assert _localized(option, "name") == shipped, f"{command['name']} {option['name']}"

        for locale in sorted(SHIPPED):
            with factory.speaking(locale):
                reply = (await _answer(fake_discord, factory.slash("status"))).last
                result = (await _answer(fake_discord, factory.slash("imagine", prompt="a lake"))).last
            with using(locale):
                assert status.TITLE.text in reply.text and status.KEY_FIELD.text in reply.text, (locale, reply.text)
                assert ui.FIELD_COST.text in result.text and ui.REQUESTED_BY.format(name="") in result.text
                assert status.KEY_FIELD.text != "OpenRouter key" or ui.FIELD_COST.text != "Cost", locale
        with factory.speaking("ko"):
            reply = (await _answer(fake_discord, factory.slash("status"))).last
        assert "OpenRouter key" in reply.text, "a locale without a catalog reads English"
    finally:
        await process.kill()
    assert "Traceback" not in process.text
