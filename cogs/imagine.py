"""`/imagine`: text to image with the server's imagine model and provider filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import require_access, spoiler_results
from bot.jobs.image_job import run_image_job
from bot.operations import MAX_PROMPT_LENGTH, ImageFormat, Operation
from bot.requests import ImageRequest

if TYPE_CHECKING:
    from bot.core import ImageBot


FORMAT_CHOICES = [app_commands.Choice(name=fmt.label, value=fmt.value) for fmt in ImageFormat]


class Imagine(commands.Cog):
    """Text-to-image generation."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    @app_commands.command(name="imagine")
    @app_commands.rename(image_format="format")
    @app_commands.describe(
        prompt="Describe the image you want, in plain words",
        image_format="The shape of the image (default: square)",
        spoiler="Post the image hidden behind a spoiler",
    )
    @app_commands.choices(image_format=FORMAT_CHOICES)
    async def imagine(
        self,
        interaction: discord.Interaction[ImageBot],
        prompt: app_commands.Range[str, 1, MAX_PROMPT_LENGTH],
        image_format: str = ImageFormat.SQUARE.value,
        spoiler: bool = False,
    ) -> None:
        """Create an image from a text prompt."""
        fmt = ImageFormat(image_format)
        config = await require_access(self.bot, interaction, Operation.IMAGINE)
        hide = await spoiler_results(self.bot, interaction, asked=spoiler)
        request = ImageRequest(
            prompt=prompt,
            model=config.model_or(self.bot.default_model(Operation.IMAGINE)),
            image_format=fmt.value,
            aspect_ratio=fmt.aspect_ratio,
            providers=config.provider_filter,
        )
        await run_image_job(self.bot, interaction, Operation.IMAGINE, request, title="Imagine", spoiler=hide)


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Imagine(bot))
