"""The Cancel button under a job's progress message (waiting in the queue or running).

Its `custom_id` is `job:cancel:<job id>`, served by one `DynamicItem` registered when this cog loads,
so a click is answered in any process, also after a restart. While loaded, the cog hands the job service
the button (`JobService.cancel_view`), which shows it with the job's first progress edit: a waiting
job's queue position, or "Working on it…" once a running job has taken about 1.5 s. A fast job never
shows it; a result, a text answer or an error replaces it.

The member who asked may cancel, and so may anyone with Manage Messages. The click is always answered
privately: cancelled (with what it cost), refused (saying who may cancel), already finished, or gone
because the bot restarted before the job finished.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.contexts import require_server
from bot.error_messages import describe_error
from bot.errors import UserFacingError
from bot.i18n import speak_to
from bot.jobs.service import CancelOutcome, CancelResult, cancelled_by
from bot.messages import in_english, ui, upper_first
from bot.messages import jobs as texts
from bot.messages.commands import UNEXPECTED
from bot.replies import error_embed, send_private
from bot.storage.jobs import INTERRUPTED, JobRecord, JobStatus

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["CancelButton", "CancelJobs", "cancel_view"]

log = logging.getLogger(__name__)

INFO_COLOUR = discord.Colour.light_grey()


class CancelNotAllowed(UserFacingError):
    """Only the requester or a member with Manage Messages may cancel a job."""

    title = texts.CANCEL_NOT_ALLOWED.title

    def __init__(self, requester: int) -> None:
        super().__init__(texts.CANCEL_NOT_ALLOWED.format(requester=requester))


class CancelMissing(UserFacingError):
    """The job is not in this server's history (another server's id, a forged click, another database)."""

    title = texts.CANCEL_MISSING.title

    def __init__(self, job_id: int) -> None:
        super().__init__(texts.CANCEL_MISSING.format(job_id=job_id))


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"job:cancel:(?P<id>[0-9]+)",
):
    """The Cancel button; the job id in its custom id is all a click needs."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(label=ui.CANCEL_BUTTON.text, emoji="✖️", style=discord.ButtonStyle.secondary,
                              custom_id=f"job:cancel:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> CancelButton:
        """Rebuild the button from a click, in whichever process receives it."""
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[ImageBot]) -> None:  # type: ignore[override]
        """Cancel the job, or say why not; every outcome is a private answer, in the clicker's language."""
        speak_to(interaction)  # a click does not pass the tree: the member's language is set here (`bot.i18n`)
        try:
            require_server(interaction)
            await cancel_job(interaction, self.job_id)
        except Exception as error:
            await _report_failure(interaction, error)


def cancel_view(job_id: int) -> discord.ui.View:
    """The components of a job's progress message: its Cancel button."""
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view


async def cancel_job(interaction: discord.Interaction[ImageBot], job_id: int) -> None:
    """Cancel a job of this server for its requester or a member with Manage Messages, and answer privately."""
    bot = interaction.client
    live = bot.jobs.live(job_id)
    record: JobRecord | None = None
    if live is not None and live.guild_id is not None and live.guild_id == interaction.guild_id:
        requester = live.member_id
    else:
        live = None
        record = await _record(interaction, job_id)
        if record is None:
            raise CancelMissing(job_id)
        requester = record.spec.member_id
    if interaction.user.id != requester and not interaction.permissions.manage_messages:
        raise CancelNotAllowed(requester)
    if live is None:
        assert record is not None
        await _answer(interaction, *_not_running(record))
        return
    # Stopping a running call and recording it can take a moment: acknowledge the click first (3 s rule).
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await bot.jobs.cancel(job_id, by=interaction.user)
    if result.outcome in (CancelOutcome.CANCELLED, CancelOutcome.ALREADY_CANCELLED):
        await _answer(interaction, *_cancelled(job_id, result))
        return
    # It finished between the look-up and the click's turn: say how, from its record.
    record = await _record(interaction, job_id)
    if record is None:
        raise CancelMissing(job_id)
    if record.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        await _answer(interaction, *texts.BEING_POSTED.pair(job_id=job_id))
        return
    await _answer(interaction, *_not_running(record))


def _cancelled(job_id: int, result: CancelResult) -> tuple[str, str]:
    cost = upper_first(result.cost)
    if result.outcome is CancelOutcome.ALREADY_CANCELLED:
        return texts.ALREADY_CANCELLED.pair(job_id=job_id, by=result.by, cost=cost)
    text = texts.CANCELLED_WAITING if result.was_waiting else texts.CANCELLED_RUNNING
    return text.pair(job_id=job_id, cost=cost)


def _not_running(record: JobRecord) -> tuple[str, str]:
    """What to say about a job that is not waiting or running in this process."""
    job_id = record.id
    if record.status is JobStatus.DONE:
        return texts.already_finished(job_id, record.result_url)
    if record.status is JobStatus.FAILED:
        kind = record.error_kind
        if kind == INTERRUPTED:
            return texts.JOB_GONE.pair(job_id=job_id)
        by = cancelled_by(kind)
        if by is not None:
            return texts.ALREADY_CANCELLED_ON_RECORD.pair(job_id=job_id, by=by)
        if kind == "cancelled":
            return texts.ALREADY_STOPPED.pair(job_id=job_id)
        return texts.ALREADY_ENDED_FAILED.pair(job_id=job_id)
    # Queued or running on record, but not in this process: another process of the bot has it.
    return texts.NOT_HERE.pair(job_id=job_id)


async def _record(interaction: discord.Interaction[ImageBot], job_id: int) -> JobRecord | None:
    """The job if it is on record in the server the click came from (a forged id of another server is missing)."""
    record = await interaction.client.store.jobs.get(job_id)
    if record is None or record.spec.guild_id is None or record.spec.guild_id != interaction.guild_id:
        return None
    return record


async def _answer(interaction: discord.Interaction[Any], title: str, text: str) -> None:
    """A private answer to the click, whether it was deferred or not."""
    embed = discord.Embed(title=title, description=text, colour=INFO_COLOUR)
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, ephemeral=True)
    else:
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def _report_failure(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """A refused or failed click, answered privately in the same words as the other buttons'."""
    described = describe_error(error)
    if described is None:
        log.error("cancel button failed (interaction %s)", interaction.id, exc_info=error)
        described = UNEXPECTED.pair()
    else:
        log.info("cancel refused or failed: %s: %s", type(error).__name__, in_english(error))
    await send_private(interaction, embed=error_embed(*described))


class CancelJobs(commands.Cog):
    """Registers the Cancel button and gives it to the job service."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Serve clicks (this runs inside `setup_hook`, before the gateway connects) and show the button."""
        self.bot.add_dynamic_items(CancelButton)
        self.bot.jobs.cancel_view = cancel_view

    async def cog_unload(self) -> None:
        """Stop serving and showing the button."""
        self.bot.remove_dynamic_items(CancelButton)
        if self.bot.jobs.cancel_view is cancel_view:
            self.bot.jobs.cancel_view = None


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(CancelJobs(bot))
