"""Localization in a real process (`python -m bot`): what it syncs, and how it answers in each shipped locale.

The check of issue 17 as it will be run: the commands the process registers carry names and
descriptions in every shipped locale, and commands driven with `locale` set to each of them are
answered in that language (and in English for a locale without a catalog).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.i18n import SHIPPED, using
from bot.messages import status, ui
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
from tests.kit.process import answer, payload_factory, start_identified


def _localized(item: dict[str, Any], key: str) -> set[str]:
    return set(item.get(f"{key}_localizations") or {})


async def test_a_real_process_registers_localized_commands_and_answers_in_each_locale(
    tmp_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter
) -> None:
    factory = await payload_factory(tmp_path, fake_discord, fake_openrouter)
    fake_discord.guilds = [factory.guild_dict()]
    process = await start_identified(fake_discord, fake_openrouter, tmp_path / "db" / "bot.sqlite3", tmp_path,
                                     LOG_LEVEL="DEBUG")
    try:
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
                reply = (await answer(fake_discord, factory.slash("status"))).last
                result = (await answer(fake_discord, factory.slash("imagine", prompt="a lake"))).last
            with using(locale):
                assert status.TITLE.text in reply.text and status.KEY_FIELD.text in reply.text, (locale, reply.text)
                assert ui.FIELD_COST.text in result.text and ui.REQUESTED_BY.format(name="") in result.text
                assert status.KEY_FIELD.text != "OpenRouter key" or ui.FIELD_COST.text != "Cost", locale
        with factory.speaking("ko"):
            reply = (await answer(fake_discord, factory.slash("status"))).last
        assert "OpenRouter key" in reply.text, "a locale without a catalog reads English"
    finally:
        await process.kill()
    assert "Traceback" not in process.text
