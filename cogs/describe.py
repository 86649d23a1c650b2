"""`/describe` and the "Describe image" message menu: ask the server's vision model about an image.

Both entry points, and the Describe button under a result (`cogs.result_buttons`), end in
`Describe.run_describe`. Answers can be far longer than one embed, so they are split at paragraph,
line or word breaks over as many embeds and messages as needed, and never cut short: a member
asking for detail should get all of it, and an empty answer is an error, not an empty embed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import is_spoilered, require_access
from bot.attachments import ImageSource, LoadedImage, require_images
from bot.errors import UserFacingError
from bot.i18n import language_name
from bot.jobs import JobInputs
from bot.messages import ui
from bot.messages.results import EMPTY_ANSWER
from bot.openrouter.types import AnalysisResult
from bot.operations import MAX_PROMPT_LENGTH, Operation
from bot.rendering import (
    RESULT_COLOUR,
    escape_member_text,
    format_cost,
    format_seconds,
    pack_embeds,
    shorten,
    split_text,
)
from bot.requests import ImageRequest
from cogs.result_buttons import result_view

if TYPE_CHECKING:
    from bot.core import ImageBot

log = logging.getLogger(__name__)

DEFAULT_QUESTION = (
    "Describe this image in detail: the subject, the setting, the composition, colours and lighting, "
    "the style or medium, and any text that appears in it."
)
MAX_QUESTION = MAX_PROMPT_LENGTH

#: Added to the default question, so the description comes in the member's language (`language`: its
#: English name, "German"). Instructions to the model are English; the model's answer is shown as written.
ANSWER_IN = "Answer in {language}."
#: Added after a member's own question: the question's language wins over the member's client's.
ANSWER_IN_QUESTION_LANGUAGE = "Answer in the language the question above is written in."


def describe_prompt(question: str | None, locale: object) -> str:
    """What the vision model is asked: the member's question as written, or the default one in their language.

    A question is never translated or rewritten: the instruction that follows it only asks for the answer
    in the question's own language. Without a question, the default asks for the member's language
    (`locale`, their Discord client's, any locale: the model is not limited to the shipped catalogs).
    """
    if question:
        return f"{question}\n\n{ANSWER_IN_QUESTION_LANGUAGE}"
    return f"{DEFAULT_QUESTION} {ANSWER_IN.format(language=language_name(locale))}"


class EmptyAnswer(UserFacingError):
    """The vision model answered with no text at all."""

    title = EMPTY_ANSWER.title

    def __init__(self, model: str) -> None:
        super().__init__(EMPTY_ANSWER.format(model=model))


class Describe(commands.Cog):
    """Image description with a vision model."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.describe_menu = app_commands.ContextMenu(name="Describe image", callback=self.describe_image_menu)
        self.bot.tree.add_command(self.describe_menu)

    async def cog_unload(self) -> None:
        """Take the menu off the tree."""
        self.bot.tree.remove_command(self.describe_menu.name, type=self.describe_menu.type)

    @app_commands.command(name="describe")
    @app_commands.describe(
        image="The image to describe",
        prompt="A question about the image (default: a detailed description)",
    )
    async def describe(
        self,
        interaction: discord.Interaction[ImageBot],
        image: discord.Attachment,
        prompt: app_commands.Range[str, 1, MAX_QUESTION] | None = None,
    ) -> None:
        """Describe an image, or answer a question about it."""
        await self.run_describe(interaction, ImageSource.from_attachment(image), prompt)

    async def describe_image_menu(
        self, interaction: discord.Interaction[ImageBot], message: discord.Message
    ) -> None:
        """Message menu "Describe image": describe the message's first image."""
        sources = require_images(message, action="describe", command="describe")
        await self.run_describe(interaction, sources[0], None)

    async def run_describe(
        self,
        interaction: discord.Interaction[ImageBot],
        source: ImageSource | SourceFinder,
        question: str | None,
        *,
        parent_job_id: int | None = None,
        parent_image_index: int | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Refuse bad input before anything public or paid happens, then ask the model and deliver.

        `source` is the image, or a coroutine function that finds it (a result button looks the result
        up again); either way it is found, downloaded and decoded only once the job is admitted. The
        result buttons call this too: `parent_job_id` is the job whose result is described (and
        `parent_image_index` which of its several images, for `/jobs`), and
        `extra_fields` (name, value) go beside the model, cost and time (the button's "From").
        """
        config = await require_access(self.bot, interaction, Operation.DESCRIBE)
        model = config.model_or(self.bot.default_model(Operation.DESCRIBE))
        question = question.strip() if question and question.strip() else None
        if isinstance(source, ImageSource):
            self.bot.attachments.check_declared([source])
        find = source if callable(source) else _found(source)

        async def load() -> JobInputs:
            return JobInputs(images=await self.bot.attachments.load_for(interaction, [await find()]))

        request = ImageRequest(prompt=question or DEFAULT_QUESTION, model=model, providers=config.provider_filter)
        async with self.bot.jobs.run(
            interaction, Operation.DESCRIBE, request, parent_job_id=parent_job_id, load=load, input_count=1,
            parent_image_index=parent_image_index, parent_action="describe" if parent_image_index else None,
        ) as job:
            (image,) = job.inputs.images
            job.mark_upstream_start()
            result = await self.bot.openrouter.analyze_images(
                prompt=describe_prompt(question, interaction.locale),
                images=[image.as_input()],
                model=request.model,
                providers=request.providers,
                on_retry=job.on_retry,
                on_answer=job.record_answer,
            )
            job.settle(cost=result.cost, generation_id=result.generation_id)
            elapsed = job.elapsed_s
            if not result.text.strip():
                raise EmptyAnswer(result.model)
            messages = pack_embeds(_answer_embeds(interaction, image, question, result, elapsed, extra_fields))
            await job.deliver(embeds=messages[0], view=result_view(job))
            for embeds in messages[1:]:
                await interaction.followup.send(embeds=embeds)
        log.info(
            "describe done guild=%s user=%s model=%s chars=%d messages=%d cost=%s ms=%d",
            interaction.guild_id,
            interaction.user.id,
            result.model,
            len(result.text),
            len(messages),
            result.cost,
            elapsed * 1000,
        )


#: Finds the image to describe once the job is admitted (a result button's look-up of its result).
SourceFinder = Callable[[], Awaitable[ImageSource]]


def _found(source: ImageSource) -> SourceFinder:
    async def find() -> ImageSource:
        return source

    return find


def _answer_embeds(
    interaction: discord.Interaction[ImageBot],
    image: LoadedImage,
    question: str | None,
    result: AnalysisResult,
    elapsed: float,
    extra_fields: Sequence[tuple[str, str]] = (),
) -> Sequence[discord.Embed]:
    """One embed per piece of the answer: the image and question on the first, the details on the last.

    Each piece is at most 4096 characters (an embed description), and an embed carries at most
    about 1200 more (a question, or a button's short "From" link), so every embed fits a message on
    its own and `pack_embeds` can group them.
    """
    pieces = split_text(result.text)
    embeds = [discord.Embed(description=piece, colour=RESULT_COLOUR) for piece in pieces]
    first, last = embeds[0], embeds[-1]
    first.title = ui.DESCRIBE_TITLE.text
    if not is_spoilered([image.source.filename]):  # Discord never blurs an embed's image
        first.set_thumbnail(url=image.source.url)
    if question:
        first.add_field(name=ui.FIELD_QUESTION.text, value=escape_member_text(question, 1024), inline=False)
    last.add_field(name=ui.FIELD_MODEL.text, value=escape_member_text(result.model, 1024))
    last.add_field(name=ui.FIELD_COST.text, value=format_cost(result.cost))
    last.add_field(name=ui.FIELD_TIME.text, value=format_seconds(elapsed))
    for name, value in extra_fields:
        last.add_field(name=shorten(name, 256), value=shorten(value, 1024))
    requested = ui.REQUESTED_BY.format(name=interaction.user.display_name)
    for number, embed in enumerate(embeds, start=1):
        part = ui.PART_OF.format(number=number, total=len(embeds)) if len(embeds) > 1 else ""
        text = " · ".join(item for item in (part, requested if embed is last else "") if item)
        if text:
            embed.set_footer(text=shorten(text, 2048))
    return embeds


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Describe(bot))
