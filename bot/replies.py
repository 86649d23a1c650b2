"""Answering an interaction privately, whatever state it is in.

Discord keeps a deferred response's visibility for the first follow-up, so a private error after a
public "thinking" message needs that message deleted first. This is the one place that knows the
rules, so no command can go silent or leak an error publicly.
"""

from __future__ import annotations

import logging

import discord

from bot.i18n import channel_locale, using
from bot.messages import translated
from bot.messages.commands import LATE_REPLY

__all__ = ["ERROR_COLOUR", "error_embed", "post_in_channel", "send_private", "token_expired"]

log = logging.getLogger(__name__)

ERROR_COLOUR = discord.Colour.red()


def error_embed(title: str, message: str) -> discord.Embed:
    """The look of every error members see; a title given as written in `bot.messages` is translated here."""
    return discord.Embed(title=translated(title)[:256], description=message[:4096], colour=ERROR_COLOUR)


async def send_private(interaction: discord.Interaction, *, embed: discord.Embed) -> None:
    """Send an ephemeral answer, replacing a public "thinking" message if there is one."""
    response = interaction.response
    try:
        if not response.is_done():
            await response.send_message(embed=embed, ephemeral=True)
            return
        delivered = bool(interaction.extras.get("delivered"))  # the original is a result now: keep it
        if response.type is discord.InteractionResponseType.deferred_channel_message and not delivered:
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                # Could not remove the public placeholder: turn it into the error rather than leave it.
                await interaction.edit_original_response(content=None, embed=embed, attachments=[], view=None)
                return
        await interaction.followup.send(embed=embed, ephemeral=True)
    except discord.HTTPException as exc:
        if token_expired(exc) and response.is_done():
            # The 15 minutes are over: a public note in the channel beats leaving the member in silence.
            await post_in_channel(interaction, embeds=[embed])
            return
        log.warning("could not deliver an error reply for interaction %s", interaction.id, exc_info=True)


#: Discord's answers once an interaction token is no longer usable.
_TOKEN_GONE_CODES = frozenset({50027, 10015, 10062})


def token_expired(error: discord.HTTPException) -> bool:
    """True when Discord refused because the interaction token expired (or is unknown)."""
    return error.code in _TOKEN_GONE_CODES or error.status == 401


async def post_in_channel(
    interaction: discord.Interaction,
    *,
    embeds: list[discord.Embed],
    files: list[discord.File] | None = None,
    view: discord.ui.View | None = None,
) -> discord.Message | None:
    """Post to the interaction's channel as a plain message, mentioning (only) the member.

    Used when the interaction token has expired, so the answer still reaches the member. Returns None
    when the channel refuses too (the bot lacks Send Messages there); that is logged, nothing more
    can be done. The post is the channel's, so the bot's own line is in the server's language
    (`bot.i18n.channel_locale`); the embeds are the caller's.
    """
    client = interaction.client
    channel_id = interaction.channel_id
    if channel_id is None:
        return None
    channel = client.get_partial_messageable(channel_id, guild_id=interaction.guild_id)
    try:
        return await channel.send(
            content=_late_note(interaction),
            embeds=embeds,
            files=files or [],
            view=view or discord.utils.MISSING,
            allowed_mentions=discord.AllowedMentions(users=[interaction.user], everyone=False, roles=False),
        )
    except discord.HTTPException:
        log.warning("could not post in channel %s for interaction %s", channel_id, interaction.id, exc_info=True)
        return None


def _late_note(interaction: discord.Interaction) -> str:
    """The line above a late answer, in the server's language: whose request it answers, and why here."""
    with using(channel_locale(interaction)):
        return LATE_REPLY.format(mention=interaction.user.mention)
