"""`/imagine`: text to image with the server's imagine model and provider filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import require_access, spoiler_results
from bot.operations import MAX_PROMPT_LENGTH, ImageFormat, Operation
from bot.rendering import image_result_embed, prepare_result_files, result_uploads
from cogs.result_buttons import result_view

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
        model = config.model_or(self.bot.default_model(Operation.IMAGINE))
        async with self.bot.jobs.run(
            interaction, Operation.IMAGINE, model=model, prompt=prompt, image_format=fmt.value,
            aspect_ratio=fmt.aspect_ratio, providers=config.provider_filter,
        ) as job:
            job.mark_upstream_start()
            result = await self.bot.openrouter.generate_image(
                prompt=prompt,
                model=model,
                aspect_ratio=fmt.aspect_ratio,
                providers=config.provider_filter,
                modalities=self.bot.catalog.modalities_for(model),
                on_retry=job.on_retry,
                on_answer=job.record_answer,
            )
            job.settle(cost=result.cost, generation_id=result.generation_id)
            files = await prepare_result_files(
                result.images, stem="imagine", limit_bytes=interaction.filesize_limit
            )
            embed = image_result_embed(
                title="Imagine",
                prompt=prompt,
                result=result,
                format_label=fmt.label,
                elapsed_s=job.elapsed_s,
                requester=interaction.user.display_name,
                files=files,
            )
            await job.deliver(embeds=[embed], files=result_uploads(embed, files, spoiler=hide), view=result_view(job))


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Imagine(bot))
