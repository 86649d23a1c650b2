"""Bots that tests build without running them: for their command tree, or to look at the bot itself.

A bot is built on its services (`ImageBot(settings, services)`), so `shadow_bot` opens a set of its own
with `open_services`, as `python -m bot` and `BotHarness` do, and closes them when the block ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import discord

from bot.core import ImageBot, create_bot
from bot.services import open_services
from bot.settings import Settings
from tests.kit.harness import ORIGINAL_ROUTE_BASE

__all__ = ["shadow_bot"]


@contextlib.asynccontextmanager
async def shadow_bot(
    settings: Settings,
    *,
    load: Sequence[str] = (),
    build: Callable[..., ImageBot] = create_bot,
    **options: Any,
) -> AsyncIterator[ImageBot]:
    """`build(settings, services, **options)` on services of its own, with the extensions `load` names loaded.

    `load` fills the tree of a bot that never logs in (to build payloads from); `options` go to the
    constructor (`extensions=`, `sync_commands=`) for a bot the test logs in itself, and closes inside
    the block. On exit the services are closed and discord.py's REST base is put back (the constructor
    points it at the settings' Discord). The bot is not closed here: it never connected, and closing it
    would unload its cogs, and with them the commands a `PayloadFactory` built in the block goes on reading.
    """
    try:
        async with open_services(settings) as services:
            bot = build(settings, services, **options)
            for extension in load:
                await bot.load_extension(extension)
            yield bot
    finally:
        discord.http.Route.BASE = ORIGINAL_ROUTE_BASE
