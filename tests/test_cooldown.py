"""Per-member cooldowns per operation, set by admins with `/config cooldown`."""

from __future__ import annotations

from bot.operations import Operation
from tests.kit.harness import BotHarness
from tests.kit.payloads import Actor


async def test_cooldown_refuses_a_second_use_privately_and_sends_nothing_upstream(harness: BotHarness) -> None:
    saved = (await harness.run(harness.payloads.slash("config cooldown", actor=harness.payloads.admin,
                                                      operation="imagine", seconds=120))).last
    assert saved.ephemeral and "120 s per member" in saved.text

    first = await harness.run(harness.payloads.slash("imagine", prompt="one"))
    assert first.last.files
    second = await harness.run(harness.payloads.slash("imagine", prompt="two"))
    assert second.callback_types == [4], "refused before any public message"
    assert second.last.ephemeral and "again in" in second.last.text and "once every 120 s" in second.last.text
    assert len(harness.openrouter.chat_requests()) == 1

    other = await harness.run(harness.payloads.slash("imagine", Actor("someone-else"), prompt="three"))
    assert other.last.files, "the cooldown is per member"
    described = await harness.run(harness.payloads.slash(
        "describe", image=harness.payloads.attachment("a.png", first.last.files[0].data)))
    assert not described.last.ephemeral, "and per operation"


async def test_cooldown_expires(harness: BotHarness) -> None:
    await harness.run(harness.payloads.slash("config cooldown", actor=harness.payloads.admin,
                                             operation="imagine", seconds=30))
    assert harness.bot is not None
    now = [1000.0]
    harness.bot.jobs.cooldowns._clock = lambda: now[0]
    assert (await harness.run(harness.payloads.slash("imagine", prompt="one"))).last.files
    now[0] += 29
    assert (await harness.run(harness.payloads.slash("imagine", prompt="two"))).last.ephemeral
    now[0] += 2
    assert (await harness.run(harness.payloads.slash("imagine", prompt="three"))).last.files


async def test_cooldown_shows_in_config_and_history_and_zero_turns_it_off(harness: BotHarness) -> None:
    admin = harness.payloads.admin
    await harness.run(harness.payloads.slash("config cooldown", actor=admin, operation="edit", seconds=45))
    shown = (await harness.run(harness.payloads.slash("config show", actor=admin))).last
    assert "Cooldown: 45 s per member" in shown.text
    await harness.run(harness.payloads.slash("config cooldown", actor=admin, operation="edit", seconds=0))
    history = (await harness.run(harness.payloads.slash("config history", actor=admin))).last
    assert "cooldown" in history.text and "45 s" in history.text
    refused = (await harness.run(harness.payloads.slash("config cooldown", operation="edit", seconds=5))).last
    assert refused.ephemeral and "Manage Server" in refused.text
    assert harness.bot is not None
    config = await harness.bot.store.guild_config.get(harness.payloads.guild_id, Operation.EDIT)
    assert config.cooldown_s == 0
