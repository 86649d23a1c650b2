"""`/edit` and the "Edit image" message menu: change images with the server's edit model.

Both entry points end in `Edit.run_edit`, so a slash command and a context menu refuse the same
inputs with the same words and produce the same result, which looks like an `/imagine` result plus
the source images. The menu asks for the prompt in a modal that carries the target message itself:
a modal submission's `interaction.message` is not the message the menu was used on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import is_spoilered, require_access, spoiler_results
from bot.attachments import ImageSource, LoadedImage, require_images
from bot.contexts import require_server
from bot.errors import UserFacingError, refusal
from bot.jobs import Job, JobInputs
from bot.jobs.image_job import run_image_job
from bot.jobs.planning import MAX_SEED, NOTHING_ASKED, Asked, fit_references, plan_for, supported_ratio
from bot.messages import images as texts
from bot.messages import ui
from bot.operations import MAX_PROMPT_LENGTH, ImageFormat, Operation
from bot.rendering import (
    cap_embed,
    escape_member_text,
)
from bot.requests import ImageRequest
from bot.storage.guild_config import MAX_COUNT
from cogs._options import FORMAT_CHOICES, QUALITY_CHOICES, RESOLUTION_CHOICES
from cogs._prompt_form import PromptForm, PromptRoutes, submitted_prompt
from cogs._result_images import fetch_message

if TYPE_CHECKING:
    from bot.core import ImageBot

log = logging.getLogger(__name__)


ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
"""Every `image_config.aspect_ratio` OpenRouter documents, for keeping an upload's shape."""

MAX_PROMPT = MAX_PROMPT_LENGTH

EDIT_IMAGE_FORM = r"edit-image:(?P<channel>[0-9]+):(?P<message>[0-9]+)"
"""Custom id of the "Edit image" form: the message whose images to edit, so any process can serve it."""

REMEMBERED_TARGETS = 500
"""Menu targets kept in memory, so a submission usually needs no message fetch (older ones are fetched)."""


class TooManyImages(UserFacingError):
    """More images than the server's max references allow."""

    title = texts.TOO_MANY_IMAGES_TITLE

    def __init__(self, limit: int, given: int) -> None:
        super().__init__(texts.too_many_images(limit, given))


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The OpenRouter aspect ratio closest to an image's shape, compared on a log scale.

    A log scale makes 2:1 and 1:2 equally far from square, so portrait and landscape images are
    treated alike.
    """
    shape = math.log(width / height)

    def distance(ratio: str) -> float:
        across, down = (int(part) for part in ratio.split(":"))
        return abs(math.log(across / down) - shape)

    return min(ASPECT_RATIOS, key=distance)


class MessageGone(UserFacingError):
    """The message an "Edit image" form was opened on can no longer be read."""

    title = texts.MESSAGE_GONE.title

    def __init__(self) -> None:
        super().__init__(texts.MESSAGE_GONE.format())


class Edit(commands.Cog):
    """Image editing with reference images."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.edit_menu = app_commands.ContextMenu(name="Edit image", callback=self.edit_image_menu)
        self.bot.tree.add_command(self.edit_menu)
        self.forms = PromptRoutes()
        self.forms.add(EDIT_IMAGE_FORM, self._edit_image_submitted)
        self._targets: dict[str, discord.Message] = {}

    async def cog_unload(self) -> None:
        """Take the menu off the tree."""
        self.bot.tree.remove_command(self.edit_menu.name, type=self.edit_menu.type)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[ImageBot]) -> None:
        """Serve "Edit image" form submissions, also those of forms opened before a restart."""
        await self.forms.dispatch(interaction)

    @app_commands.command(name="edit")
    @app_commands.rename(image_format="format")
    @app_commands.describe(
        prompt="What to change, in plain words",
        image="The image to edit",
        reference2="A second image the model may use (if this server allows more than one)",
        reference3="A third image the model may use (if this server allows three)",
        image_format="The shape of the result (default: keep the image's shape)",
        spoiler="Post the result hidden behind a spoiler",
        count="How many versions to make (default: the server's, usually 1)",
        seed="A number that makes the same edit come out the same again, where the model supports it",
        resolution="How large: 1K, 2K or 4K, where the model supports it",
        quality="Image quality, where the model supports it",
    )
    @app_commands.choices(image_format=FORMAT_CHOICES, resolution=RESOLUTION_CHOICES, quality=QUALITY_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction[ImageBot],
        prompt: app_commands.Range[str, 1, MAX_PROMPT],
        image: discord.Attachment,
        reference2: discord.Attachment | None = None,
        reference3: discord.Attachment | None = None,
        image_format: str | None = None,
        spoiler: bool = False,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        resolution: str | None = None,
        quality: str | None = None,
    ) -> None:
        """Edit an image (plus optional references) with a text prompt."""
        attachments = [item for item in (image, reference2, reference3) if item is not None]
        sources = [ImageSource.from_attachment(item) for item in attachments]
        fmt = ImageFormat(image_format) if image_format else None
        asked = Asked(count=count, seed=seed, resolution=resolution, quality=quality)
        await self.run_edit(interaction, prompt=prompt, sources=sources, image_format=fmt, spoiler=spoiler,
                            asked=asked)

    async def edit_image_menu(self, interaction: discord.Interaction[ImageBot], message: discord.Message) -> None:
        """Message menu "Edit image": check the message, then ask for the prompt."""
        await require_access(self.bot, interaction, Operation.EDIT)
        require_images(message, action="edit", command="edit")
        custom_id = f"edit-image:{message.channel.id}:{message.id}"
        self._remember(custom_id, message)
        await interaction.response.send_modal(PromptForm(title=ui.EDIT_IMAGE_FORM_TITLE.text, custom_id=custom_id))

    async def _edit_image_submitted(self, interaction: discord.Interaction[ImageBot], ids: dict[str, str]) -> None:
        """The form's submission, in whichever process receives it: find the message, then edit."""
        try:
            require_server(interaction)
            if int(ids["channel"]) != interaction.channel_id:
                # The form is opened on a message in this channel and submitted from it; a custom id naming
                # another channel is forged, and would have the bot read a message the member may not see.
                raise MessageGone()
            custom_id = f"edit-image:{ids['channel']}:{ids['message']}"
            message = self._targets.get(custom_id)
            if message is None:
                if not interaction.response.is_done():
                    await interaction.response.defer(thinking=True)  # the look-up is a REST call
                message = await fetch_message(self.bot, int(ids["channel"]), int(ids["message"]))
            if message is None:
                raise MessageGone()
            sources = require_images(message, action="edit", command="edit")
            await self.edit_from_message(interaction, message, sources, submitted_prompt(interaction))
        except Exception as error:
            await self.bot.tree.on_error(interaction, app_commands.CommandInvokeError(self.edit_menu, error))

    def _remember(self, custom_id: str, message: discord.Message) -> None:
        self._targets.pop(custom_id, None)
        self._targets[custom_id] = message
        while len(self._targets) > REMEMBERED_TARGETS:
            self._targets.pop(next(iter(self._targets)))

    async def edit_from_message(
        self, interaction: discord.Interaction[ImageBot], message: discord.Message,
        sources: Sequence[ImageSource], prompt: str,
    ) -> None:
        """The form's submission: edit the message's first images, up to the server's limit."""
        config = await require_access(self.bot, interaction, Operation.EDIT)
        if not prompt.strip():
            raise refusal(texts.EMPTY_MENU_PROMPT)
        limit = config.effective_max_references
        notes = []
        if len(sources) > limit:
            notes.append(ui.USED_FIRST_MESSAGE_IMAGES.format(limit=limit, count=len(sources)))
        await self.run_edit(
            interaction, prompt=prompt.strip(), sources=sources[:limit], image_format=None, notes=notes
        )

    async def run_edit(
        self,
        interaction: discord.Interaction[ImageBot],
        *,
        prompt: str,
        sources: Sequence[ImageSource],
        image_format: ImageFormat | None,
        notes: Sequence[str] = (),
        spoiler: bool = False,
        asked: Asked = NOTHING_ASKED,
    ) -> None:
        """Refuse what must be refused before anything public or paid happens, then edit and deliver.

        The images are downloaded and decoded only once the job is admitted (`load`); what Discord
        declared too large is refused before that, at no cost. The result is spoilered when the member
        asks (`spoiler`), a source image is spoilered, or the server's spoiler mode says so.
        """
        config = await require_access(self.bot, interaction, Operation.EDIT)
        if len(sources) > config.effective_max_references:
            raise TooManyImages(config.effective_max_references, len(sources))
        model = config.model_or(self.bot.default_model(Operation.EDIT))
        hide = await spoiler_results(
            self.bot, interaction, asked=spoiler or is_spoilered(source.filename for source in sources)
        )
        self.bot.attachments.check_declared(sources)

        request = ImageRequest(
            prompt=prompt,
            model=model,
            image_format=image_format.value if image_format else None,
            aspect_ratio=image_format.aspect_ratio if image_format else None,
            references=tuple(source.reference() for source in sources),
            providers=config.provider_filter,
        )

        def with_sources(embed: discord.Embed, job: Job) -> discord.Embed:
            return _with_sources(embed, job.inputs.images)

        plan = await plan_for(self.bot.catalog, request, asked, config)
        sources, trimmed = fit_references(plan, sources)  # refused here when the model takes no image
        if trimmed:
            notes = [*notes, trimmed]
        planned = replace(plan.request, references=plan.request.references[: len(sources)])

        async def load() -> JobInputs:
            images = await self.bot.attachments.load_for(interaction, sources)
            if image_format is not None:
                return JobInputs(images=images)
            # The image's shape, or the nearest the model makes (said so on the result, as for a chosen format).
            shape = nearest_aspect_ratio(images[0].width, images[0].height)
            kept, note = supported_ratio(shape, plan.aspect_ratios, model)
            return JobInputs(images=images, aspect_ratio=kept, notes=(note,) if note else ())

        job = await run_image_job(
            self.bot, interaction, Operation.EDIT, planned, title=ui.EDIT_TITLE.text, spoiler=hide, load=load,
            per_call=plan.per_call, stream=plan.stream, notes=[*notes, *plan.notes], decorate=with_sources,
            grid_fields=lambda job: [_sources_field(job.inputs.images)],
        )
        log.info(
            "edit done guild=%s user=%s model=%s images=%d cost=%s ms=%d",
            interaction.guild_id,
            interaction.user.id,
            job.model,
            len(job.inputs.images),
            job.cost,
            job.elapsed_s * 1000,
        )


def _sources_field(images: Sequence[LoadedImage]) -> tuple[str, str]:
    """The sources of an edit as a (name, value) field: numbered links to them."""
    return (ui.FIELD_SOURCES.format(len(images)), _source_links(images))


def _with_sources(embed: discord.Embed, images: Sequence[LoadedImage]) -> discord.Embed:
    """An edit result shows its sources: the first as thumbnail, all of them as links."""
    time = ui.FIELD_TIME.text
    after_time = next((n + 1 for n, field in enumerate(embed.fields) if field.name == time), len(embed.fields))
    name, value = _sources_field(images)
    embed.insert_field_at(after_time, name=name, value=value, inline=False)
    if images:
        embed.set_thumbnail(url=images[0].source.url)
    return cap_embed(embed)


def _source_links(images: Sequence[LoadedImage]) -> str:
    """Numbered links to the sources, or just their names when the links do not fit a field."""
    names = [
        escape_member_text(image.source.filename, 60)
        for image in images
    ]
    linked = "\n".join(
        f"{number}. [{name}]({image.source.url})"
        for number, (name, image) in enumerate(zip(names, images, strict=True), start=1)
    )
    if len(linked) <= 1024:
        return linked
    return "\n".join(f"{number}. {name}" for number, name in enumerate(names, start=1))


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Edit(bot))
