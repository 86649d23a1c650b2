"""The Bot: a thin `commands.Bot` that uses the long-lived services it is given and loads the cogs.

The storage, the fetcher, the OpenRouter client, the attachment pipeline and the model catalog are
opened by `bot.services.open_services` (in `bot/__main__.py`, or a test's harness) and handed to the
constructor; the bot exposes them as attributes (`bot.store`, `bot.openrouter`, ...) and never closes
them: the `async with` that opened them does, after the bot closed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.attachments import AttachmentPipeline
from bot.budgets import catalog_image_price, catalog_lookup
from bot.catalog import ModelCatalog
from bot.command_sync import sync_commands_if_changed
from bot.fetcher import GuardedFetcher
from bot.i18n.commands import CommandTranslator
from bot.jobs import JobService
from bot.openrouter import OpenRouterClient
from bot.operations import Operation
from bot.services import Services
from bot.settings import Settings
from bot.storage import Store
from bot.tree import ImageBotTree

__all__ = ["DEFAULT_EXTENSIONS", "ImageBot", "ShardedImageBot", "apply_discord_api_base", "create_bot"]

log = logging.getLogger(__name__)

#: Order matters: `cogs.usage` attaches `/config budget` to the group `cogs.config` defines.
DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "cogs.imagine", "cogs.edit", "cogs.describe", "cogs.config", "cogs.status",
    "cogs.result_buttons", "cogs.cancel", "cogs.jobs", "cogs.usage", "cogs.show",
)


def apply_discord_api_base(base_url: str | None) -> None:
    """Point every REST call discord.py makes (interaction callbacks included) at `base_url`."""
    if base_url:
        discord.http.Route.BASE = base_url


class ImageBot(commands.Bot):
    """The bot process: settings, the services it was given (storage, clients, catalog), the job queue, the cogs."""

    store: Store
    fetcher: GuardedFetcher
    openrouter: OpenRouterClient
    attachments: AttachmentPipeline
    catalog: ModelCatalog

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        sync_commands: bool = True,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            tree_cls=ImageBotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **self._shard_options(settings),
        )
        apply_discord_api_base(settings.discord_api_base)
        self.settings = settings
        # The cogs read the services from the bot; whoever opened them (`open_services`) closes them.
        self.store = services.store
        self.fetcher = services.fetcher
        self.openrouter = services.openrouter
        self.attachments = services.attachments
        self.catalog = services.catalog
        self._extensions = tuple(extensions)
        self._sync_commands = sync_commands
        self.jobs = JobService(
            max_concurrent=settings.max_concurrent_jobs,
            max_queued=settings.max_queued_jobs,
            max_per_member=settings.max_jobs_per_member,
        )

    @classmethod
    def _shard_options(cls, settings: Settings) -> dict[str, Any]:
        """Sharding arguments for discord.py's constructor: none for a plain Bot (see `ShardedImageBot`)."""
        return {}

    async def setup_hook(self) -> None:
        """Find the gateway, settle the jobs a dead process left, start the catalog, load the cogs, sync."""
        await self._discover_gateway()
        await self._interrupt_orphaned_jobs()
        self.jobs.bind(  # job history, ledger, budgets
            self.store, model_info=catalog_lookup(self), image_price=catalog_image_price(self))
        self.catalog.start()  # loads in the background: setup_hook must not wait on OpenRouter
        for extension in self._extensions:
            await self.load_extension(extension)
        # Before any sync or hash: the localized names and descriptions are part of what is synced.
        await self.tree.set_translator(CommandTranslator())
        if self._sync_commands:
            await sync_commands_if_changed(self, self.settings.dev_guild_id)

    async def _interrupt_orphaned_jobs(self) -> None:
        """Jobs a dead process left queued or running are marked interrupted, so `/jobs` stops showing them live."""
        interrupted = await self.store.jobs.interrupt_orphans(now=self.jobs.clock())
        if interrupted:
            log.warning("marked %d jobs interrupted: their process ended before they finished", len(interrupted))

    async def _discover_gateway(self) -> None:
        """Ask the REST API (or the proxy in front of it) where the gateway is, as sharded bots do.

        A plain `Bot` would connect to discord.py's built-in URL; asking `GET /gateway/bot` gives
        the same answer from Discord, and lets a stand-in or a regional setup answer for itself.
        """
        if not self.settings.discord_api_base:
            return
        try:
            _, url, _ = await self.http.get_bot_gateway()
        except (discord.HTTPException, discord.GatewayNotFound):
            log.warning("could not ask the REST API for the gateway URL; using discord.py's default")
            return
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def shutdown(self) -> None:
        """Stop taking jobs, let running ones finish within the grace period, then close."""
        log.info("shutting down: %d jobs in flight, grace %.0f s", self.jobs.active, self.settings.shutdown_grace_s)
        cancelled = await self.jobs.drain(self.settings.shutdown_grace_s)
        if cancelled:
            log.warning("cancelled %d jobs that did not finish within the grace period", cancelled)
        await self.close()

    async def close(self) -> None:
        """Disconnect and unload the cogs; the services stay open for their owner to close.

        The catalog's refresh is left to the catalog too: it is one bounded task that reads start as
        well as `setup_hook`, and `open_services` cancels it (`catalog.aclose`) before the client it
        uses closes.
        """
        await super().close()
        self.jobs.abandon_record_retries()  # before the store closes under them

    def default_model(self, operation: Operation) -> str:
        """The model an operation uses where a server chose none."""
        return {
            Operation.IMAGINE: self.settings.default_image_model,
            Operation.EDIT: self.settings.default_edit_model,
            Operation.DESCRIBE: self.settings.default_vision_model,
        }[operation]

    async def on_ready(self) -> None:
        """Say who we are once connected (no secrets, just the bot's name and guild count)."""
        log.info("connected as %s; in %d servers", self.user, len(self.guilds))


class ShardedImageBot(ImageBot, commands.AutoShardedBot):
    """The same bot as an `AutoShardedBot`, for `SHARDING=auto` or `SHARD_COUNT` / `SHARD_IDS`.

    A separate class rather than always sharding: a plain `Bot` is what small servers and the tests
    run (one connection to discord.py's default gateway, no `GET /gateway/bot`), and sharding only
    pays off past about 1,000 servers. Every behaviour is inherited from `ImageBot` unchanged.
    """

    @classmethod
    def _shard_options(cls, settings: Settings) -> dict[str, Any]:
        """`shard_count` (else Discord's recommendation) and this process's `shard_ids` (else all)."""
        options: dict[str, Any] = {}
        if settings.shard_count is not None:
            options["shard_count"] = settings.shard_count
        if settings.shard_ids is not None:
            options["shard_ids"] = list(settings.shard_ids)
        return options


def create_bot(settings: Settings, services: Services, **options: Any) -> ImageBot:
    """The bot class the settings ask for: `ShardedImageBot` when sharding is configured, else `ImageBot`."""
    bot_class = ShardedImageBot if settings.sharded else ImageBot
    return bot_class(settings, services, **options)
