"""A real `ImageBot` logged in against the stand-ins, and the one way tests talk to it.

`start()` opens the bot's services with `open_services`, as `python -m bot` does, and hands them to
the bot; `stop()` closes the bot, then the services.

`run(payload)` hands the payload to discord.py's gateway entry point
(`ConnectionState.parse_interaction_create`), exactly where a real INTERACTION_CREATE goes, then
waits for the tasks that dispatch created (tree invoker, view and modal dispatch) to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord

from bot.core import DEFAULT_EXTENSIONS, ImageBot
from bot.services import Services, open_services
from bot.settings import Settings
from tests.fake_openrouter import FakeOpenRouter
from tests.kit.conversation import Conversation
from tests.kit.fake_discord import BOT_TOKEN, FakeDiscord
from tests.kit.payloads import PayloadFactory

ORIGINAL_ROUTE_BASE = discord.http.Route.BASE


def make_settings(database_path: Path, discord_api: FakeDiscord, openrouter: FakeOpenRouter,
                  **overrides: Any) -> Settings:
    """Settings pointing at the stand-ins, ignoring any `.env` on the machine."""
    values: dict[str, Any] = {
        "discord_token": BOT_TOKEN,
        "openrouter_api_key": openrouter.api_key,
        "openrouter_base_url": openrouter.base_url,
        "discord_api_base_url": discord_api.api_base,
        "database_path": database_path,
        "request_timeout_s": 10,
        # Retries happen at once in tests: the policy's timing is unit-tested on its own.
        "retry_base_delay_s": 0,
        "retry_max_delay_s": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class BotHarness:
    """One bot process's worth of state, restartable on the same database."""

    def __init__(self, settings: Settings, discord_api: FakeDiscord, openrouter: FakeOpenRouter,
                 extensions: Sequence[str] = DEFAULT_EXTENSIONS, *, database_url: str | None = None) -> None:
        self.settings = settings
        #: A database URL that wins over the settings' (`open_services(database_url=)`): PostgreSQL tests.
        self.database_url = database_url
        self.discord = discord_api
        self.openrouter = openrouter
        self.extensions = tuple(extensions)
        self.bot: ImageBot | None = None
        #: The running bot's services (None while stopped); closed by `stop()` after the bot.
        self.services: Services | None = None
        self.factory: PayloadFactory | None = None
        self._services_stack = contextlib.AsyncExitStack()

    @property
    def payloads(self) -> PayloadFactory:
        """The payload factory bound to the running bot's tree."""
        assert self.factory is not None, "start() first"
        return self.factory

    async def start(self) -> ImageBot:
        """Open the services, build a bot on them, log in (runs setup_hook: cogs, sync) and cache the guild."""
        services = await self._services_stack.enter_async_context(
            open_services(self.settings, database_url=self.database_url)
        )
        self.services = services
        bot = ImageBot(self.settings, services, extensions=self.extensions)
        self.bot = bot
        try:
            await bot.login(BOT_TOKEN)
        except BaseException:
            await self.stop()
            raise
        if self.factory is None:
            self.factory = PayloadFactory(bot.tree, self.discord)
        else:
            self.factory.tree = bot.tree
        bot._connection._add_guild_from_data(self.factory.guild_dict())  # type: ignore[arg-type]
        return bot

    async def stop(self) -> None:
        """Close the bot, then its services (the store, the clients, the catalog)."""
        try:
            if self.bot is not None:
                await self.bot.close()
                self.bot = None
        finally:
            self.services = None
            stack, self._services_stack = self._services_stack, contextlib.AsyncExitStack()
            try:
                await stack.aclose()
            finally:
                discord.http.Route.BASE = ORIGINAL_ROUTE_BASE

    async def restart(self) -> ImageBot:
        """A new bot instance on the same database, as after a process restart."""
        await self.stop()
        return await self.start()

    def dispatch(self, *payloads: dict[str, Any]) -> set[asyncio.Task[Any]]:
        """Deliver interactions as the gateway would, without waiting; returns the tasks they started."""
        assert self.bot is not None, "start() first"
        before = asyncio.all_tasks()
        for payload in payloads:
            self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        return asyncio.all_tasks() - before

    async def run(self, payload: dict[str, Any], timeout: float = 30.0) -> Conversation:
        """Deliver an interaction as the gateway would and wait until the bot finished with it."""
        started = self.dispatch(payload)
        if started:
            await asyncio.wait_for(asyncio.gather(*started), timeout)
        return self.conversation(payload)

    def conversation(self, payload: dict[str, Any]) -> Conversation:
        """What the bot has sent so far about this interaction."""
        return Conversation(self.discord.for_token(payload["token"]))
