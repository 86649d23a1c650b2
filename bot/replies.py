"""Answering an interaction privately, whatever state it is in.

Discord keeps a deferred response's visibility for the first follow-up, so a private error after a
public "thinking" message needs that message deleted first. This is the one place that knows the
rules, so no command can go silent or leak an error publicly.
"""

from __future__ import annotations

import logging

import discord

__all__ = ["ERROR_COLOUR", "error_embed", "send_private"]

log = logging.getLogger(__name__)

ERROR_COLOUR = discord.Colour.red()


def error_embed(title: str, message: str) -> discord.Embed:
    """The look of every error members see."""
    return discord.Embed(title=title[:256], description=message[:4096], colour=ERROR_COLOUR)


async def send_private(interaction: discord.Interaction, *, embed: discord.Embed) -> None:
    """Send an ephemeral answer, replacing a public "thinking" message if there is one."""
    response = interaction.response
    try:
        if not response.is_done():
            await response.send_message(embed=embed, ephemeral=True)
            return
        if response.type is discord.InteractionResponseType.deferred_channel_message:
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                # Could not remove the public placeholder: turn it into the error rather than leave it.
                await interaction.edit_original_response(content=None, embed=embed, attachments=[], view=None)
                return
        await interaction.followup.send(embed=embed, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id, exc_info=True)
