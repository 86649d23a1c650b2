"""The fault suite: every fault the stand-in OpenRouter can produce, against each of /imagine, /edit
and /describe. Every interaction must end in a reply (never "thinking…" forever, never silence), a
failure must be private, and the bot must then serve the next command normally.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.fake_openrouter import FakeOpenRouter, render_png
from tests.kit.fake_discord import FakeDiscord
from tests.kit.harness import BotHarness, make_settings
from tests.kit.payloads import PayloadFactory

PNG = render_png(64, 48, (200, 30, 30))

COMMANDS: dict[str, Callable[[PayloadFactory], dict]] = {
    "imagine": lambda p: p.slash("imagine", prompt="a red fox in snow"),
    "edit": lambda p: p.slash("edit", prompt="make it blue", image=p.attachment("fox.png", PNG)),
    "describe": lambda p: p.slash("describe", image=p.attachment("fox.png", PNG)),
}
STATUSES = [400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503, 524, 529]
FAULTS = ["error_in_200", "no_image", "broken_data_url", "not_an_image", "https_image", "b64_json",
          "content_parts", "huge_image", "hang", "reset", "bad_json"]


@pytest.fixture
async def suite_harness(tmp_path: Path, fake_discord: FakeDiscord,
                        fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    settings = make_settings(tmp_path / "bot.sqlite3", fake_discord, fake_openrouter,
                             request_timeout_s=0.5, retry_max_attempts=2)
    harness = BotHarness(settings, fake_discord, fake_openrouter)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def _ends_in_a_reply_then_recovers(harness: BotHarness, command: str) -> None:
    payload = COMMANDS[command](harness.payloads)
    conversation = await harness.run(payload)
    reply = conversation.last  # fails if the bot said nothing or left "thinking…"
    if reply.ephemeral:
        assert reply.embeds and reply.embeds[0].get("title"), "a failure says what happened"
        assert conversation.original is None or conversation.original.deleted or conversation.original is reply
    else:
        assert reply.embeds, "a public reply is a result"
    harness.openrouter.clear()  # whatever fault was queued is over
    again = await harness.run(COMMANDS[command](harness.payloads))
    assert not again.last.ephemeral and again.last.embeds, f"/{command} works normally after the fault"


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("command", list(COMMANDS))
async def test_every_status(suite_harness: BotHarness, command: str, status: int) -> None:
    suite_harness.openrouter.fail_next(status, times=5)
    await _ends_in_a_reply_then_recovers(suite_harness, command)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("command", list(COMMANDS))
async def test_every_malformed_answer(suite_harness: BotHarness, command: str, fault: str) -> None:
    suite_harness.openrouter.fault_next(fault, times=5)
    await _ends_in_a_reply_then_recovers(suite_harness, command)
