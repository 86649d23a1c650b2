"""Fixtures: the two stand-in servers and a logged-in bot wired to them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import FakeDiscord
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
