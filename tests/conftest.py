"""Fixtures: the two stand-in servers and a logged-in bot wired to them."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fake_openrouter import DEFAULT_API_KEY, FakeOpenRouter
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.harness import BotHarness, make_settings


@pytest.fixture
async def fake_openrouter() -> AsyncIterator[FakeOpenRouter]:
    async with FakeOpenRouter() as server:
        yield server


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def harness(database_path: Path, fake_discord: FakeDiscord,
                  fake_openrouter: FakeOpenRouter) -> AsyncIterator[BotHarness]:
    settings = make_settings(database_path, fake_discord, fake_openrouter)
    kit = BotHarness(settings, fake_discord, fake_openrouter)
    await kit.start()
    try:
        yield kit
    finally:
        await kit.stop()


SECRETS = (BOT_TOKEN, DEFAULT_API_KEY)


@pytest.fixture(autouse=True)
def discord_accepts_every_message(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every message any test's bot sent passed the stand-in's checks (Discord's, Components V2 included).

    A test that sends malformed messages on purpose says so with `@pytest.mark.refusals_expected`.
    """
    yield
    if request.node.get_closest_marker("refusals_expected") is not None:
        return
    refused = [(sent.method, sent.path, answer["errors"]) for discord_api in FakeDiscord.instances
               for sent, answer in discord_api.refused]
    assert not refused, f"Discord would have refused these messages: {refused}"


@pytest.fixture(autouse=True)
def no_secret_escapes(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Search everything a test captured (log records, what reached Discord) for the test secrets."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="aiosqlite")
    FakeDiscord.instances.clear()
    yield
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    for secret in SECRETS:
        assert secret not in logged, "a secret reached the log"
    for discord_api in FakeDiscord.instances:
        for sent in discord_api.requests:
            shown = json.dumps(sent.json) if sent.json is not None else ""
            for secret in SECRETS:
                assert secret not in shown, f"a secret was sent to Discord in {sent.method} {sent.path}"
