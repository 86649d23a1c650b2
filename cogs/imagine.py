"""`/imagine`: text to image with the server's imagine model and provider filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import require_access, spoiler_results
from bot.jobs.image_job import run_image_job
from bot.jobs.planning import MAX_SEED, Asked, plan_for
from bot.messages import ui
from bot.operations import MAX_PROMPT_LENGTH, ImageFormat, Operation
from bot.requests import ImageRequest
from bot.storage.guild_config import MAX_COUNT

if TYPE_CHECKING:
    from bot.core import ImageBot


from cogs._options import FORMAT_CHOICES, QUALITY_CHOICES, RESOLUTION_CHOICES


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
        count="How many images to make (default: the server's, usually 1)",
        seed="A number that makes the same prompt give the same image again, where the model supports it",
        resolution="How large: 1K, 2K or 4K, where the model supports it",
        quality="Image quality, where the model supports it",
    )
    @app_commands.choices(image_format=FORMAT_CHOICES, resolution=RESOLUTION_CHOICES, quality=QUALITY_CHOICES)
    async def imagine(
        self,
        interaction: discord.Interaction[ImageBot],
        prompt: app_commands.Range[str, 1, MAX_PROMPT_LENGTH],
        image_format: str = ImageFormat.SQUARE.value,
        spoiler: bool = False,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        resolution: str | None = None,
        quality: str | None = None,
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
        asked = Asked(count=count, seed=seed, resolution=resolution, quality=quality)
        plan = await plan_for(self.bot.catalog, request, asked, config)
        await run_image_job(
            self.bot, interaction, Operation.IMAGINE, plan.request, title=ui.IMAGINE_TITLE.text, spoiler=hide,
            per_call=plan.per_call, stream=plan.stream, notes=plan.notes,
        )


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Imagine(bot))
