"""The buttons under a result (Re-roll, Edit, Describe, Delete, Upscale, Vary), working across restarts.

Each whole-result button's `custom_id` is `job:<action>:<job id>` (`JobButton`, the template every
result before grids carries, still registered unchanged), and each per-image button's is
`job:<action>:<job id>:<image number>` (`ImageButton`: Upscale, Vary, Edit and Describe of one image
of a grid; Upscale and Vary of a single image are its image 1). Both are `DynamicItem`s registered
when this cog loads (during `setup_hook`). A click therefore needs nothing from the process that
posted the result: the job row holds the prompt, format, model and reference images, and
`cogs._result_images` finds the images again, one by one, once their stored URLs have expired.

Upscale is the same prompt with that image as a reference at the next resolution tier the model
offers (`bot.jobs.planning.next_resolution`; refused when there is none), keeping the seed; Vary is
the same prompt and settings with that image as a reference and a new seed. Both are new jobs whose
parent is the result, with the image's number recorded (`/jobs`: "Upscale of image 2 of job #12").

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
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.ext import commands

from bot.access import is_spoilered, require_access, spoiler_results
from bot.attachments import AttachmentUnavailable, ImageSource
from bot.contexts import require_server
from bot.error_messages import describe_error
from bot.errors import UserFacingError, refusal
from bot.grid import MAX_PER_IMAGE_BUTTONS
from bot.i18n import speak_to
from bot.jobs import InputLoader, Job, JobInputs
from bot.jobs.image_job import run_image_job
from bot.jobs.planning import (
    DEFAULT_RESOLUTION,
    MAX_SEED,
    NOTHING_ASKED,
    Asked,
    fit_references,
    next_resolution,
    plan_for,
)
from bot.messages import Msg, in_english, ui
from bot.messages import grid as grid_texts
from bot.messages import results as texts
from bot.messages.commands import UNEXPECTED
from bot.operations import Operation
from bot.replies import error_embed, send_private
from bot.requests import ImageRequest, Route
from bot.storage.guild_config import OperationConfig
from bot.storage.jobs import JobRecord
from cogs._prompt_form import PromptForm, PromptRoutes, submitted_prompt
from cogs._result_images import ImageGone, load_references, load_result, result_source

if TYPE_CHECKING:
    from bot.core import ImageBot
    from cogs.describe import Describe

__all__ = ["ImageButton", "JobButton", "ResultButtons", "grid_rows", "result_rows", "result_view"]

log = logging.getLogger(__name__)

IMAGE_ACTIONS = ("reroll", "edit", "describe", "delete")
#: Labels are looked up when a button is made, in the language of whoever it is made for.
_LOOK: dict[str, tuple[Msg, str, discord.ButtonStyle]] = {
    "reroll": (ui.REROLL_BUTTON, "🎲", discord.ButtonStyle.secondary),
    "edit": (ui.EDIT_BUTTON, "✏️", discord.ButtonStyle.secondary),
    "describe": (ui.DESCRIBE_BUTTON, "🔎", discord.ButtonStyle.secondary),
    "delete": (ui.DELETE_BUTTON, "🗑️", discord.ButtonStyle.danger),
}
#: The Edit button's prompt form: the job id (older forms also carried the opener's interaction id).
EDIT_RESULT_FORM = r"job-edit:(?P<id>[0-9]+)(?::[0-9]+)?"
#: The prompt form of "Edit <n>" on a grid: the job id and the image's number.
EDIT_IMAGE_FORM = r"job-edit-image:(?P<id>[0-9]+):(?P<index>[0-9]{1,2})"
#: Per-image actions, and how each one's button looks (label template, emoji, style).
IMAGE_BUTTONS: dict[str, tuple[Msg, str | None, discord.ButtonStyle]] = {
    "upscale": (grid_texts.BUTTON_UPSCALE, None, discord.ButtonStyle.primary),
    "vary": (grid_texts.BUTTON_VARY, None, discord.ButtonStyle.secondary),
    "edit": (grid_texts.BUTTON_EDIT, "✏️", discord.ButtonStyle.secondary),
    "describe": (grid_texts.BUTTON_DESCRIBE, "🔎", discord.ButtonStyle.secondary),
}


class JobMissing(UserFacingError):
    """The job a button points at is not in this server's history (removed, another database, another server)."""

    title = texts.JOB_MISSING.title

    def __init__(self, job_id: int) -> None:
        super().__init__(texts.JOB_MISSING.format(job_id=job_id))


class DeleteNotAllowed(UserFacingError):
    """Only the requester or a member with Manage Messages may delete a result."""

    title = texts.DELETE_NOT_ALLOWED.title

    def __init__(self) -> None:
        super().__init__(texts.DELETE_NOT_ALLOWED.format())


# -- the button ---------------------------------------------------------------------------------


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"job:(?P<action>reroll|edit|describe|delete):(?P<id>[0-9]+)",
):
    """One result button; everything it needs is in its custom id."""

    def __init__(self, action: str, job_id: int) -> None:
        label, emoji, style = _LOOK[action]
        super().__init__(
            discord.ui.Button(label=label.text, emoji=emoji, style=style, custom_id=f"job:{action}:{job_id}")
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
        speak_to(interaction)  # a click does not pass the tree: the member's language is set here (`bot.i18n`)
        try:
            require_server(interaction)
            await actions[self.action](interaction, self.job_id)
        except Exception as error:
            await report_failure(interaction, error)


class ImageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"job:(?P<action>upscale|vary|edit|describe):(?P<id>[0-9]+):(?P<index>[0-9]{1,2})",
):
    """A button acting on one image of a result; its custom id carries the job and the image's number."""

    def __init__(self, action: str, job_id: int, index: int, *, label: str | None = None) -> None:
        template, emoji, style = IMAGE_BUTTONS[action]
        super().__init__(
            discord.ui.Button(label=label or template.format(number=index), emoji=emoji, style=style,
                              custom_id=f"job:{action}:{job_id}:{index}")
        )
        self.action = action
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ImageButton:
        """Rebuild the button from a click, in whichever process receives it."""
        return cls(str(match["action"]), int(match["id"]), int(match["index"]))

    async def callback(self, interaction: discord.Interaction[ImageBot]) -> None:  # type: ignore[override]
        """Run the action on this image; answer any failure privately."""
        actions = {"upscale": upscale_image, "vary": vary_image, "edit": open_edit_image_modal,
                   "describe": describe_image}
        speak_to(interaction)  # a click does not pass the tree: the member's language is set here (`bot.i18n`)
        try:
            require_server(interaction)
            await actions[self.action](interaction, self.job_id, self.index)
        except Exception as error:
            await report_failure(interaction, error)


def result_view(job: Job | None) -> discord.ui.View | None:
    """The buttons for a delivered job of one image: the four, then Upscale and Vary; Delete alone under text.

    None without an id.
    """
    if job is None or job.id is None:
        return None
    return single_result_view(job.id, job.operation)


def single_result_view(job_id: int, operation: Operation) -> discord.ui.View:
    """The buttons of a result of one image (or of a description), fresh or shown again by `/show`."""
    view = discord.ui.View(timeout=None)
    for action in IMAGE_ACTIONS if operation.needs_image_output else ("delete",):
        view.add_item(JobButton(action, job_id))
    if operation.needs_image_output:
        for action, label in (("upscale", grid_texts.TITLE_UPSCALE), ("vary", grid_texts.TITLE_VARY)):
            button = ImageButton(action, job_id, 1, label=label.text)
            button.row = 1
            view.add_item(button)
    return view


def result_rows(job: Job, count: int) -> list[list[discord.ui.Item[Any]]]:
    """The button rows of a delivered grid of `count` images (`grid_rows` of its job id)."""
    assert job.id is not None
    return grid_rows(job.id, count)


def grid_rows(job_id: int, count: int) -> list[list[discord.ui.Item[Any]]]:
    """The button rows of a grid of `count` images: U, V, Edit and Describe per image, then Re-roll and Delete."""
    numbers = range(1, min(count, MAX_PER_IMAGE_BUTTONS) + 1)
    rows: list[list[discord.ui.Item[Any]]] = [
        [ImageButton(action, job_id, number) for number in numbers] for action in IMAGE_BUTTONS
    ]
    rows.append([JobButton("reroll", job_id), JobButton("delete", job_id)])
    return rows


async def report_failure(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Answer a failed click or modal like the tree answers a failed command: privately, in plain words."""
    described = describe_error(error)
    if described is None:
        log.error("result button failed (interaction %s)", interaction.id, exc_info=error)
        described = UNEXPECTED.pair()
    else:
        log.info("result button refused or failed: %s: %s", type(error).__name__, in_english(error))
    await send_private(interaction, embed=error_embed(*described))


# -- actions ------------------------------------------------------------------------------------


async def reroll(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """The same prompt and format again as a new result, under the server's settings of today.

    The model, provider filter and max references are the server's current ones, not the job's:
    otherwise an old result's button would keep a model or as many images as an admin has since ruled
    out. Only the prompt, the format, the options (count, resolution, quality, and the seed if the member
    gave one) and the images themselves come from the job.
    """
    bot = interaction.client
    record = await _job(interaction, job_id)
    spec = record.spec
    if not spec.operation.needs_image_output:
        raise refusal(texts.NOTHING_TO_REROLL)
    if not spec.prompt:
        raise refusal(texts.NO_PROMPT)
    config = await require_access(bot, interaction, spec.operation)
    references = spec.references
    notes: list[str] = []
    if spec.operation is Operation.EDIT and len(references) > config.effective_max_references:
        limit = config.effective_max_references
        notes.append(ui.USED_FIRST_JOB_IMAGES.format(limit=limit, count=len(references)))
        references = references[:limit]

    async def load() -> JobInputs:
        loaded = await load_references(interaction, references)
        return JobInputs(images=[image for _, image in loaded], notes=notes)

    # The job's own request, under today's settings: the model and providers the server uses now.
    request = replace(
        spec.request,
        model=config.model_or(bot.default_model(spec.operation)),
        providers=config.provider_filter,
        references=tuple(references),
    )
    # The same options again, planned for today's model: the member's own seed, else a new one (a re-roll
    # is for another image).
    asked = Asked(count=min(request.count, config.effective_max_count), resolution=request.resolution,
                  quality=request.quality, seed=request.seed if request.seed_given else None)
    await _run_from(interaction, record, spec.operation, request, config, asked, load=load,
                    title=ui.REROLL_TITLE.text)


async def open_edit_modal(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """Ask for the edit prompt; the edit itself runs when the form is submitted, in any process."""
    bot = interaction.client
    record = await _job(interaction, job_id)
    await require_access(bot, interaction, Operation.EDIT)
    if record.result_deleted:
        raise ImageGone()
    await interaction.response.send_modal(
        PromptForm(title=ui.EDIT_RESULT_FORM_TITLE.text, custom_id=f"job-edit:{record.id}")
    )


async def edit_submitted(interaction: discord.Interaction[ImageBot], ids: dict[str, str]) -> None:
    """The Edit button's form was submitted (perhaps after a restart): edit, answering every failure."""
    try:
        require_server(interaction)
        job_id = int(ids["id"])
        record = await _job(interaction, job_id)
        if interaction.channel_id not in (record.result_channel_id, record.spec.channel_id) and not _carries_button(
            interaction.message, f"job:edit:{job_id}"
        ):
            raise JobMissing(job_id)  # submitted from where no result of the job is: a forged form
        await edit_result(interaction, job_id, submitted_prompt(interaction), interaction.message)
    except Exception as error:
        await report_failure(interaction, error)


def _carries_button(message: discord.Message | None, custom_id: str) -> bool:
    """Whether `message` (the one Discord says a form was opened from) has the button `custom_id`."""
    if message is None:
        return False
    for row in message.components:
        for item in getattr(row, "children", ()):
            if getattr(item, "custom_id", None) == custom_id:
                return True
    return False


async def edit_result(
    interaction: discord.Interaction[ImageBot], job_id: int, prompt: str, message: discord.Message | None,
    *, index: int = 1,
) -> None:
    """Edit a result's image with the server's edit model; the result is a new message with buttons."""
    bot = interaction.client
    record = await _job(interaction, job_id)
    prompt = prompt.strip()
    if not prompt:
        raise refusal(texts.EMPTY_BUTTON_PROMPT)
    config = await require_access(bot, interaction, Operation.EDIT)

    async def load() -> JobInputs:
        _, image = await load_result(interaction, record, message, index)
        return JobInputs(images=[image])

    request = ImageRequest(
        prompt=prompt,
        model=config.model_or(bot.default_model(Operation.EDIT)),
        image_format=record.spec.image_format,
        aspect_ratio=record.spec.aspect_ratio,
        providers=config.provider_filter,
    )
    one_of_several = index > 1 or len(record.result_files) > 1
    await _run_from(interaction, record, Operation.EDIT, request, config, NOTHING_ASKED, load=load,
                    title=ui.EDIT_TITLE.text, image_index=index if one_of_several else None,
                    action="edit" if one_of_several else None)


async def describe_result(interaction: discord.Interaction[ImageBot], job_id: int, *, index: int = 1) -> None:
    """Describe a result's image exactly as `/describe` would, noting which result it was."""
    bot = interaction.client
    record = await _job(interaction, job_id)
    await require_access(bot, interaction, Operation.DESCRIBE)  # refused before any look-up
    describe = cast("Describe | None", bot.get_cog("Describe"))
    if describe is None:
        raise refusal(texts.DESCRIBE_UNAVAILABLE)
    message = interaction.message

    async def find() -> ImageSource:
        return await result_source(interaction, record, message, index)

    one_of_several = len(record.result_files) > 1
    origin = _origin(record, index if one_of_several else None)
    try:
        await describe.run_describe(interaction, find, None, parent_job_id=record.id,
                                    parent_image_index=index if one_of_several else None, extra_fields=[origin])
    except AttachmentUnavailable as error:  # only the download raises it, before anything is paid or shown
        raise ImageGone() from error


async def upscale_image(interaction: discord.Interaction[ImageBot], job_id: int, index: int) -> None:
    """Image `index` again at the next resolution tier the model offers: same prompt, seed, shape."""
    await _from_image(interaction, job_id, index, action="upscale")


async def vary_image(interaction: discord.Interaction[ImageBot], job_id: int, index: int) -> None:
    """A new image from the same prompt and settings with image `index` as its reference, and a new seed."""
    await _from_image(interaction, job_id, index, action="vary")


async def _from_image(interaction: discord.Interaction[ImageBot], job_id: int, index: int, *, action: str) -> None:
    """Upscale or Vary: one new image from image `index` of the job, a child job recording which image.

    Under the server's settings of today (model, providers, route), like a re-roll; refused before
    anything is spent when the model takes no reference image, or (Upscale) offers no larger tier.
    """
    bot = interaction.client
    record = await _job(interaction, job_id)
    spec = record.spec
    if not spec.operation.needs_image_output:
        raise refusal(grid_texts.NOTHING_TO_UPSCALE)
    _require_image(record, index)
    config = await require_access(bot, interaction, spec.operation)
    model = config.model_or(bot.default_model(spec.operation))
    route = bot.catalog.route_for(model, config.route)
    params = bot.catalog.image_params(model, route=route)
    if params.known and params.max_references == 0:
        raise refusal(grid_texts.CANNOT_TAKE_REFERENCE, model=model)
    resolution = spec.request.resolution
    notes: list[str] = []
    if action == "upscale":
        higher = next_resolution(resolution, params)
        if higher is None:
            raise refusal(grid_texts.NO_HIGHER_RESOLUTION, model=model, resolution=resolution or DEFAULT_RESOLUTION,
                          number=index)
        resolution = higher
        notes.append(grid_texts.UPSCALED_TO.format(resolution=higher))
    message = interaction.message

    async def load() -> JobInputs:
        _, image = await load_result(interaction, record, message, index)
        return JobInputs(images=[image], notes=notes)

    request = replace(spec.request, model=model, providers=config.provider_filter, references=(), count=1)
    # Upscale keeps the image's own seed (the same picture, larger); Vary lets the plan pick a new one.
    asked = Asked(count=1, seed=_image_seed(bot, record, index) if action == "upscale" else None,
                  resolution=resolution, quality=spec.request.quality)
    title = (grid_texts.TITLE_UPSCALE if action == "upscale" else grid_texts.TITLE_VARY).text
    await _run_from(interaction, record, spec.operation, request, config, asked, load=load, title=title,
                    image_index=index, action=action)


def _image_seed(bot: ImageBot, record: JobRecord, index: int) -> int | None:
    """The seed image `index` of a job was made with, as its row records it (`JobRecord.result_seeds`).

    A row from before seeds were kept per image has none: then each call of a grid is taken to have sent
    the next seed, and to have made as many images as the model's route gives per call (one on the chat
    route), as the catalog says today.
    """
    request = record.spec.request
    if len(record.result_seeds) >= index:
        return record.result_seeds[index - 1]
    if request.seed is None:
        return None
    per_call = 1
    if request.route is Route.IMAGES:
        per_call = max(1, min(bot.catalog.image_params(request.model, route=request.route).max_count, request.count))
    return (request.seed + (index - 1) // per_call) % (MAX_SEED + 1)


def _require_image(record: JobRecord, index: int) -> None:
    """Refuse a number the result has no image for (a forged or stale custom id)."""
    known = len(record.result_files) or record.spec.request.count
    if not 1 <= index <= max(known, 1):
        raise refusal(grid_texts.NO_SUCH_IMAGE, job_id=record.id, number=index)


async def open_edit_image_modal(interaction: discord.Interaction[ImageBot], job_id: int, index: int) -> None:
    """"Edit <n>": ask for the prompt; the edit of that image runs when the form is submitted, in any process."""
    bot = interaction.client
    record = await _job(interaction, job_id)
    _require_image(record, index)
    await require_access(bot, interaction, Operation.EDIT)
    if record.result_deleted:
        raise ImageGone()
    title = grid_texts.BUTTON_EDIT.format(number=index)
    await interaction.response.send_modal(PromptForm(title=title, custom_id=f"job-edit-image:{record.id}:{index}"))


async def edit_image_submitted(interaction: discord.Interaction[ImageBot], ids: dict[str, str]) -> None:
    """The "Edit <n>" form was submitted (perhaps after a restart): edit that image, answering every failure."""
    try:
        require_server(interaction)
        job_id, index = int(ids["id"]), int(ids["index"])
        record = await _job(interaction, job_id)
        if interaction.channel_id not in (record.result_channel_id, record.spec.channel_id) and not _carries_button(
            interaction.message, f"job:edit:{job_id}:{index}"
        ):
            raise JobMissing(job_id)  # submitted from where no result of the job is: a forged form
        _require_image(record, index)
        await edit_result(interaction, job_id, submitted_prompt(interaction), interaction.message, index=index)
    except Exception as error:
        await report_failure(interaction, error)


async def describe_image(interaction: discord.Interaction[ImageBot], job_id: int, index: int) -> None:
    """"Describe <n>": image `index` of the result, exactly as `/describe` would."""
    record = await _job(interaction, job_id)
    _require_image(record, index)
    await describe_result(interaction, job_id, index=index)


async def delete_result(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """Delete the result message: the member who asked, or anyone with Manage Messages."""
    bot = interaction.client
    record = await _job_or_none(interaction, job_id)
    requester = record is not None and record.spec.member_id == interaction.user.id
    if not (requester or interaction.permissions.manage_messages):
        if record is None:
            raise JobMissing(job_id)
        raise DeleteNotAllowed()
    await interaction.response.defer()  # acknowledges the click on the message itself
    await interaction.delete_original_response()  # for a button, "original" is the message it is on
    message = interaction.message
    if record is not None and message is not None and message.id == record.result_message_id:
        await bot.store.jobs.mark_result_deleted(record.id)  # a copy posted by /show is not the result
    log.info("result of job %s deleted by %s", job_id, interaction.user.id)


# -- shared steps -------------------------------------------------------------------------------


async def _job_or_none(interaction: discord.Interaction[ImageBot], job_id: int) -> JobRecord | None:
    """The job, if it is on record and belongs to the server the click came from.

    A custom id can be forged, so a job of another server is treated exactly as a missing one: a click
    here must not re-run, edit or describe another server's prompts and images.
    """
    record = await interaction.client.store.jobs.get(job_id)
    if record is None or record.spec.guild_id is None or record.spec.guild_id != interaction.guild_id:
        return None
    return record


async def _job(interaction: discord.Interaction[ImageBot], job_id: int) -> JobRecord:
    record = await _job_or_none(interaction, job_id)
    if record is None:
        raise JobMissing(job_id)
    return record


async def _run_from(
    interaction: discord.Interaction[ImageBot],
    parent: JobRecord,
    operation: Operation,
    request: ImageRequest,
    config: OperationConfig,
    asked: Asked,
    *,
    load: InputLoader,
    title: str,
    image_index: int | None = None,
    action: str | None = None,
) -> None:
    """A new job made from a result, through the one image-job path; a spoilered result stays spoilered.

    `image_index`: the one image of the parent it is made from (its reference), recorded with `action`.
    """
    bot = interaction.client
    hide = await spoiler_results(bot, interaction, asked=is_spoilered(parent.result_files))
    plan = await plan_for(bot.catalog, replace(request, seed=None), asked, config)
    inputs = max(1 if image_index is not None else len(request.references), 1 if operation is Operation.EDIT else 0)
    fit_references(plan, range(inputs))  # refused before anything is spent when the model takes no image
    await run_image_job(
        bot, interaction, operation, plan.request, title=title, spoiler=hide, load=load,
        per_call=plan.per_call, stream=plan.stream, notes=plan.notes,
        input_count=inputs,
        parent_job_id=parent.id, parent_image_index=image_index, parent_action=action,
        extra_fields=[_origin(parent, image_index)],
    )


def _origin(parent: JobRecord, image_index: int | None = None) -> tuple[str, str]:
    """The "From" field: the job (and image) whose result was used, linked to it while its message is known."""
    link = parent.result_url
    if image_index is not None:
        if link:
            return ui.FIELD_FROM.text, grid_texts.FROM_IMAGE_LINKED.format(number=image_index, job_id=parent.id,
                                                                           link=link)
        return ui.FIELD_FROM.text, grid_texts.FROM_IMAGE.format(number=image_index, job_id=parent.id)
    shown = ui.JOB_LINK.format(job_id=parent.id, link=link) if link else ui.JOB_REFERENCE.format(job_id=parent.id)
    return ui.FIELD_FROM.text, shown


class ResultButtons(commands.Cog):
    """Registers the result buttons, so clicks on results from any earlier process are served."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot
        self.forms = PromptRoutes()
        self.forms.add(EDIT_RESULT_FORM, edit_submitted)
        self.forms.add(EDIT_IMAGE_FORM, edit_image_submitted)

    async def cog_load(self) -> None:
        """Register the dynamic item (this runs inside `setup_hook`, before the gateway connects)."""
        self.bot.add_dynamic_items(JobButton, ImageButton)
        self.bot.jobs.result_view = result_view
        self.bot.jobs.result_rows = result_rows

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[ImageBot]) -> None:
        """Serve the Edit button's form, also when it was opened before a restart."""
        await self.forms.dispatch(interaction)

    async def cog_unload(self) -> None:
        """Stop serving the buttons."""
        self.bot.remove_dynamic_items(JobButton, ImageButton)
        if self.bot.jobs.result_view is result_view:
            self.bot.jobs.result_view = None
        if self.bot.jobs.result_rows is result_rows:
            self.bot.jobs.result_rows = None


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(ResultButtons(bot))
