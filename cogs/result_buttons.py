"""The buttons under a result (Re-roll, Edit, Describe, Delete), working across restarts.

Each button's `custom_id` is `job:<action>:<job id>`, served by one `DynamicItem` registered when
this cog loads (during `setup_hook`). A click therefore needs nothing from the process that posted
the result: the job row holds the prompt, format, model and reference images, and
`cogs._result_images` finds the images again once their stored URLs have expired.

The buttons do what the commands do, through the same code: images load through the bot's
attachment pipeline (`bot.attachments`, with its limits and refusals), Describe is the Describe
cog's `run_describe` (so `cogs.describe` must be loaded), image results use `image_result_embed`,
and all work runs through `bot.jobs.run`, so buttons obey the same per-member limit, queue and
budgets as the commands.

Button callbacks are not covered by the tree's error handler, so `report_failure` answers every
failure here the same way: privately, with the same words.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.ext import commands

from bot.attachments import AttachmentUnavailable, LoadedImage
from bot.error_messages import describe_error
from bot.errors import OperationDisabled, UserFacingError
from bot.jobs import Job
from bot.operations import MAX_PROMPT_LENGTH, ImageFormat, Operation
from bot.rendering import image_result_embed, prepare_result_files
from bot.replies import error_embed, send_private
from bot.storage.guild_config import OperationConfig
from bot.storage.jobs import JobRecord, ReferenceSource
from bot.tree import UNEXPECTED
from cogs._result_images import ImageGone, load_references, load_result, result_source

if TYPE_CHECKING:
    from bot.core import ImageBot
    from cogs.describe import Describe

__all__ = ["JobButton", "ResultButtons", "result_view"]

log = logging.getLogger(__name__)

IMAGE_ACTIONS = ("reroll", "edit", "describe", "delete")
_LOOK: dict[str, tuple[str, str, discord.ButtonStyle]] = {
    "reroll": ("Re-roll", "🎲", discord.ButtonStyle.secondary),
    "edit": ("Edit", "✏️", discord.ButtonStyle.secondary),
    "describe": ("Describe", "🔎", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
}
MAX_PROMPT = MAX_PROMPT_LENGTH
MODAL_TIMEOUT_S = 15 * 60.0


class JobMissing(UserFacingError):
    """The job a button points at is not in the history (another database, or removed)."""

    title = "Result not on record"

    def __init__(self, job_id: int) -> None:
        super().__init__(
            f"This result (job #{job_id}) is no longer on record, so its buttons can't be used. "
            "Run the command again to make a new one."
        )


class DeleteNotAllowed(UserFacingError):
    """Only the requester or a member with Manage Messages may delete a result."""

    title = "Not your result"

    def __init__(self) -> None:
        super().__init__(
            "Only the member who asked for this result, or someone with the Manage Messages permission, "
            "can delete it."
        )


# -- the button ---------------------------------------------------------------------------------


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"job:(?P<action>reroll|edit|describe|delete):(?P<id>[0-9]+)",
):
    """One result button; everything it needs is in its custom id."""

    def __init__(self, action: str, job_id: int) -> None:
        label, emoji, style = _LOOK[action]
        super().__init__(
            discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"job:{action}:{job_id}")
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> JobButton:
        """Rebuild the button from a click, in whichever process receives it."""
        return cls(str(match["action"]), int(match["id"]))

    async def callback(self, interaction: discord.Interaction[ImageBot]) -> None:  # type: ignore[override]
        """Run the action; answer any failure privately."""
        actions = {"reroll": reroll, "edit": open_edit_modal, "describe": describe_result, "delete": delete_result}
        try:
            await actions[self.action](interaction, self.job_id)
        except Exception as error:
            await report_failure(interaction, error)


def result_view(job: Job | None) -> discord.ui.View | None:
    """The buttons for a delivered job: all four under images, Delete alone under text; None without an id."""
    if job is None or job.id is None:
        return None
    view = discord.ui.View(timeout=None)
    for action in IMAGE_ACTIONS if job.operation.needs_image_output else ("delete",):
        view.add_item(JobButton(action, job.id))
    return view


async def report_failure(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Answer a failed click or modal like the tree answers a failed command: privately, in plain words."""
    described = describe_error(error)
    if described is None:
        log.error("result button failed (interaction %s)", interaction.id, exc_info=error)
        described = UNEXPECTED
    else:
        log.info("result button refused or failed: %s: %s", type(error).__name__, error)
    await send_private(interaction, embed=error_embed(*described))


# -- actions ------------------------------------------------------------------------------------


async def reroll(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """The same job again (prompt, format, model, references) as a new result."""
    bot = interaction.client
    record = await _job(bot, job_id)
    spec = record.spec
    if not spec.operation.needs_image_output:
        raise UserFacingError("Re-roll works on image results only.", title="Nothing to re-roll")
    if not spec.prompt:
        raise UserFacingError("This result's prompt was not recorded, so it can't be re-rolled.", title="No prompt")
    config = await _enabled(bot, interaction, spec.operation)
    references = await load_references(interaction, spec.references)
    await _run_image_job(
        interaction, config, operation=spec.operation, prompt=spec.prompt, model=spec.model,
        image_format=spec.image_format, aspect_ratio=spec.aspect_ratio, references=references, parent=record,
        title="Re-roll",
    )


async def open_edit_modal(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """Ask for the edit prompt; the edit itself runs when the modal is submitted."""
    bot = interaction.client
    record = await _job(bot, job_id)
    await _enabled(bot, interaction, Operation.EDIT)
    if record.result_deleted:
        raise ImageGone()
    await interaction.response.send_modal(EditResultModal(record, interaction.message, interaction))


class EditResultModal(discord.ui.Modal, title="Edit this image"):
    """The prompt for an edit of one result; remembers the message it was opened from."""

    prompt: discord.ui.TextInput[EditResultModal] = discord.ui.TextInput(
        label="What should change?",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. make it night time, add a red scarf",
        min_length=1,
        max_length=MAX_PROMPT,
        custom_id="prompt",
    )

    def __init__(
        self, record: JobRecord, message: discord.Message | None, opener: discord.Interaction[Any]
    ) -> None:
        super().__init__(timeout=MODAL_TIMEOUT_S, custom_id=f"job-edit:{record.id}:{opener.id}")
        self.record = record
        self.message = message
        self.requester_id = opener.user.id

    async def interaction_check(self, interaction: discord.Interaction[ImageBot]) -> bool:  # type: ignore[override]
        """Only the member who opened the modal submits it."""
        return interaction.user.id == self.requester_id

    async def on_submit(self, interaction: discord.Interaction[ImageBot]) -> None:  # type: ignore[override]
        """Edit the result's image with the new prompt."""
        await edit_result(interaction, self.record.id, self.prompt.value, self.message or interaction.message)

    async def on_error(self, interaction: discord.Interaction[ImageBot], error: Exception) -> None:  # type: ignore[override]
        """Answer privately, like every other failure."""
        await report_failure(interaction, error)


async def edit_result(
    interaction: discord.Interaction[ImageBot], job_id: int, prompt: str, message: discord.Message | None
) -> None:
    """Edit a result's image with the server's edit model; the result is a new message with buttons."""
    bot = interaction.client
    record = await _job(bot, job_id)
    prompt = prompt.strip()
    if not prompt:
        raise UserFacingError("The prompt was empty. Press Edit again and say what should change.")
    config = await _enabled(bot, interaction, Operation.EDIT)
    reference = await load_result(interaction, record, message)
    await _run_image_job(
        interaction, config, operation=Operation.EDIT, prompt=prompt,
        model=config.model_or(bot.default_model(Operation.EDIT)), image_format=record.spec.image_format,
        aspect_ratio=record.spec.aspect_ratio, references=[reference], parent=record, title="Edit",
    )


async def describe_result(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """Describe a result's image exactly as `/describe` would, noting which result it was."""
    bot = interaction.client
    record = await _job(bot, job_id)
    await _enabled(bot, interaction, Operation.DESCRIBE)  # a disabled Describe is refused before any look-up
    describe = cast("Describe | None", bot.get_cog("Describe"))
    if describe is None:
        raise UserFacingError("Describing images is not available on this bot.", title="Not available")
    source = await result_source(interaction, record, interaction.message)
    try:
        await describe.run_describe(interaction, source, None, parent_job_id=record.id, extra_fields=[_origin(record)])
    except AttachmentUnavailable as error:  # only the download raises it, before anything is paid or shown
        raise ImageGone() from error


async def delete_result(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """Delete the result message: the member who asked, or anyone with Manage Messages."""
    bot = interaction.client
    record = await bot.store.jobs.get(job_id)
    requester = record is not None and record.spec.member_id == interaction.user.id
    if not (requester or interaction.permissions.manage_messages):
        if record is None:
            raise JobMissing(job_id)
        raise DeleteNotAllowed()
    await interaction.response.defer()  # acknowledges the click on the message itself
    await interaction.delete_original_response()  # for a button, "original" is the message it is on
    if record is not None:
        await bot.store.jobs.mark_result_deleted(record.id)
    log.info("result of job %s deleted by %s", job_id, interaction.user.id)


# -- shared steps -------------------------------------------------------------------------------


async def _job(bot: ImageBot, job_id: int) -> JobRecord:
    record = await bot.store.jobs.get(job_id)
    if record is None:
        raise JobMissing(job_id)
    return record


async def _enabled(bot: ImageBot, interaction: discord.Interaction[Any], operation: Operation) -> OperationConfig:
    config = await bot.store.guild_config.get(interaction.guild_id, operation)
    if not config.enabled:
        raise OperationDisabled(operation.label, operation.value)
    return config


async def _run_image_job(
    interaction: discord.Interaction[ImageBot],
    config: OperationConfig,
    *,
    operation: Operation,
    prompt: str,
    model: str,
    image_format: str | None,
    aspect_ratio: str | None,
    references: Sequence[tuple[ReferenceSource, LoadedImage]],
    parent: JobRecord,
    title: str,
) -> None:
    """Generate through the job service and deliver a result that carries its own buttons."""
    bot = interaction.client
    async with bot.jobs.run(
        interaction, operation, model=model, prompt=prompt, image_format=image_format, aspect_ratio=aspect_ratio,
        providers=config.provider_filter, references=[source for source, _ in references], parent_job_id=parent.id,
    ) as job:
        job.mark_upstream_start()
        result = await bot.openrouter.generate_image(
            prompt=prompt, model=model, aspect_ratio=aspect_ratio, providers=config.provider_filter,
            references=[image.as_input() for _, image in references], modalities=bot.catalog.modalities_for(model),
            on_retry=job.on_retry,
        )
        job.settle(cost=result.cost, generation_id=result.generation_id)
        files = await prepare_result_files(result.images, stem=operation.value, limit_bytes=interaction.filesize_limit)
        embed = image_result_embed(
            title=title, prompt=prompt, result=result, elapsed_s=job.elapsed_s,
            format_label=ImageFormat(image_format).label if image_format in set(ImageFormat) else aspect_ratio,
            requester=interaction.user.display_name, files=files, extra_fields=[_origin(parent)],
        )
        await job.deliver(embeds=[embed], files=[file.to_discord() for file in files], view=result_view(job))


def _origin(parent: JobRecord) -> tuple[str, str]:
    """The "From" field: the job whose result was used, linked to it while its message is known."""
    link = parent.result_url
    return "From", f"[job #{parent.id}]({link})" if link else f"job #{parent.id}"


class ResultButtons(commands.Cog):
    """Registers the result buttons, so clicks on results from any earlier process are served."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Register the dynamic item (this runs inside `setup_hook`, before the gateway connects)."""
        self.bot.add_dynamic_items(JobButton)

    async def cog_unload(self) -> None:
        """Stop serving the buttons."""
        self.bot.remove_dynamic_items(JobButton)


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(ResultButtons(bot))
