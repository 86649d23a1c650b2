"""The one path every upstream job takes, whichever command or button started it.

`JobService.run()` admits the job (per-member limit, queue bound), answers the interaction with a
deferred "thinking" response inside Discord's 3 seconds, waits its turn showing its queue position,
and hands the caller a `Job` to report progress and deliver the result. Keeping this in one place is
what makes the limits, the queue, and shutdown behave the same for `/imagine`, `/edit`, `/describe`
and the result buttons.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.progress import Progress
from bot.jobs.queue import JobQueue
from bot.operations import Operation
from bot.replies import error_embed, send_private

__all__ = ["Job", "JobService", "ShuttingDown"]

log = logging.getLogger(__name__)


#: Discord lets a bot edit its interaction response for 15 minutes; stop a job with a margin left to say so.
INTERACTION_LIFETIME = timedelta(minutes=15)
DEADLINE_MARGIN = timedelta(seconds=45)


CANCELLED_BY_SHUTDOWN = (
    "Cancelled by a restart",
    "The bot restarted before your job finished, so it was stopped. Try again in a minute.",
)


class JobTooSlow(UserFacingError):
    """The job could not finish within the interaction's lifetime."""

    title = "Took too long"

    def __init__(self) -> None:
        super().__init__(
            "The job was still running after almost 15 minutes, the longest Discord lets a bot answer. "
            "It was stopped; try again, perhaps when the bot is less busy or with a faster model."
        )


class ShuttingDown(UserFacingError):
    """The bot is restarting and takes no new jobs."""

    title = "Restarting"

    def __init__(self) -> None:
        super().__init__("The bot is restarting right now. Try again in a minute.")


@dataclass
class Job:
    """One running job: what it is, and what it cost once known."""

    operation: Operation
    interaction: discord.Interaction[Any]
    model: str
    progress: Progress
    started: float = field(default_factory=time.perf_counter)
    upstream_started: float | None = None
    cost: float | None = None
    generation_id: str | None = None

    def mark_upstream_start(self) -> None:
        """Call just before the upstream request, so time in the queue is not counted as model time."""
        self.upstream_started = time.perf_counter()
        if self.progress.latest is not None:
            self.progress.set("Working on it…")

    def settle(self, *, cost: float | None, generation_id: str | None) -> None:
        """Record what the upstream reported for this job."""
        self.cost = cost
        self.generation_id = generation_id

    def on_retry(self, attempt: int, attempts: int, delay_s: float) -> None:
        """Tell the member that the upstream is busy and we are trying again."""
        self.progress.set(f"Upstream busy, retrying in {delay_s:.0f} s (attempt {attempt + 1} of {attempts})…")

    @property
    def elapsed_s(self) -> float:
        """Seconds since the upstream call began (or since the job began, before that)."""
        return time.perf_counter() - (self.upstream_started or self.started)

    async def deliver(
        self,
        *,
        embeds: Sequence[discord.Embed],
        files: Sequence[discord.File] = (),
        view: discord.ui.View | None = None,
    ) -> discord.InteractionMessage:
        """Replace the "thinking" message with the result."""
        await self.progress.close()
        kwargs: dict[str, Any] = {"content": None, "embeds": list(embeds), "attachments": list(files)}
        if view is not None:
            kwargs["view"] = view
        return await self.interaction.edit_original_response(**kwargs)


class JobService:
    """Admission, queueing and bookkeeping for every upstream job of the process."""

    def __init__(self, *, max_concurrent: int, max_queued: int, max_per_member: int) -> None:
        self.queue = JobQueue(
            max_concurrent=max_concurrent, max_queued=max_queued, max_per_member=max_per_member
        )
        self.accepting = True
        self._active: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def active(self) -> int:
        """Jobs admitted and not yet finished (running or waiting)."""
        return len(self._active)

    @asynccontextmanager
    async def run(
        self, interaction: discord.Interaction[Any], operation: Operation, *, model: str
    ) -> AsyncIterator[Job]:
        """Admit, defer, wait for a slot, and yield the job; errors propagate to the tree's handler."""
        if not self.accepting:
            raise ShuttingDown()
        ticket = self.queue.admit((interaction.guild_id, interaction.user.id))
        progress = Progress(interaction)
        job = Job(operation=operation, interaction=interaction, model=model, progress=progress)
        task = asyncio.current_task()
        if task is not None:
            self._track(task)
        try:
            if not interaction.response.is_done():
                await interaction.response.defer(thinking=True)
            deadline = asyncio.timeout(_seconds_left(interaction))
            try:
                async with deadline:
                    await ticket.acquire(on_position=lambda position: progress.set(_queued_text(position)))
                    yield job
            except TimeoutError as exc:
                if deadline.expired():
                    raise JobTooSlow() from exc
                raise
        except asyncio.CancelledError:
            if not self.accepting:
                await progress.close()
                await send_private(interaction, embed=error_embed(*CANCELLED_BY_SHUTDOWN))
            raise
        finally:
            ticket.release()
            await progress.close()
            if task is not None:
                self._untrack(task)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._active.add(task)
        self._idle.clear()

    def _untrack(self, task: asyncio.Task[Any]) -> None:
        self._active.discard(task)
        if not self._active:
            self._idle.set()

    async def drain(self, grace_s: float) -> int:
        """Stop taking jobs, let running ones finish for up to `grace_s`, cancel the rest.

        Returns how many were cancelled; each cancelled job's command still answers its member
        (the tree's error handler turns the cancellation into a message).
        """
        self.accepting = False
        if self._idle.is_set():
            return 0
        try:
            await asyncio.wait_for(self._idle.wait(), grace_s)
            return 0
        except TimeoutError:
            leftover = list(self._active)
            for task in leftover:
                task.cancel(msg="shutdown")
            await asyncio.gather(*leftover, return_exceptions=True)
            return len(leftover)


def _seconds_left(interaction: discord.Interaction[Any]) -> float:
    """Seconds until the job must stop so that the member can still be told."""
    deadline = interaction.created_at + INTERACTION_LIFETIME - DEADLINE_MARGIN
    return max((deadline - discord.utils.utcnow()).total_seconds(), 1.0)


def _queued_text(position: int) -> str:
    return f"Queued: position {position}. Your job starts when the ones ahead of it finish."
