"""Where the bot may be used: in servers that installed it, never in DMs or through a user install.

Every limit a server admin sets (model, budget, cooldown, enable/disable, max references) hangs off a
server. An interaction without one, a DM with the bot or a group DM, or one authorised only by a
member's own install of the app, has none of those limits, so anyone sharing a server with the bot
could spend the operator's key without bounds. Two layers keep that from happening:

- Registration: every top-level command, group and context menu is published with
  `contexts=[guild]` and `integration_types=[guild install]` (`restrict_to_servers`, applied by the
  tree to whatever is added to it, so a new command cannot forget it). Discord then hides the
  commands elsewhere.
- Run time: `require_server` refuses any interaction without a server that installed the bot. The
  tree runs it before every command, and the job service before every job, so buttons and modals,
  which do not pass through the tree, are covered too; a stale client or a forged payload gets the
  same refusal.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.messages.commands import SERVER_ONLY

__all__ = ["SERVER_CONTEXTS", "SERVER_INSTALLS", "ServerOnly", "require_server", "restrict_to_servers"]

SERVER_CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
"""Usable in server channels only: not in the bot's DMs, not in group DMs."""

SERVER_INSTALLS = app_commands.AppInstallationType(guild=True, user=False)
"""Available through a server's install only: a member's own install of the app brings no server limits."""


class ServerOnly(UserFacingError):
    """An interaction came from outside a server that installed the bot."""

    title = SERVER_ONLY.title

    def __init__(self) -> None:
        super().__init__(SERVER_ONLY.format())


def restrict_to_servers(
    command: app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu,
) -> None:
    """Publish `command` for server installs and server channels only (sub-commands inherit it)."""
    command.allowed_contexts = SERVER_CONTEXTS
    command.allowed_installs = SERVER_INSTALLS
    command.guild_only = True  # older clients read `dm_permission`, which discord.py derives from this


def require_server(interaction: discord.Interaction[Any]) -> int:
    """The interaction's server id; raises `ServerOnly` without one that installed the bot."""
    if interaction.guild_id is None or not interaction.is_guild_integration():
        raise ServerOnly()
    return interaction.guild_id
