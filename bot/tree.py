"""The command tree with the bot's single error handler.

Every failure of every command, check and transformer ends here and becomes a private reply, so a
member is never left with "The application did not respond". Handling order: unwrap
`CommandInvokeError`; known errors (our own, image refusals, OpenRouter, check failures) get their
specific message and a short log line; anything else gets a generic message and a full traceback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.contexts import SERVER_CONTEXTS, SERVER_INSTALLS, ServerOnly, require_server, restrict_to_servers
from bot.error_messages import describe_error
from bot.i18n import speak_to
from bot.messages import in_english
from bot.messages.commands import UNEXPECTED
from bot.openrouter.errors import UpstreamStatusError
from bot.replies import error_embed, send_private

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["ImageBotTree"]

log = logging.getLogger(__name__)

def interaction_context(interaction: discord.Interaction) -> str:
    """Who, where and what, for log lines (ids only: no message content, no secrets)."""
    command = interaction.command.qualified_name if interaction.command else "?"
    return (
        f"command={command} guild={interaction.guild_id} channel={interaction.channel_id} "
        f"user={interaction.user.id if interaction.user else '?'} interaction={interaction.id}"
    )


def upstream_detail(error: BaseException) -> str:
    """What OpenRouter said for the operator's eyes only: the provider blamed and its raw answer."""
    if not isinstance(error, UpstreamStatusError):
        return ""
    parts = [f"status={error.status}"]
    if error.model:
        parts.append(f"model={error.model}")
    if error.provider_name:
        parts.append(f"provider={error.provider_name}")
    raw = error.metadata.get("raw")
    if raw:
        parts.append(f"raw={str(raw)[:500]!r}")
    return " [" + " ".join(parts) + "]"


class ImageBotTree(app_commands.CommandTree["ImageBot"]):
    """A CommandTree whose `on_error` answers every failure privately, for servers only.

    Every command added is published for server installs and server channels (`bot.contexts`), and
    every interaction from anywhere else is refused before any command runs.
    """

    def __init__(self, client: ImageBot, **options: Any) -> None:
        options.setdefault("allowed_contexts", SERVER_CONTEXTS)
        options.setdefault("allowed_installs", SERVER_INSTALLS)
        super().__init__(client, **options)

    def add_command(self, command: Any, /, **options: Any) -> None:
        """Add a command, group or menu restricted to servers, whoever forgot to say so."""
        restrict_to_servers(command)
        super().add_command(command, **options)

    async def interaction_check(self, interaction: discord.Interaction[ImageBot], /) -> bool:
        """Speak the member's language from here on; refuse every command and autocomplete from outside a server.

        This is where every command, menu and autocomplete first reaches the bot's code, so the locale
        is set here once (`bot.i18n`) for the command, its checks, its errors and the job it starts.
        """
        speak_to(interaction)
        try:
            require_server(interaction)
        except ServerOnly as refusal:
            log.info("refused an interaction from outside a server (%s)", interaction_context(interaction))
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
            else:
                await send_private(interaction, embed=error_embed(refusal.title, refusal.message))
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[ImageBot], error: app_commands.AppCommandError
    ) -> None:
        """Reply with what happened and what to do, in the member's language; log with context, in English."""
        speak_to(interaction)  # also for what fails before `interaction_check` (an out-of-date command)
        cause: BaseException = error
        if isinstance(error, app_commands.CommandInvokeError):
            cause = error.original
        described = describe_error(cause)
        if described is None:
            log.error("unexpected error (%s)", interaction_context(interaction), exc_info=cause)
            described = UNEXPECTED.pair()
        else:
            log.info(
                "command refused or failed: %s: %s%s (%s)",
                type(cause).__name__,
                in_english(cause),
                upstream_detail(cause),
                interaction_context(interaction),
            )
        await send_private(interaction, embed=error_embed(*described))
