"""`/show job:<id>`: post a finished result again, with working buttons, in the current channel.

Results scroll away; a member (or an admin, for anyone's) can bring one back by the number `/jobs`
shows, autocompleted from their own finished jobs (an admin's list has the whole server's). Nothing
is generated and nothing is paid: the stored result message is fetched again (attachment URLs
expire, a fetched message brings fresh ones), its images are downloaded through the bot's guarded
attachment pipeline (`bot.attachments`) and uploaded again under the same filenames (a `SPOILER_`
name stays a spoiler), with an embed built from the job row and the result's own buttons
(`JobButton`s carrying the job id, so they work after a restart like any result's). A describe
answer is posted again from the stored message's embeds when the whole answer is there.

The re-post is public (it is a result); every refusal is private, through the tree's error handler.
Only this server's jobs can be shown: another server's job is refused exactly as a missing one.
Everything comes from the database and Discord, nothing from memory, so `/show` works across restarts.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import is_spoilered, require_channel, spoiler_results
from bot.attachments import AttachmentUnavailable, ImageSource
from bot.contexts import require_server
from bot.errors import UserFacingError, refusal
from bot.grid import GridText, grid_layout
from bot.i18n import DEFAULT_LOCALE, SHIPPED, ago, day, using
from bot.images import ImageTooLarge
from bot.messages import grid as grid_texts
from bot.messages import history, ui
from bot.messages import results as texts
from bot.operations import ImageFormat
from bot.rendering import (
    EMBED_DESCRIPTION_LIMIT,
    MESSAGE_EMBED_CHARS,
    RESULT_COLOUR,
    escape_member_text,
    format_cost,
    pack_embeds,
    shorten,
)
from bot.storage.jobs import INTERRUPTED, MAX_CHOICES, JobRecord, JobStatus
from cogs._result_images import defer, fetch_message
from cogs.result_buttons import grid_rows, single_result_view

if TYPE_CHECKING:
    from bot.core import ImageBot
    from bot.operations import Operation

__all__ = ["Show", "choice_name", "parse_job_id", "shown_grid_text", "shown_image_embed", "shown_view"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What the `job` option accepts: a job number, `#` in front or not (a pasted choice name works too).
_JOB_NUMBER = re.compile(r"^\s*#?\s*([0-9]{1,18})(?![0-9])")
#: How Discord marks a spoilered attachment: its filename starts with this.
SPOILER_PREFIX = "SPOILER_"


@functools.cache
def _part_patterns() -> tuple[re.Pattern[str], ...]:
    """The footer `/describe` puts on each embed of an answer split over several, in every shipped language.

    The stored answer was written in the language of whoever asked, which need not be the language of
    whoever shows it again, so each catalog's wording of `PART_OF` is recognised.
    """
    patterns = []
    for locale in (DEFAULT_LOCALE, *SHIPPED):
        with using(locale):
            template = re.escape(ui.PART_OF.text)
        for field in ("number", "total"):  # re.escape escapes the braces of the fields
            template = template.replace(re.escape("{" + field + "}"), f"(?P<{field}>[0-9]+)")
        patterns.append(re.compile(template))
    return tuple(dict.fromkeys(patterns))


def _part(footer: str) -> tuple[int, int] | None:
    """(number, total) of a split answer's embed, from its footer; None for an answer in one piece."""
    for pattern in _part_patterns():
        found = pattern.search(footer)
        if found is not None:
            return int(found["number"]), int(found["total"])
    return None


# -- refusals -----------------------------------------------------------------------------------


class JobNotFound(UserFacingError):
    """No such job in this server (a job of another server is refused with these same words)."""

    title = texts.JOB_NOT_FOUND.title

    def __init__(self, job_id: int) -> None:
        super().__init__(texts.JOB_NOT_FOUND.format(job_id=job_id))


class NotYourJob(UserFacingError):
    """A member without Manage Server asked for someone else's job."""

    title = texts.NOT_YOUR_JOB.title

    def __init__(self, job_id: int) -> None:
        super().__init__(texts.NOT_YOUR_JOB.format(job_id=job_id))


class NotFinished(UserFacingError):
    """The job is queued, running or failed: there is no result to show."""

    title = texts.NOT_FINISHED_TITLE

    def __init__(self, record: JobRecord) -> None:
        if record.status is JobStatus.QUEUED:
            text = texts.JOB_WAITING
        elif record.status is JobStatus.RUNNING:
            text = texts.JOB_RUNNING
        elif record.error_kind == INTERRUPTED:
            text = texts.JOB_INTERRUPTED
        else:
            text = texts.JOB_FAILED
        super().__init__(text.format(job_id=record.id))


class ResultGone(UserFacingError):
    """The result was deleted, or its message or images can no longer be fetched."""

    title = texts.RESULT_GONE.title

    def __init__(self, job_id: int, *, deleted: bool = False) -> None:
        super().__init__((texts.RESULT_DELETED if deleted else texts.RESULT_GONE).format(job_id=job_id))


class AnswerNotFound(UserFacingError):
    """A describe answer that is not (or not wholly) on the stored message; `why` is a `texts.ANSWER_*` reason."""

    title = texts.ANSWER_NOT_FOUND.title

    def __init__(self, record: JobRecord, why: str) -> None:
        super().__init__(texts.answer_not_found(record.id, why, record.result_url))


# -- pieces -------------------------------------------------------------------------------------


def parse_job_id(typed: str) -> int:
    """The job number in what the member typed or picked (`12`, `#12`, a pasted choice name)."""
    match = _JOB_NUMBER.match(typed)
    if match is None:
        raise refusal(texts.WHICH_JOB)
    return int(match[1])


def shown_view(job_id: int, operation: Operation) -> discord.ui.View:
    """The buttons every result of this operation carries, Upscale and Vary included, for a job shown again."""
    return single_result_view(job_id, operation)


def _ago(moment: datetime, now: datetime) -> str:
    """When, for an autocomplete choice (Discord formats no timestamp there): in words, or the date past 30 days."""
    if now - moment > timedelta(days=30):
        return day(moment.date())
    if now - moment < timedelta(minutes=1):
        return history.JUST_NOW.text
    return ago(now - moment)


def choice_name(record: JobRecord, now: datetime) -> str:
    """An autocomplete choice: "#id · operation · prompt start · when", within Discord's 100 characters."""
    head = f"#{record.id} · {record.spec.operation.label} · "
    tail = f" · {_ago(record.created_at, now)}"
    prompt = " ".join(record.spec.prompt.split()) or history.NO_PROMPT_RECORDED.text
    return head + shorten(prompt, max(100 - len(head) - len(tail), 1)) + tail


def _format_label(record: JobRecord) -> str | None:
    image_format = record.spec.image_format
    if image_format in set(ImageFormat):
        return ImageFormat(image_format).shown
    return record.spec.aspect_ratio


def shown_image_embed(record: JobRecord, filenames: Sequence[str], *, shown_by: str) -> discord.Embed:
    """An image result's embed rebuilt from its job: prompt, model, cost, who asked, who showed it, the original.

    The first image is shown large, unless the files are spoilered: Discord would show an embed's image
    unhidden, so a spoilered result's pictures are the spoilered attachments alone.
    """
    spec = record.spec
    embed = discord.Embed(title=spec.operation.label, colour=RESULT_COLOUR)
    embed.add_field(name=ui.FIELD_MODEL.text, value=escape_member_text(spec.model, 1024))
    label = _format_label(record)
    if label:
        embed.add_field(name=ui.FIELD_FORMAT.text, value=shorten(label, 1024))
    embed.add_field(name=ui.FIELD_COST.text, value=format_cost(record.cost))
    embed.add_field(name=history.ASKED_BY.text,
                    value=f"<@{spec.member_id}> · <t:{int(record.created_at.timestamp())}:R>")
    embed.add_field(name=history.ORIGINAL.text, value=_job_link(record), inline=False)
    if filenames and not any(name.startswith(SPOILER_PREFIX) for name in filenames):
        embed.set_image(url=f"attachment://{filenames[0]}")  # Discord never hides an embed's image: not for spoilers
    embed.set_footer(text=shorten(history.SHOWN_AGAIN_BY.format(name=shown_by), 2048))
    room = min(EMBED_DESCRIPTION_LIMIT, MESSAGE_EMBED_CHARS - len(embed) - 1)
    embed.description = escape_member_text(spec.prompt, room) or None
    return embed


def shown_grid_text(record: JobRecord, count: int, *, shown_by: str) -> GridText:
    """The text of a grid shown again: what `shown_image_embed` says, for a Components V2 text display."""
    spec = record.spec
    link = record.result_url
    return GridText(
        title=spec.operation.label, prompt=spec.prompt, model=spec.model, shape=_format_label(record),
        seed=spec.request.seed, seeds=record.result_seeds, cost=record.cost, elapsed_s=None, count=count,
        requester="", shown_by=shown_by,
        extra_fields=[
            (grid_texts.SHOWN_ASKED_BY_FIELD.text,
             grid_texts.SHOWN_ASKED_BY.format(member_id=spec.member_id, timestamp=int(record.created_at.timestamp()))),
            (grid_texts.SHOWN_ORIGINAL_FIELD.text,
             grid_texts.SHOWN_ORIGINAL_LINKED.format(job_id=record.id, link=link) if link
             else grid_texts.SHOWN_ORIGINAL.format(job_id=record.id)),
        ],
    )


def _job_link(record: JobRecord) -> str:
    """The job, linked to its result while the result's message is known."""
    link = record.result_url
    return ui.JOB_LINK.format(job_id=record.id, link=link) if link else ui.JOB_REFERENCE.format(job_id=record.id)


def _spoilered(filename: str) -> str:
    return filename if filename.startswith(SPOILER_PREFIX) else SPOILER_PREFIX + filename


def _result_attachments(message: discord.Message, filenames: Sequence[str]) -> list[discord.Attachment] | None:
    """The result's attachments in the stored order (all of them if none were recorded); None if one is missing."""
    if not filenames:
        return list(message.attachments) or None
    left = list(message.attachments)
    found = []
    for filename in filenames:
        match = next((attachment for attachment in left if attachment.filename == filename), None)
        if match is None:
            return None
        left.remove(match)
        found.append(match)
    return found


def _answer_embeds(record: JobRecord, message: discord.Message | None, *, shown_by: str) -> list[discord.Embed]:
    """A describe answer's embeds from its stored message, marked as shown again; refuses a partial answer."""
    if message is None:
        raise AnswerNotFound(record, texts.ANSWER_UNREADABLE.text)
    embeds = [embed.copy() for embed in message.embeds if embed.description]
    if not embeds:
        raise AnswerNotFound(record, texts.ANSWER_GONE.text)
    parts = [_part(embed.footer.text or "") for embed in embeds]
    numbered = [part for part in parts if part is not None]
    if numbered and max(number for number, _ in numbered) < numbered[0][1]:
        raise AnswerNotFound(record, texts.ANSWER_PARTIAL.text)
    last = embeds[-1]
    last.add_field(name=history.ORIGINAL.text, value=_job_link(record))
    footer = " · ".join(item for item in (last.footer.text, history.SHOWN_AGAIN_BY.format(name=shown_by)) if item)
    last.set_footer(text=shorten(footer, 2048))
    return embeds


# -- the cog ------------------------------------------------------------------------------------


class Show(commands.Cog):
    """Showing a finished result again."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    @app_commands.command(name="show")
    @app_commands.guild_only()
    @app_commands.describe(job="The job to show again: its number as /jobs shows it (pick from the list)")
    async def show(self, interaction: discord.Interaction[ImageBot], job: app_commands.Range[str, 1, 100]) -> None:
        """Post one of your finished results again, with its buttons, in this channel."""
        record = await self._showable(interaction, parse_job_id(job))
        # A result goes only where its command may be used (the buttons on it would be refused elsewhere).
        await require_channel(self.bot, interaction, record.spec.operation)
        if record.spec.operation.needs_image_output:
            await self._show_images(interaction, record)
        else:
            await self._show_answer(interaction, record)
        log.info("job %s shown again by %s in channel %s", record.id, interaction.user.id, interaction.channel_id)

    @show.autocomplete("job")
    async def job_autocomplete(
        self, interaction: discord.Interaction[ImageBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """The member's latest finished jobs (a Manage Server member's: the server's) matching what is typed."""
        if interaction.guild_id is None:
            return []
        member_id = None if interaction.permissions.manage_guild else interaction.user.id
        records = await self.bot.store.jobs.find_recent(
            interaction.guild_id, member_id=member_id, typed=current, status=JobStatus.DONE,
            include_deleted=False, limit=MAX_CHOICES,
        )
        now = self.bot.jobs.clock()
        return [app_commands.Choice(name=choice_name(record, now), value=str(record.id)) for record in records]

    # -- steps ----------------------------------------------------------------------------------

    async def _showable(self, interaction: discord.Interaction[ImageBot], job_id: int) -> JobRecord:
        """The job, if this member may show it here and it has a result."""
        guild_id = require_server(interaction)
        record = await self.bot.store.jobs.get(job_id)
        if record is None or record.spec.guild_id != guild_id:
            raise JobNotFound(job_id)  # another server's job must not even be confirmed to exist
        if record.spec.member_id != interaction.user.id and not interaction.permissions.manage_guild:
            raise NotYourJob(job_id)
        if record.status is not JobStatus.DONE:
            raise NotFinished(record)
        if record.result_deleted or record.result_message_id is None:
            raise ResultGone(record.id, deleted=record.result_deleted)
        return record

    async def _stored_message(self, record: JobRecord) -> discord.Message | None:
        return await fetch_message(self.bot, record.result_channel_id or record.spec.channel_id,
                                   record.result_message_id)

    async def _show_images(self, interaction: discord.Interaction[ImageBot], record: JobRecord) -> None:
        """Fetch the result message again, download its images through the pipeline, upload them again."""

        async def gather() -> list[tuple[str, bytes]]:
            message = await self._stored_message(record)
            attachments = _result_attachments(message, record.result_files) if message is not None else None
            if message is None or not attachments:
                raise ResultGone(record.id)
            if any(attachment.size > interaction.filesize_limit for attachment in attachments):
                raise refusal(texts.TOO_LARGE_TO_POST, job_id=record.id)
            sources = [ImageSource.from_attachment(attachment, message, job_id=record.id) for attachment in attachments]
            try:
                data = await _all_in_order([self.bot.attachments.download(source) for source in sources])
            except AttachmentUnavailable as error:
                raise ResultGone(record.id) from error
            except ImageTooLarge as error:
                raise refusal(texts.TOO_LARGE_TO_DOWNLOAD, job_id=record.id) from error
            return [(attachment.filename, blob) for attachment, blob in zip(attachments, data, strict=True)]

        images = await self._in_time(interaction, gather())
        if await spoiler_results(self.bot, interaction, asked=is_spoilered(record.result_files)):
            # The server's spoiler rule holds where it is shown again (made in an age-restricted channel,
            # shown in a normal one), and a spoilered result stays spoilered anywhere.
            images = [(_spoilered(filename), blob) for filename, blob in images]
        files = [discord.File(io.BytesIO(blob), filename=filename) for filename, blob in images]
        if len(files) > 1:  # a grid is shown again as a grid, with its per-image buttons
            spoiler = any(name.startswith(SPOILER_PREFIX) for name, _ in images)
            layout = grid_layout(shown_grid_text(record, len(files), shown_by=interaction.user.display_name),
                                 files, grid_rows(record.id, len(files)), spoiler=spoiler)
            await _post(interaction, [], files=files, view=layout)
            return
        embed = shown_image_embed(record, [filename for filename, _ in images],
                                  shown_by=interaction.user.display_name)
        await _post(interaction, [embed], files=files, view=shown_view(record.id, record.spec.operation))

    async def _show_answer(self, interaction: discord.Interaction[ImageBot], record: JobRecord) -> None:
        """Post a describe answer again from its stored message's embeds, if the whole answer is there."""
        message = await self._in_time(interaction, self._stored_message(record))
        embeds = _answer_embeds(record, message, shown_by=interaction.user.display_name)
        messages = pack_embeds(embeds)
        await _post(interaction, messages[0], view=shown_view(record.id, record.spec.operation))
        for more in messages[1:]:
            await interaction.followup.send(embeds=more)

    async def _in_time(self, interaction: discord.Interaction[ImageBot], work: Awaitable[T]) -> T:
        """Await `work`, acknowledging publicly ("thinking") only if it outlasts the pipeline's defer delay.

        A refusal found in time is then answered with a private first response; a later one is made
        private by the tree's error handler (it deletes the "thinking" message first).
        """
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.bot.attachments.defer_after_s)
            if not done:
                await defer(interaction)
            return await task
        finally:
            task.cancel()


async def _all_in_order(downloads: Sequence[Awaitable[bytes]]) -> list[bytes]:
    """Run downloads concurrently, results in order; the first failure cancels the rest and is raised."""
    tasks = [asyncio.ensure_future(download) for download in downloads]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
    return [task.result() for task in tasks]


async def _post(
    interaction: discord.Interaction[ImageBot],
    embeds: Sequence[discord.Embed],
    *,
    files: Sequence[discord.File] = (),
    view: discord.ui.View | discord.ui.LayoutView,
) -> None:
    """The public result: the first response, or the "thinking" message replaced (a layout carries no embeds)."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=None, embeds=list(embeds), attachments=list(files),
                                                 view=view)
    else:
        if isinstance(view, discord.ui.LayoutView):
            await interaction.response.send_message(files=list(files), view=view)
        else:
            await interaction.response.send_message(embeds=list(embeds), files=list(files), view=view)
    interaction.extras["delivered"] = True  # from now on an error must not remove the result


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Show(bot))
