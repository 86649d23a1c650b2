"""The Bot: a thin `commands.Bot` that owns the long-lived services and loads the cogs.

The storage, the OpenRouter client and the attachment pipeline are opened in `setup_hook` (before the
gateway connects, after login) and closed in `close()`, so one process has exactly one of each and
shutdown releases them.
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
from bot.budgets import catalog_lookup
from bot.catalog import ModelCatalog
from bot.command_sync import sync_commands_if_changed
from bot.fetcher import GuardedFetcher
from bot.jobs import JobService
from bot.openrouter import OpenRouterClient, build_http_client
from bot.openrouter.retry import RetryPolicy
from bot.operations import Operation
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
    """The bot process: settings, storage, the shared OpenRouter client and image downloads, and the cogs."""

    store: Store
    openrouter: OpenRouterClient
    attachments: AttachmentPipeline
    catalog: ModelCatalog

    def __init__(
        self,
        settings: Settings,
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
        """Open storage and the clients, load the cogs, sync commands if they changed."""
        await self._discover_gateway()
        self.store = await Store.open(self.settings.database_path)
        await self._interrupt_orphaned_jobs()
        self.jobs.bind(self.store, model_info=catalog_lookup(self))  # job history, ledger, budgets
        # Every URL the bot fetches (input images, result links) goes through this one fetcher: trusted
        # origins (Discord's media, the two configured APIs) or public addresses only, and no API key.
        self.fetcher = GuardedFetcher.open(
            discord_api_base=self.settings.discord_api_base, openrouter_base=self.settings.openrouter_base
        )
        self.openrouter = OpenRouterClient(
            build_http_client(
                timeout_s=self.settings.request_timeout_s,
                app_name=self.settings.app_name,
                app_url=self.settings.app_url,
            ),
            api_key=self.settings.openrouter_api_key.get_secret_value(),
            base_url=self.settings.openrouter_base,
            timeout_s=self.settings.request_timeout_s,
            retry=RetryPolicy(
                max_attempts=self.settings.retry_max_attempts,
                max_total_s=self.settings.retry_max_total_s,
                base_delay_s=self.settings.retry_base_delay_s,
                max_delay_s=self.settings.retry_max_delay_s,
            ),
            fetcher=self.fetcher,
        )
        # Input images for /edit, /describe, the menus and the result buttons, through the same fetcher.
        self.attachments = AttachmentPipeline(self.fetcher)
        self.catalog = ModelCatalog(self.openrouter)
        self.catalog.start()  # loads in the background: setup_hook must not wait on OpenRouter
        for extension in self._extensions:
            await self.load_extension(extension)
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
        """Disconnect, then release the clients and the database."""
        await super().close()
        self.jobs.abandon_record_retries()  # before the store closes under them
        if hasattr(self, "catalog"):
            await self.catalog.aclose()
        if hasattr(self, "attachments"):
            await self.attachments.aclose()
        if hasattr(self, "openrouter"):
            await self.openrouter.aclose()
        if hasattr(self, "fetcher"):
            await self.fetcher.aclose()
        if hasattr(self, "store"):
            await self.store.close()
            del self.store

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


def create_bot(settings: Settings, **options: Any) -> ImageBot:
    """The bot class the settings ask for: `ShardedImageBot` when sharding is configured, else `ImageBot`."""
    bot_class = ShardedImageBot if settings.sharded else ImageBot
    return bot_class(settings, **options)
