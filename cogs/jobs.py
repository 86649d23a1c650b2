"""`/jobs`: a member's recent jobs in this server, with what they cost and where the results are.

Answers "what did I ask for yesterday, and where did it go?" without scrolling. Members see their
own jobs; a member with Manage Server (checked when the command runs, since Discord's permission
defaults are only hints an admin can override) may look at anyone's. The list is private.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import refusal
from bot.jobs.service import cancelled_by
from bot.messages import history as texts
from bot.messages.grid import derived_label
from bot.messages.results import OTHER_MEMBERS_JOBS
from bot.rendering import RESULT_COLOUR, escape_member_text, format_cost
from bot.storage.jobs import INTERRUPTED, JobRecord, JobStatus

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["Jobs", "render_jobs"]

RECENT_JOBS = 10
_STATUS = {
    JobStatus.QUEUED: texts.STATUS_QUEUED,
    JobStatus.RUNNING: texts.STATUS_RUNNING,
    JobStatus.DONE: texts.STATUS_DONE,
    JobStatus.FAILED: texts.STATUS_FAILED,
}


def _line(record: JobRecord) -> str:
    """One job in two lines: what and how it went, then the prompt."""
    status = _STATUS[record.status].text
    by = cancelled_by(record.error_kind) if record.status is JobStatus.FAILED else None
    if record.status is JobStatus.FAILED and record.error_kind == INTERRUPTED:
        status = texts.STATUS_INTERRUPTED.text
    elif by is not None:
        status = texts.CANCELLED_BY.format(by=by)
    elif record.status is JobStatus.FAILED and record.error_kind == "cancelled":
        status = texts.CANCELLED_BY_RESTART.text
    elif record.status is JobStatus.FAILED and record.error_kind:
        status = texts.FAILED_BECAUSE.format(status=status, kind=record.error_kind)
    cost = format_cost(record.cost) if record.cost is not None or record.status is JobStatus.DONE else "—"
    when = f"<t:{int(record.created_at.timestamp())}:R>"
    link = record.result_url
    if link:
        result = texts.RESULT_LINK.format(link=link)
    else:
        result = (texts.RESULT_DELETED if record.result_deleted else texts.NO_RESULT).text
    head = f"**#{record.id}** · {record.spec.operation.label} · {status} · {cost} · {when} · {result}"
    spec = record.spec
    if spec.parent_action and spec.parent_image_index and spec.parent_job_id is not None:
        head += f" · {derived_label(spec.parent_action, spec.parent_image_index, spec.parent_job_id)}"
    prompt = " ".join(record.spec.prompt.split()) or texts.NO_PROMPT_RECORDED.text
    return f"{head}\n> {escape_member_text(prompt, 150)}"


def render_jobs(records: Sequence[JobRecord], *, whose: str | None) -> discord.Embed:
    """The `/jobs` embed: newest first, within Discord's 4096-character description.

    `whose` is the other member's display name (escaped), or None for the member's own jobs.
    """
    title = texts.JOBS_TITLE_OWN.text if whose is None else texts.JOBS_TITLE_OTHER.format(name=whose)
    embed = discord.Embed(title=title, colour=RESULT_COLOUR)
    if not records:
        embed.description = texts.NO_JOBS.text
        return embed
    lines: list[str] = []
    for record in records:
        line = _line(record)
        if sum(len(item) + 2 for item in lines) + len(line) > 4096:
            break
        lines.append(line)
    embed.description = "\n\n".join(lines)
    embed.set_footer(text=texts.JOBS_FOOTER.format(len(lines)))
    return embed


class Jobs(commands.Cog):
    """Job history."""

    def __init__(self, bot: ImageBot) -> None:
        self.bot = bot

    @app_commands.command(name="jobs")
    @app_commands.guild_only()
    @app_commands.describe(member="Whose jobs to show (someone else's needs Manage Server)")
    async def jobs(self, interaction: discord.Interaction[ImageBot], member: discord.Member | None = None) -> None:
        """Your last 10 jobs in this server: prompt, status, cost and a link to each result."""
        assert interaction.guild_id is not None  # guild_only
        target = member or interaction.user
        if target.id != interaction.user.id and not interaction.permissions.manage_guild:
            raise refusal(OTHER_MEMBERS_JOBS)
        records = await self.bot.store.jobs.recent(interaction.guild_id, target.id, limit=RECENT_JOBS)
        whose = None if target.id == interaction.user.id else escape_member_text(target.display_name, 80)
        await interaction.response.send_message(embed=render_jobs(records, whose=whose), ephemeral=True)


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Jobs(bot))
