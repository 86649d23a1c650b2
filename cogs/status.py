"""`/status`: whether the image commands can work here, with which models, and whether the key works.

For any member, so that "why doesn't /imagine work?" has an answer without an admin. Everything
comes from caches (the catalog's lists and its 5-minute `GET /key` result), so the command costs
OpenRouter at most one cheap call. The key itself, and its label (which holds part of it), are never
shown: only whether OpenRouter accepts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import channel_lists, comes_from, mention_channels
from bot.catalog import KeyState, KeyStatus, Readiness
from bot.messages import status as texts
from bot.operations import Operation
from bot.rendering import shorten
from bot.requests import Route

if TYPE_CHECKING:
    from bot.core import ImageBot

READY_COLOUR = discord.Colour.green()
TROUBLE_COLOUR = discord.Colour.orange()


def key_text(status: KeyStatus, age_s: float) -> str:
    """The key's state in words, with what to do about it; never the key or its label."""
    checked = texts.CHECKED_JUST_NOW.text if age_s < 60 else texts.CHECKED_MINUTES_AGO.format(int(age_s // 60))
    state = {
        KeyState.WORKS: texts.KEY_WORKS,
        KeyState.NO_CREDIT: texts.KEY_NO_CREDIT,
        KeyState.REJECTED: texts.KEY_REJECTED,
        KeyState.UNREACHABLE: texts.KEY_UNREACHABLE,
    }[status.state].format(detail=status.detail)
    return texts.KEY_STATE.format(state=state, checked=checked)


class Status(commands.Cog):
    """The `/status` command."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    @app_commands.command(name="status")
    async def status(self, interaction: discord.Interaction[ImageBot]) -> None:
        """See which image commands work here, with which models, and whether OpenRouter is reachable."""
        await interaction.response.defer(ephemeral=True, thinking=True)  # the key check may take a moment
        snapshot = await self.bot.catalog.snapshot()
        key = await self.bot.catalog.key_status()
        embed = discord.Embed(title=texts.TITLE.text, colour=READY_COLOUR)
        ready = 0
        lists = await channel_lists(self.bot, interaction.guild_id)
        for op in Operation:
            config = await self.bot.store.guild_config.get(interaction.guild_id, op)
            model = config.model_or(self.bot.default_model(op))
            readiness = snapshot.readiness(op, model, enabled=config.enabled)
            ready += readiness is Readiness.READY
            shown = model.replace("`", "'")  # an admin may type any id: a backtick would end the code span
            lines = [readiness.describe(op), texts.MODEL_LINE.format(model=shown)]
            if op.needs_image_output:
                route = snapshot.route_for(model, config.route)
                lines.append(texts.ROUTE_LINE.format(
                    route=(texts.ROUTE_IMAGES if route is Route.IMAGES else texts.ROUTE_CHAT).text
                ))
            allowed = [entry.channel_id for entry in lists.for_operation(op)]
            if allowed:
                line = texts.CHANNELS_ONLY if comes_from(interaction, allowed) else texts.CHANNELS_NOT_THIS_ONE
                lines.append(line.format(channels=mention_channels(allowed)))
            embed.add_field(name=f"/{op.value}", value=shorten("\n".join(lines), 1024), inline=False)
        embed.add_field(
            name=texts.KEY_FIELD.text,
            value=shorten(key_text(key, self.bot.catalog.clock() - key.checked_at), 1024),
            inline=False,
        )
        total = len(Operation)
        if not key.works:
            embed.description = texts.NO_KEY.text
        elif key.state is KeyState.NO_CREDIT:
            embed.description = texts.NO_CREDIT.text
        elif ready == total:
            embed.description = texts.ALL_READY.text
        else:
            embed.description = texts.NOT_ALL_READY.format(ready, total=total)
        if not key.works or key.state is KeyState.NO_CREDIT or ready < total:
            embed.colour = TROUBLE_COLOUR
        await interaction.edit_original_response(embed=embed)


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Status(bot))
