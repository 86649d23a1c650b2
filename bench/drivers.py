"""The bots under test, started against the stand-ins, and the one way interactions reach them.

`Dispatcher` hands a payload to `ConnectionState.parse_interaction_create` — where discord.py puts a
gateway INTERACTION_CREATE — noting the moment, and catches the tasks that call starts (the command
tree's invoker) through a task factory, so a benchmark can wait for exactly its own interactions
without scanning every task of the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from bench.minimal_bot import MinimalBot
from bench.standins import Standins
from bot.operations import Operation
from tests.kit.fake_discord import BOT_TOKEN
from tests.kit.harness import ORIGINAL_ROUTE_BASE, BotHarness, make_settings
from tests.kit.payloads import PayloadFactory

__all__ = ["Dispatcher", "UnderTest", "bot_under_test"]


class Dispatcher:
    """Delivers interactions as the gateway would and remembers when each was delivered."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.sent_at: dict[str, float] = {}
        self._caught: list[asyncio.Task[Any]] | None = None
        self._loop = asyncio.get_running_loop()
        self._previous = self._loop.get_task_factory()
        self._loop.set_task_factory(self._factory)  # type: ignore[arg-type]

    def _factory(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any],
                 **kwargs: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kwargs)
        if self._caught is not None:
            self._caught.append(task)
        return task

    def dispatch(self, payload: dict[str, Any]) -> list[asyncio.Task[Any]]:
        """Deliver one interaction now; returns the tasks it started."""
        self._caught = []
        self.sent_at[payload["token"]] = time.perf_counter()
        try:
            self.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
            return self._caught
        finally:
            self._caught = None

    async def run(self, payload: dict[str, Any], timeout: float = 120.0) -> None:
        """Deliver one interaction and wait until the bot is done with it."""
        tasks = self.dispatch(payload)
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)

    def close(self) -> None:
        """Give the loop its task factory back."""
        self._loop.set_task_factory(self._previous)


@dataclass
class UnderTest:
    """A logged-in bot (the project's or the minimal one) with its payload factory and dispatcher."""

    kind: str
    client: discord.Client
    payloads: PayloadFactory
    dispatcher: Dispatcher
    #: The configuration read a command does first, for the configuration scenario.
    config_read: Callable[[int], Awaitable[object]]
    #: Forget cached configuration (project only), for cold reads.
    forget_config: Callable[[], None] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def bot_under_test(kind: str, standins: Standins, workdir: Path, *, max_concurrent: int | None = None,
                         max_queued: int | None = None, minimal_gate: int | None = None) -> AsyncIterator[UnderTest]:
    """The project's `ImageBot` (kind "project") or `MinimalBot` (kind "minimal"), logged in and ready."""
    if kind == "project":
        overrides: dict[str, Any] = {"request_timeout_s": 60}
        if max_concurrent is not None:
            overrides["max_concurrent_jobs"] = max_concurrent
        if max_queued is not None:
            overrides["max_queued_jobs"] = max_queued
        settings = make_settings(workdir / "bot.sqlite3", standins.discord_proxy, standins.openrouter_proxy,
                                 **overrides)
        harness = BotHarness(settings, standins.discord_proxy, standins.openrouter_proxy)
        bot = await harness.start()
        await bot.catalog.wait_until_loaded(10.0)
        store = bot.store

        async def read(guild_id: int) -> object:
            return await store.guild_config.get(guild_id, Operation.IMAGINE)

        dispatcher = Dispatcher(bot)
        try:
            yield UnderTest("project", bot, harness.payloads, dispatcher, read, store.guild_config.forget_cache,
                            extras={"bot": bot})
        finally:
            dispatcher.close()
            await harness.stop()
    elif kind == "minimal":
        discord.http.Route.BASE = standins.discord_api_base
        minimal = MinimalBot(openrouter_base=standins.openrouter_base, api_key=standins.api_key,
                             max_concurrent=minimal_gate)
        try:
            await minimal.login(BOT_TOKEN)
            factory = PayloadFactory(minimal.tree, standins.discord_proxy)
            minimal._connection._add_guild_from_data(factory.guild_dict())  # type: ignore[arg-type]
            dispatcher = Dispatcher(minimal)
            try:
                yield UnderTest("minimal", minimal, factory, dispatcher, minimal.guild_model)
            finally:
                dispatcher.close()
        finally:
            await minimal.close()
            discord.http.Route.BASE = ORIGINAL_ROUTE_BASE
    else:
        raise ValueError(f"unknown bot kind {kind!r}")
