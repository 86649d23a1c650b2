"""The long-lived services: opened together by `open_services`, closed together by it, never by the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket

from bot import services as services_module
from bot.attachments import AttachmentPipeline
from bot.catalog import ModelCatalog
from bot.core import ImageBot
from bot.fetcher import GuardedFetcher
from bot.openrouter import OpenRouterClient
from bot.preflight import run_checks
from bot.services import Services, open_services
from bot.settings import Settings
from bot.storage import DatabaseError, Store
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.harness import ORIGINAL_ROUTE_BASE, BotHarness, make_settings

#: The order `open_services` closes them in: the reverse of the order it opens them in.
CLOSE_ORDER = ["catalog", "attachments", "openrouter", "fetcher", "store"]

CLOSERS: dict[str, tuple[type, str]] = {
    "store": (Store, "close"),
    "fetcher": (GuardedFetcher, "aclose"),
    "openrouter": (OpenRouterClient, "aclose"),
    "attachments": (AttachmentPipeline, "aclose"),
    "catalog": (ModelCatalog, "aclose"),
    "bot": (ImageBot, "close"),
}


@pytest.fixture
def settings(database_path: Path, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter) -> Settings:
    return make_settings(database_path, fake_discord, fake_openrouter)


@pytest.fixture(autouse=True)
def restore_discord_globals() -> Iterator[None]:
    """Building and logging in a bot moves discord.py's REST base and gateway URL: put them back."""
    gateway = DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = ORIGINAL_ROUTE_BASE
    DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of what was closed, in order (each close still runs for real)."""
    names: list[str] = []

    def recording(name: str, real: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def close(self: Any) -> None:
            names.append(name)
            await real(self)

        return close

    for name, (owner, method) in CLOSERS.items():
        monkeypatch.setattr(owner, method, recording(name, getattr(owner, method)))
    return names


async def _assert_open(services: Services) -> None:
    assert await services.store.database.schema_version() > 0
    assert not services.fetcher.closed
    assert not services.attachments.closed
    assert not services.openrouter._http.is_closed


async def _assert_closed(services: Services) -> None:
    assert services.fetcher.closed
    assert services.attachments.closed
    assert services.openrouter._http.is_closed
    with pytest.raises(ValueError, match="no active connection"):  # aiosqlite, once closed
        await services.store.database.schema_version()


async def test_open_services_wires_one_fetcher_and_closes_everything_in_reverse_order(
    settings: Settings, closed: list[str]
) -> None:
    async with open_services(settings) as services:
        await _assert_open(services)
        assert services.attachments.fetcher is services.fetcher
        assert services.openrouter.fetcher is services.fetcher
        assert closed == []
    assert closed == CLOSE_ORDER
    await _assert_closed(services)


async def test_an_exception_in_the_block_still_closes_everything(settings: Settings, closed: list[str]) -> None:
    with pytest.raises(RuntimeError, match="the bot crashed"):
        async with open_services(settings) as services:
            raise RuntimeError("the bot crashed")
    assert closed == CLOSE_ORDER
    await _assert_closed(services)


@pytest.mark.parametrize(
    ("failing", "already_open"),
    [
        ("OpenRouterClient", ["fetcher", "store"]),
        ("AttachmentPipeline", ["openrouter", "fetcher", "store"]),
        ("ModelCatalog", ["attachments", "openrouter", "fetcher", "store"]),
    ],
)
async def test_when_opening_a_later_service_fails_the_earlier_ones_are_closed(
    settings: Settings, closed: list[str], monkeypatch: pytest.MonkeyPatch, failing: str, already_open: list[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{failing} broke")

    monkeypatch.setattr(services_module, failing, broken)
    with pytest.raises(RuntimeError, match=f"{failing} broke"):
        async with open_services(settings):
            pytest.fail("the block must not run")
    assert closed == already_open


async def test_an_unusable_database_fails_first_and_leaves_nothing_open(
    settings: Settings, closed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.database_path.parent.mkdir(parents=True)
    settings.database_path.write_bytes(b"garbage, not sqlite " * 100)
    built: list[str] = []
    real_open = GuardedFetcher.open

    def recording_open(**kwargs: Any) -> GuardedFetcher:
        built.append("fetcher")
        return real_open(**kwargs)

    monkeypatch.setattr(GuardedFetcher, "open", recording_open)
    with pytest.raises(DatabaseError, match="corrupt or not a SQLite database"):
        async with open_services(settings):
            pytest.fail("the block must not run")
    assert built == [] and closed == []


async def test_the_bot_uses_the_services_and_leaves_closing_them_to_their_owner(
    settings: Settings, closed: list[str]
) -> None:
    async with open_services(settings) as services:
        bot = ImageBot(settings, services, extensions=("cogs.imagine",), sync_commands=False)
        assert (bot.store, bot.fetcher, bot.openrouter, bot.attachments, bot.catalog) == (
            services.store, services.fetcher, services.openrouter, services.attachments, services.catalog)
        await bot.login(BOT_TOKEN)  # setup_hook: orphaned jobs, the catalog's load, the cogs
        await bot.close()
        await bot.close()  # twice, as `shutdown()` and then `async with bot` do
        assert closed == ["bot", "bot"]
        await _assert_open(services)
    assert closed == ["bot", "bot", *CLOSE_ORDER]


async def test_the_harness_closes_the_bot_then_its_services_and_restarts_on_fresh_ones(
    settings: Settings, fake_discord: FakeDiscord, fake_openrouter: FakeOpenRouter, closed: list[str]
) -> None:
    harness = BotHarness(settings, fake_discord, fake_openrouter, extensions=("cogs.imagine",))
    await harness.start()
    first = harness.services
    assert first is not None
    await harness.restart()
    second = harness.services
    assert second is not None and second is not first
    assert closed == ["bot", *CLOSE_ORDER]
    await _assert_closed(first)
    await _assert_open(second)
    await harness.stop()
    assert harness.services is None and harness.bot is None
    assert closed == ["bot", *CLOSE_ORDER] * 2
    await _assert_closed(second)


async def test_check_opens_only_the_clients_and_closes_them(
    settings: Settings, closed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_store(path: Path) -> Any:
        raise AssertionError("`check` must not open the store: that creates and migrates the database")

    monkeypatch.setattr(Store, "open", no_store)
    report = await run_checks(settings)
    assert report.ok, report.table()
    assert closed == ["openrouter", "fetcher"]
    assert not settings.database_path.exists()
