"""Syncing slash commands only when they changed.

Discord rate-limits command sync and caps command creations per day, so the bot hashes the exact
JSON it would upload and syncs only when the hash differs from the one stored after the last
successful sync (per application and per target: global, or one dev guild).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import remember_command_ids

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["command_payload", "command_schema_hash", "sync_commands_if_changed"]

log = logging.getLogger(__name__)


async def command_payload(bot: ImageBot, guild: discord.abc.Snowflake | None = None) -> list[dict[str, Any]]:
    """The command payloads a sync would send, localizations included, as `CommandTree.sync` builds them."""
    tree = bot.tree
    commands = tree._get_all_commands(guild=guild)
    translator = tree.translator
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


async def command_schema_hash(bot: ImageBot, guild: discord.abc.Snowflake | None = None) -> str:
    """A stable hash of the command payloads that a sync would send (a new translation changes it too)."""
    payload = await command_payload(bot, guild)
    payload.sort(key=lambda item: (item.get("type", 1), item["name"]))
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


async def sync_commands_if_changed(bot: ImageBot, dev_guild_id: int | None) -> list[str]:
    """Sync globally (and to the dev guild) where the schema changed; returns what was synced."""
    app_id = bot.application_id
    targets: list[discord.Object | None] = [None]
    if dev_guild_id:
        guild = discord.Object(id=dev_guild_id)
        bot.tree.copy_global_to(guild=guild)
        targets.append(guild)
    synced = []
    for target in targets:
        name = "global" if target is None else f"guild:{target.id}"
        key = f"command_hash:{app_id}:{name}"
        digest = await command_schema_hash(bot, target)
        if await bot.store.state.get(key) == digest:
            log.info("commands unchanged since the last sync (%s); not syncing", name)
            if target is None:
                await _look_up_ids(bot)
            continue
        commands = await bot.tree.sync(guild=target)
        if target is None:
            remember_command_ids({command.name: command.id for command in commands})
        await bot.store.state.set(key, digest)
        log.info("synced %d commands (%s)", len(commands), name)
        synced.append(name)
    return synced


async def _look_up_ids(bot: ImageBot) -> None:
    """The global commands' ids without a sync (one cheap GET), so texts can mention the commands."""
    try:
        commands = await bot.tree.fetch_commands()
    except discord.HTTPException:
        log.warning("could not look up the commands' ids; texts name commands without mentions")
        return
    remember_command_ids({command.name: command.id for command in commands})
