"""The one path every upstream job takes, whichever command or button started it.

`JobService.run()` admits the job (per-member limit, queue bound), answers the interaction with a
deferred "thinking" response inside Discord's 3 seconds, waits its turn showing its queue position,
and hands the caller a `Job` to report progress and deliver the result. Keeping this in one place is
what makes the limits, the queue, and shutdown behave the same for `/imagine`, `/edit`, `/describe`
and the result buttons.

It also keeps the books. Once a store is bound (`bind()`, from `setup_hook`), every run is a row in the
job history (queued, running, then done or failed, with its result message so that result buttons
can reuse it after a restart), each upstream call is a ledger row written in the same transaction as
the job's completion, and a job that would run a server over a daily budget is refused before it is
even deferred, holding a reservation of its estimated cost from admission until its real cost is in
the ledger (see `bot.budgets`).

The row's first two writes stay off the way to the upstream call: the INSERT is begun in the
background at admission, while the job defers, and the mark-running UPDATE when it gets its slot. A
job that runs at once waits for neither, except for an INSERT that has not landed by then (the row
must exist before anything is spent, so that a crash leaves it to be marked interrupted, and the
caller gets the job with its id); while jobs wait in line both are written first, as before, so the
line's order and positions hold. The first progress edit, which carries the Cancel button and so
the id, waits for the INSERT; the outcome waits for both.

And it keeps every admitted job of this process by id while it waits or runs, so that a Cancel click
(`cancel()`, the button is `cogs.cancel`) finds its task: a waiting job leaves the queue at once, a
running one has its upstream call aborted, and either ends through the same path as any other
cancellation (history, ledger row if the upstream was called, reservation released).
"""

from __future__ import annotations

import asyncio
import enum
import io
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.budgets import BudgetGuard, Clock, ImagePriceLookup, ModelLookup, Reservation, utc_now
from bot.contexts import require_server
from bot.errors import UserFacingError
from bot.i18n import current, using
from bot.job_log import log_finished_job
from bot.jobs.cooldowns import Cooldowns
from bot.jobs.progress import Progress
from bot.jobs.queue import JobQueue, Ticket
from bot.messages import jobs as texts
from bot.messages import translated
from bot.operations import Operation
from bot.rendering import MAX_FILES_PER_MESSAGE, MAX_UPLOAD_BYTES_PER_MESSAGE, format_cost
from bot.replies import error_embed, post_in_channel, send_private, token_expired
from bot.requests import ImageRequest
from bot.storage.jobs import JobSpec, JobStatus
from bot.storage.usage import LedgerEntry

if TYPE_CHECKING:
    from bot.attachments import LoadedImage
    from bot.storage import Store

__all__ = [
    "CancelOutcome", "CancelResult", "Fallback", "InputLoader", "Job", "JobInputs", "JobService", "LiveJob",
    "ShuttingDown", "cancelled_by",
]

log = logging.getLogger(__name__)


#: Discord lets a bot edit its interaction response for 15 minutes; stop a job with a margin left to say so.
INTERACTION_LIFETIME = timedelta(minutes=15)
DEADLINE_MARGIN = timedelta(seconds=45)


#: `error_kind` of a job a member cancelled (`{}`: their id); /jobs shows it as "cancelled by <@id>".
CANCELLED_BY_KIND = "cancelled by <@{}>"
_CANCELLED_BY = re.compile(r"cancelled by <@(?P<id>[0-9]+)>")
#: Seconds a running job may take before its message says "Working on it…" and shows Cancel.
WORKING_NOTICE_AFTER_S = 1.5


def cancelled_by(error_kind: str | None) -> int | None:
    """The id of the member who cancelled a job, from its `error_kind` (None: not cancelled by a member)."""
    match = _CANCELLED_BY.fullmatch(error_kind or "")
    return int(match["id"]) if match else None


class JobTooSlow(UserFacingError):
    """The job could not finish within the interaction's lifetime."""

    title = texts.JOB_TOO_SLOW.title

    def __init__(self) -> None:
        super().__init__(texts.JOB_TOO_SLOW.format())


class ShuttingDown(UserFacingError):
    """The bot is restarting and takes no new jobs."""

    title = texts.SHUTTING_DOWN.title

    def __init__(self) -> None:
        super().__init__(texts.SHUTTING_DOWN.format())


@dataclass(frozen=True)
class JobInputs:
    """The images a job works on, loaded only once the job was admitted (see `JobService.run`)."""

    images: Sequence[LoadedImage] = ()
    #: Set when the images decide the shape (an edit that keeps the first image's), else the request's own.
    aspect_ratio: str | None = None
    #: Lines for the result about what was left out (more images than the server now allows, say).
    notes: Sequence[str] = ()


#: Loads a job's inputs; awaited after admission, so a refused job downloads and decodes nothing.
InputLoader = Callable[[], Awaitable[JobInputs]]
#: The embeds and classic view that stand in for a Components V2 result where one cannot be posted.
Fallback = Callable[[], tuple[Sequence[discord.Embed], discord.ui.View | None]]


@dataclass
class Job:
    """One running job: what it is, and what it cost once known."""

    operation: Operation
    interaction: discord.Interaction[Any]
    model: str
    progress: Progress
    #: The request as it goes upstream: the caller's, with what loading the inputs found filled in.
    request: ImageRequest
    started: float = field(default_factory=time.perf_counter)
    upstream_started: float | None = None
    upstream_finished: float | None = None
    cost: float | None = None
    generation_id: str | None = None
    #: The job's row in the history (None when no store is bound); result buttons carry it. Set once the
    #: row's INSERT has landed: always before the caller gets the job (see `JobService.run`).
    id: int | None = None
    #: Images delivered (counted against a member's daily image limit).
    images: int = 0
    result_message_id: int | None = None
    result_channel_id: int | None = None
    result_files: tuple[str, ...] = ()
    #: The seed each delivered image was made with (set by the job path before delivery; empty: none known).
    result_seeds: tuple[int | None, ...] = ()
    #: Each delivered image's share of its call's cost (set with `result_seeds`; empty: none known).
    result_costs: tuple[float | None, ...] = ()
    #: What `JobService.run` loaded for the job after admitting it (empty without a loader).
    inputs: JobInputs = field(default_factory=JobInputs)
    #: Who pressed Cancel (a member id), once someone did.
    cancelled_by: int | None = None
    _images_settled: bool = field(default=False, repr=False)
    _answered: bool = field(default=False, repr=False)
    #: Every answer the upstream gave this job: (cost, generation id), in arrival order.
    answers: list[tuple[float | None, str | None]] = field(default_factory=list)
    #: An upstream request may be on its way (sent, no answer yet): cancelling it may still be billed.
    _in_flight: bool = field(default=False, repr=False)
    _delivering: bool = field(default=False, repr=False)
    #: The background writes of the job's row: the INSERT (which sets `id`), then the mark-running UPDATE.
    _opened: asyncio.Task[int] | None = field(default=None, repr=False)
    _marked_running: asyncio.Task[None] | None = field(default=None, repr=False)

    async def recorded(self) -> int | None:
        """Wait until the job's history row exists and return its id (None: no store, or its INSERT failed).

        Never raises and never cancels the write: a job cancelled meanwhile still gets its row.
        """
        opened = self._opened
        if opened is None:
            return None
        if not opened.done():
            await asyncio.wait({opened})
        if opened.cancelled() or opened.exception() is not None:  # (retrieved: the job raises it, if anyone)
            return None
        return self.id

    async def _require_row(self) -> None:
        """Before the upstream call: the row must exist, so a crash from now on leaves it to be found.

        Raises what the INSERT raised, as the job always did when its row could not be written.
        """
        if self._opened is not None and await self.recorded() is None:
            error = None if self._opened.cancelled() else self._opened.exception()
            raise error or RuntimeError("the job's history row was not written")

    async def _writes_done(self) -> None:
        """Wait for the background writes of the row (the INSERT, then the mark-running UPDATE)."""
        pending = {task for task in (self._opened, self._marked_running) if task is not None and not task.done()}
        if pending:
            await asyncio.wait(pending)

    @property
    def delivering(self) -> bool:
        """True once the result is being posted: from then on the job can no longer be cancelled."""
        return self._delivering

    def mark_upstream_start(self) -> None:
        """Call just before the upstream request, so time in the queue is not counted as model time."""
        self.upstream_started = time.perf_counter()
        self._in_flight = True
        if self.progress.latest is not None:
            self.progress.set(texts.WORKING.text)

    def record_answer(self, cost: float | None, generation_id: str | None) -> None:
        """The upstream answered: keep what it billed, whatever happens to the job after this.

        The OpenRouter client calls this as soon as an answer is parsed, before images are decoded, so
        an answer whose image then fails, or a job cancelled right after the answer, still reaches the
        ledger with its cost. Every answer is billed, so a call retried after a 200 that carried an
        error counts both.
        """
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost
        self.answers.append((cost, generation_id))
        self.generation_id = self.generation_id or generation_id
        self.upstream_finished = time.perf_counter()
        self._answered = True
        self._in_flight = False

    def settle(self, *, cost: float | None, generation_id: str | None, images: int | None = None) -> None:
        """Record what the upstream reported for this job (`images` defaults to the files delivered).

        Where the client already reported each answer (`record_answer`), their sum stands.
        """
        if not self._answered:
            self.cost = cost
        self.generation_id = generation_id
        self.upstream_finished = time.perf_counter()
        self._in_flight = False
        if images is not None:
            self.images = images
            self._images_settled = True

    def on_retry(self, attempt: int, attempts: int, delay_s: float) -> None:
        """Tell the member that the upstream is busy and we are trying again."""
        self._in_flight = True  # the next attempt follows the delay: count it as sent, to say "may be billed"
        self.progress.set(
            texts.UPSTREAM_RETRYING.format(delay=f"{delay_s:.0f}", attempt=attempt + 1, attempts=attempts))

    def cancel_cost(self) -> str:
        """What a cancellation now costs, as honestly as the bot can know it.

        An answer already received is billed (its cost came with it); a request stopped before its answer
        may still be billed by OpenRouter, which the bot cannot see; nothing sent costs nothing.
        """
        if self.upstream_started is None:
            return texts.NOTHING_CHARGED.text
        if self._answered and self._in_flight:
            return texts.COST_SO_FAR_PLUS_STOPPED.format(cost=format_cost(self.cost))
        if self._answered:
            return texts.COST_ALREADY_ANSWERED.format(cost=format_cost(self.cost))
        if self._in_flight:
            return texts.COST_UNKNOWN_IN_FLIGHT.text
        return texts.NOTHING_CHARGED.text

    @property
    def elapsed_s(self) -> float:
        """Seconds since the upstream call began (or since the job began, before that)."""
        return time.perf_counter() - (self.upstream_started or self.started)

    async def deliver(
        self,
        *,
        embeds: Sequence[discord.Embed],
        files: Sequence[discord.File] = (),
        view: discord.ui.View | discord.ui.LayoutView | None = None,
        fallback: Fallback | None = None,
    ) -> discord.Message:
        """Replace the "thinking" message with the result.

        Images beyond Discord's 10 files per message follow in extra messages. If the interaction
        token has expired (a job that ran for most of 15 minutes), the result is posted in the
        channel instead, mentioning the member, so the work is never lost. The result's `view`
        replaces the progress message's components (the Cancel button); without one they are removed.

        A Components V2 result (`view` a `LayoutView`, `embeds` empty) carries no text of its own, so
        the channel post that stands in for it, which must mention the member in its `content`, takes
        `fallback()` instead: embeds and a classic view showing the same images and buttons.
        """
        self._delivering = True  # a Cancel click from now on is too late: the result is on its way
        await self.progress.close()
        batches = _batches([_FileSnapshot.of(file) for file in files])
        first, rest = batches[0], batches[1:]
        kwargs: dict[str, Any] = {
            "content": None, "embeds": list(embeds), "attachments": [f.file() for f in first], "view": view,
        }
        message: discord.Message
        try:
            message = await self.interaction.edit_original_response(**kwargs)
            self.interaction.extras["delivered"] = True  # from now on an error must not remove the result
            for chunk in rest:
                await self.interaction.followup.send(files=[f.file() for f in chunk], wait=True)
        except discord.HTTPException as exc:
            if not token_expired(exc):
                raise
            if fallback is not None:
                embeds, view = fallback()
            assert view is None or isinstance(view, discord.ui.View)
            posted = await post_in_channel(
                self.interaction, embeds=list(embeds), files=[f.file() for f in first], view=view
            )
            if posted is None:
                raise
            message = posted
        # Where the result lives, so that buttons can re-fetch its image once attachment URLs expire.
        self.result_message_id = message.id
        self.result_channel_id = self.interaction.channel_id
        self.result_files = tuple(a.filename for a in message.attachments) or tuple(f.filename for f in first)
        if self.operation.needs_image_output and not self._images_settled:
            self.images = len(files)
        return message


MAX_BYTES_PER_MESSAGE = MAX_UPLOAD_BYTES_PER_MESSAGE


def _batches(files: list[_FileSnapshot]) -> list[list[_FileSnapshot]]:
    """Files grouped in order into messages of at most 10 files and 24 MiB (always one, maybe empty)."""
    batches: list[list[_FileSnapshot]] = [[]]
    size = 0
    for file in files:
        current = batches[-1]
        if current and (len(current) >= MAX_FILES_PER_MESSAGE or size + len(file.data) > MAX_BYTES_PER_MESSAGE):
            batches.append([])
            size = 0
        batches[-1].append(file)
        size += len(file.data)
    return batches


@dataclass(frozen=True)
class _FileSnapshot:
    """The bytes of an upload, so it can be sent again: discord.py closes a File after one request."""

    filename: str
    data: bytes
    description: str | None
    spoiler: bool

    @classmethod
    def of(cls, file: discord.File) -> _FileSnapshot:
        position = file.fp.tell()
        data = file.fp.read()
        file.fp.seek(position)
        return cls(str(file.filename), data, file.description, file.spoiler)

    def file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename, description=self.description,
                            spoiler=self.spoiler)


class _RecordedProgress(Progress):
    """`Progress` whose first edit waits until the job's history row exists.

    Every progress edit carries the Cancel button, whose custom id is the job's id, and the row's INSERT
    runs in the background (the upstream call does not wait for it): so the first edit waits for it
    instead, and a job that waits in the queue shows its position and Cancel together, as before.
    """

    def __init__(self, interaction: discord.Interaction[Any], *, min_interval_s: float) -> None:
        super().__init__(interaction, min_interval_s=min_interval_s)
        #: Awaited once, before the first edit (the job's `recorded`).
        self.ready: Callable[[], Awaitable[object]] | None = None

    async def _flush(self) -> None:
        ready, self.ready = self.ready, None
        if ready is not None:
            await ready()
        await super()._flush()

    async def close(self) -> None:
        """Stop editing; drop `ready` too (the job's method), so that job and progress are no cycle."""
        self.ready = None
        await super().close()


class CancelOutcome(enum.Enum):
    """What a Cancel click achieved."""

    #: The job was stopped: it left the queue, or its upstream call was aborted.
    CANCELLED = "cancelled"
    #: Someone else had already cancelled it (a double click, or the requester and a moderator at once).
    ALREADY_CANCELLED = "already cancelled"
    #: It had finished (or was posting its result) before the click.
    FINISHED = "finished"
    #: No job of this process has that id: it ended earlier, or it was never run by this process.
    NOT_HERE = "not here"


@dataclass(frozen=True)
class CancelResult:
    """The outcome of `JobService.cancel`, with the words for it once the job is stopped."""

    outcome: CancelOutcome
    #: What the cancellation cost, a phrase ("nothing was charged", "cost $0.0039 (...)").
    cost: str = ""
    #: True when the job was still waiting in the queue (it never got to the upstream).
    was_waiting: bool = False
    #: Who cancelled it (a member id).
    by: int | None = None

    @property
    def summary(self) -> str:
        """The line that replaces the job's progress message: "Cancelled by … · cost …"."""
        return texts.cancel_summary(self.by, self.cost, was_waiting=self.was_waiting)


@dataclass(eq=False)
class LiveJob:
    """A job of this process that is waiting or running, as a Cancel click finds it."""

    job: Job
    spec: JobSpec
    task: asyncio.Task[Any]
    #: The job holds a slot (it left the queue to run).
    running: bool = False
    #: The job's own code has finished (result posted, failed, or cancelled) and it is being recorded.
    ended: bool = False
    #: Resolved once the job is recorded and its reservation released.
    done: asyncio.Future[CancelResult] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def guild_id(self) -> int | None:
        return self.spec.guild_id

    @property
    def member_id(self) -> int:
        """The member who asked for the job."""
        return self.spec.member_id


class JobService:
    """Admission, queueing and bookkeeping for every upstream job of the process."""

    def __init__(self, *, max_concurrent: int, max_queued: int, max_per_member: int) -> None:
        self.queue = JobQueue(
            max_concurrent=max_concurrent, max_queued=max_queued, max_per_member=max_per_member
        )
        self.accepting = True
        #: Least time between two progress edits of one job (Discord rate-limits message edits).
        self.progress_interval_s = 2.0
        #: The time budgets, the ledger and the history use; public so tests can move it.
        self.clock: Clock = utc_now
        self.budgets: BudgetGuard | None = None
        self.cooldowns = Cooldowns()
        self._store: Store | None = None
        self._active: set[asyncio.Task[Any]] = set()
        #: Background retries of history/ledger writes that failed (see `_keep_until_recorded`).
        self._record_retries: set[asyncio.Task[None]] = set()
        #: Each job's row writes before its outcome (the INSERT, mark-running), off the path to the upstream.
        self._row_writes: set[asyncio.Task[Any]] = set()
        #: Waits before each retry of a failed record; public so tests can retry at once.
        self.record_retry_delays_s: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
        self._idle = asyncio.Event()
        self._idle.set()
        #: Jobs waiting or running in this process, by job id (only jobs with a history row have one).
        self._live: dict[int, LiveJob] = {}
        #: Builds a job's Cancel button (`cogs.cancel` sets it while loaded); None: no button is shown.
        self.cancel_view: Callable[[int], discord.ui.View] | None = None
        #: Builds a delivered job's result buttons; set by the result-buttons cog (None: results get none).
        self.result_view: Callable[[Job], discord.ui.View | None] | None = None
        #: The button rows of a delivered job of several images (`bot.grid`); set by the same cog.
        self.result_rows: Callable[[Job, int], Sequence[Sequence[discord.ui.Item[Any]]]] | None = None
        #: Seconds before a running job's message first says "Working on it…" (with Cancel); tests shorten it.
        self.working_notice_after_s = WORKING_NOTICE_AFTER_S

    def bind(
        self, store: Store, *, model_info: ModelLookup | None = None, image_price: ImagePriceLookup | None = None
    ) -> None:
        """Start keeping the job history, the ledger and budgets in `store` (called once storage is open)."""
        self._store = store
        self.budgets = BudgetGuard(store.budgets, store.usage, model_info, image_price=image_price)

    @property
    def active(self) -> int:
        """Jobs admitted and not yet finished (running or waiting)."""
        return len(self._active)

    def live(self, job_id: int) -> LiveJob | None:
        """The job with this id if it is waiting or running in this process."""
        return self._live.get(job_id)

    async def cancel(self, job_id: int, *, by: discord.abc.Snowflake, wait_s: float = 10.0) -> CancelResult:
        """Stop a waiting or running job of this process, and wait (up to `wait_s`) until it is recorded.

        The job's task is cancelled, so it ends the way every cancellation does (`run`'s own handling):
        a waiter leaves the queue and everyone behind it moves up; a running upstream request is aborted
        (its connection closed); the history says who cancelled it, the ledger has its row if the upstream
        was called, and the reservation is released. The job's message is replaced by the summary.
        Whoever checks permissions does so before calling this.
        """
        live = self._live.get(job_id)
        if live is None:
            return CancelResult(CancelOutcome.NOT_HERE)
        first = live.job.cancelled_by is None
        if first:
            if live.ended or live.job.delivering:
                return CancelResult(CancelOutcome.FINISHED)
            live.job.cancelled_by = by.id
            live.task.cancel(msg=f"cancelled by member {by.id}")
            log.info("job %s cancelled by member %s (%s)", job_id, by.id, "running" if live.running else "waiting")
        try:
            result = await asyncio.wait_for(asyncio.shield(live.done), wait_s)
        except TimeoutError:
            log.warning("job %s was cancelled but had not finished stopping after %.0f s", job_id, wait_s)
            result = CancelResult(CancelOutcome.CANCELLED, cost=live.job.cancel_cost(), by=live.job.cancelled_by,
                                  was_waiting=not live.running)
        if not first and result.outcome is CancelOutcome.CANCELLED:
            return replace(result, outcome=CancelOutcome.ALREADY_CANCELLED)
        return result

    @asynccontextmanager
    async def run(
        self,
        interaction: discord.Interaction[Any],
        operation: Operation,
        request: ImageRequest,
        *,
        parent_job_id: int | None = None,
        parent_image_index: int | None = None,
        parent_action: str | None = None,
        load: InputLoader | None = None,
        input_count: int | None = None,
    ) -> AsyncIterator[Job]:
        """Admit (server, limits, cooldown, queue, budgets), load the inputs, defer, wait, and yield the job.

        Admission comes first and costs nothing but a few in-memory checks and cached reads: only an
        admitted job gets to download and decode its images (`load`, whose `input_count` images the
        budget estimate counts), so a member cannot make the bot do expensive work by sending many
        commands at once. The images found then replace the request's `references`, and an aspect ratio
        they decide replaces its own; `job.request` is the request as it goes upstream and into the
        history (what a re-roll repeats). Errors propagate to the caller's handler.
        """
        if not self.accepting:
            raise ShuttingDown()
        guild_id = require_server(interaction)  # buttons and modals do not pass the tree's check
        spec = JobSpec(
            operation=operation,
            member_id=interaction.user.id,
            request=request,
            guild_id=guild_id,
            channel_id=interaction.channel_id,
            parent_job_id=parent_job_id,
            parent_image_index=parent_image_index,
            parent_action=parent_action,
        )
        # Tracked from here, so a shutdown that starts while this job is being admitted waits for it.
        task = asyncio.current_task()
        if task is not None:
            self._track(task)
        cooldown_key = (guild_id, interaction.user.id, operation)
        try:
            ticket, reservation = await self._admit(spec, cooldown_key, input_count, _role_ids(interaction))
        except BaseException:
            if task is not None:
                self._untrack(task)
            raise
        progress = _RecordedProgress(interaction, min_interval_s=self.progress_interval_s)
        job = Job(operation=operation, interaction=interaction, model=request.model, progress=progress,
                  request=request)
        progress.ready = job.recorded
        failure: BaseException | None = None
        live: LiveJob | None = None
        try:
            if load is not None:
                job.inputs = await load()
                spec = replace(spec, request=replace(
                    spec.request,
                    references=tuple(image.source.reference() for image in job.inputs.images),
                    aspect_ratio=job.inputs.aspect_ratio or spec.request.aspect_ratio,
                ))
            job.request = spec.request
            live = LiveJob(job=job, spec=spec, task=task) if task is not None else None
            # The row is written in the background from here, while the job defers (and `live` is
            # registered for Cancel once it has an id); what needs the id waits for it.
            self._open_record(job, spec, live)
            if not interaction.response.is_done():
                await interaction.response.defer(thinking=True)
            deadline = asyncio.timeout(_seconds_left(interaction))
            waited = False
            locale = current()  # the queue announces positions from whichever job's task moved the line

            def on_position(position: int) -> None:
                nonlocal waited
                waited = True
                with using(locale):
                    progress.set(texts.QUEUED.format(position=position))

            try:
                async with deadline:
                    await ticket.acquire(on_position=on_position)
                    self._mark_running(job)
                    if live is not None:
                        live.running = True
                    # No edit before the upstream call: only a job still running by then shows "Working on it…".
                    progress.set_later(texts.WORKING.text, self.working_notice_after_s)
                    if waited or self.queue.admitted > self.queue.max_concurrent:
                        # The line is in use: this job's row writes go before its upstream call, as they
                        # always did, so that waiting members are shown their place (with Cancel, which
                        # needs their row) before the calls take the loop, and jobs leave the line for
                        # the upstream in the order they were let in.
                        await job._writes_done()
                    # A job that runs at once does not wait for its mark-running write, and for its INSERT
                    # (begun before the deferral) only if that has not landed yet: the row must exist
                    # before anything is spent upstream, so that a crash leaves it to be marked interrupted
                    # at the next start.
                    await job._require_row()
                    yield job
            except TimeoutError as exc:
                if deadline.expired():
                    raise JobTooSlow() from exc
                raise
        except asyncio.CancelledError as exc:
            failure = exc
            if live is not None:
                live.ended = True  # before any await: a second click must not cancel the clean-up
            if job.cancelled_by is not None:
                await progress.close()
                await _tell_cancelled(interaction, _cancel_result(job, live))
            elif not self.accepting:
                await progress.close()
                await send_private(interaction, embed=error_embed(*texts.CANCELLED_BY_SHUTDOWN.pair()))
            raise
        except BaseException as exc:
            failure = exc
            if live is not None:
                live.ended = True
            if job.upstream_started is None:
                self.cooldowns.cancel(cooldown_key)  # refused before any call (a bad image): try again now
            raise
        finally:
            if live is not None:
                live.ended = True
            try:
                ticket.release()
                await progress.close()
                unrecorded = await self._close_record(job, spec, failure)
                if unrecorded is None:
                    reservation.release()  # after the ledger write: the real cost now counts instead
                else:
                    self._keep_until_recorded(job, unrecorded, reservation)
                log_finished_job(job, error=failure)
            finally:
                if live is not None:
                    self._unregister(live, failure)
                if task is not None:
                    self._untrack(task)

    async def _admit(
        self, spec: JobSpec, cooldown_key: tuple[Any, ...], input_count: int | None, role_ids: Sequence[int]
    ) -> tuple[Ticket, Reservation]:
        """Cooldown, per-member limit and queue cap, then budgets; each refusal undoes the steps before it."""
        cooldown_s = await self._cooldown_for(spec.guild_id, spec.operation)
        self.cooldowns.check(cooldown_key, cooldown_s, spec.operation.value)
        self.cooldowns.start(cooldown_key, cooldown_s)  # before any await: a double click cannot slip by
        try:
            ticket = self.queue.admit((spec.guild_id, spec.member_id))
            try:
                inputs = len(spec.references) if input_count is None else input_count
                reservation = await self._reserve(spec, inputs, role_ids)
            except BaseException:
                ticket.release()
                raise
        except BaseException:
            self.cooldowns.cancel(cooldown_key)  # refused: the member did not get to use it
            raise
        return ticket, reservation

    # -- bookkeeping ------------------------------------------------------------------------------

    async def _cooldown_for(self, guild_id: int | None, operation: Operation) -> int:
        """The server's per-member cooldown for this operation (0: none); a cached read."""
        if self._store is None or guild_id is None:
            return 0
        return (await self._store.guild_config.get(guild_id, operation)).cooldown_s

    async def _reserve(self, spec: JobSpec, input_images: int, role_ids: Sequence[int] = ()) -> Reservation:
        """Refuse (BudgetExceeded) or hold this job's estimated cost against the server's budgets."""
        if self.budgets is None:
            return Reservation()
        return await self.budgets.admit(
            guild_id=spec.guild_id,
            member_id=spec.member_id,
            operation=spec.operation,
            model=spec.model,
            prompt=spec.prompt,
            input_images=input_images,
            now=self.clock(),
            role_ids=role_ids,
            count=spec.request.count,
            resolution=spec.request.resolution,
        )

    def _open_record(self, job: Job, spec: JobSpec, live: LiveJob | None) -> None:
        """Start writing the job's row ("queued", with its owner) in the background.

        Once it has an id, `live` is registered (`_register`: Cancel finds the job, its progress shows
        the button). If the INSERT fails, the job fails before its upstream call (`Job._require_row`),
        as it did when the INSERT was awaited in line.
        """
        if self._store is None:
            return
        created_at = self.clock()
        job._opened = self._row_write(self._create_row(job, spec, live, created_at),
                                      f"open a job record of {spec.member_id}")

    async def _create_row(self, job: Job, spec: JobSpec, live: LiveJob | None, created_at: Any) -> int:
        assert self._store is not None
        job_id = await self._store.jobs.create(spec, created_at=created_at)
        job.id = job_id
        if live is not None and not live.ended:
            self._register(live)
        return job_id

    def _mark_running(self, job: Job) -> None:
        """Mark the row running (at this moment) in the background, once its INSERT has landed."""
        if job._opened is None:
            return
        job._marked_running = self._row_write(self._write_running(job, self.clock()), "mark a job running")

    async def _write_running(self, job: Job, started_at: Any) -> None:
        assert self._store is not None
        job_id = await job.recorded()
        if job_id is None:
            return
        try:
            await self._store.jobs.mark_running(job_id, started_at=started_at)
        except Exception:
            log.warning("could not mark job %s running; its outcome is still written", job_id, exc_info=True)

    def _row_write(self, write: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(write)
        task.set_name(name)
        self._row_writes.add(task)
        task.add_done_callback(self._row_writes.discard)
        return task

    async def _close_record(self, job: Job, spec: JobSpec, failure: BaseException | None) -> _Outcome | None:
        """Write the outcome and, if the upstream was called, its ledger row, in one transaction.

        Waits for the row's own writes first (the INSERT and mark-running, so that the outcome is the
        last word). Returns None once written, or when there is nothing to write (no store, or no row:
        the job ended before its INSERT began, or that failed and the job with it); else the outcome to
        retry (the failure is logged). Never raises: losing a history row must not turn a delivered
        result into an error.
        """
        if self._store is None:
            return None
        await job._writes_done()
        if await job.recorded() is None:
            opened = job._opened
            error = opened.exception() if opened is not None and not opened.cancelled() else None
            if error is not None and error is not failure:  # the job ended before it could raise it
                log.error("could not write the history row of a job of member %s", spec.member_id, exc_info=error)
            return None
        outcome = _Outcome.of(job, spec, failure, self.clock())
        try:
            await self._write_outcome(outcome)
        except Exception:
            log.exception("could not record the outcome of job %s; keeping its budget reservation", job.id)
            return outcome
        return None

    async def _write_outcome(self, outcome: _Outcome) -> None:
        assert self._store is not None
        await self._store.record_job_outcome(outcome.job_id, outcome.entries, **outcome.finish)

    def _keep_until_recorded(self, job: Job, outcome: _Outcome, reservation: Reservation) -> None:
        """The ledger write failed: hold the reservation (at the real cost if known) and retry the write.

        Releasing it would let the server spend this job's money again, unseen by any budget. The
        reservation is given back once a retry lands; if none does, it stays held for this process's life
        (a budget that errs on the safe side), and the log says so.
        """
        if job.cost is not None:
            reservation.hold(job.cost)
        retry = asyncio.create_task(self._retry_record(outcome, reservation), name=f"record job {job.id}")
        self._record_retries.add(retry)
        retry.add_done_callback(self._record_retries.discard)

    async def _retry_record(self, outcome: _Outcome, reservation: Reservation) -> None:
        for delay in self.record_retry_delays_s:
            await asyncio.sleep(delay)
            if self._store is None:
                return
            try:
                await self._write_outcome(outcome)
            except Exception:
                log.warning("retrying the record of job %s failed", outcome.job_id, exc_info=True)
                continue
            reservation.release()
            log.info("recorded job %s on a retry", outcome.job_id)
            return
        log.error("gave up recording job %s; its reservation stays held until restart", outcome.job_id)

    def abandon_record_retries(self) -> None:
        """Stop retrying failed records (the store is closing); their jobs stay unrecorded, as the log says."""
        for retry in list(self._record_retries):
            log.error("job record still failing at shutdown; giving up (%s)", retry.get_name())
            retry.cancel()

    async def wait_for_records(self) -> None:
        """Wait until every row write has landed and every retry of a failed record landed or gave up."""
        while self._row_writes or self._record_retries:
            await asyncio.gather(*list(self._row_writes), *list(self._record_retries), return_exceptions=True)

    def _register(self, live: LiveJob) -> None:
        """Keep the job findable by id while it waits or runs, and give its progress a Cancel button."""
        job_id = live.job.id
        assert job_id is not None
        self._live[job_id] = live
        factory = self.cancel_view
        if factory is not None:
            live.job.progress.attach(lambda: factory(job_id))

    def _unregister(self, live: LiveJob, failure: BaseException | None) -> None:
        """The job is recorded: forget it, and tell whoever is waiting in `cancel` how it ended."""
        if live.job.id is not None and self._live.get(live.job.id) is live:
            del self._live[live.job.id]
        if live.done.done():
            return
        if live.job.cancelled_by is not None and isinstance(failure, asyncio.CancelledError):
            live.done.set_result(_cancel_result(live.job, live))
        else:
            live.done.set_result(CancelResult(CancelOutcome.FINISHED))  # it ended first, or ignored the cancel

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
        try:
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
        finally:
            # Each job waits for its own row writes before it ends; any left (a job whose clean-up was
            # itself interrupted) are waited for here, before the store may close.
            while self._row_writes:
                await asyncio.wait(set(self._row_writes))


@dataclass(frozen=True)
class _Outcome:
    """A finished job's history update and ledger row, computed once so a retry writes the same."""

    job_id: int
    finish: dict[str, Any]
    #: One ledger row per billed answer (a job of several calls has several), or one for an unanswered call.
    entries: tuple[LedgerEntry, ...]

    @classmethod
    def of(cls, job: Job, spec: JobSpec, failure: BaseException | None, now: Any) -> _Outcome:
        assert job.id is not None
        cost, reported = job.cost, job.cost is not None
        if not reported and failure is not None:
            # A failed call costs nothing unless OpenRouter said otherwise (an error may carry `cost`).
            failed_cost = getattr(failure, "cost", None)
            if isinstance(failed_cost, int | float):
                cost, reported = float(failed_cost), True
        generation_id = job.generation_id or _str_or_none(getattr(failure, "generation_id", None))
        upstream_ms = None
        if job.upstream_started is not None:
            upstream_ms = int(((job.upstream_finished or time.perf_counter()) - job.upstream_started) * 1000)
        entries: list[LedgerEntry] = []
        if job.upstream_started is not None or reported:
            base = LedgerEntry(
                guild_id=spec.guild_id,
                member_id=spec.member_id,
                operation=spec.operation,
                model=job.model,
                at=now,
                cost=cost or 0.0,
                cost_reported=reported,
                images=job.images,
                succeeded=failure is None,
                job_id=job.id,
                generation_id=generation_id,
            )
            if len(job.answers) > 1 and reported:
                # Each call's real cost on a row of its own; the job's images go on the first.
                entries = [
                    replace(base, cost=answer_cost or 0.0, cost_reported=answer_cost is not None,
                            images=job.images if index == 0 else 0, generation_id=answer_id)
                    for index, (answer_cost, answer_id) in enumerate(job.answers)
                ]
            else:
                entries = [base]
        finish = {
            "status": JobStatus.DONE if failure is None else JobStatus.FAILED,
            "finished_at": now,
            "cost": cost,
            "generation_id": generation_id,
            "error_kind": _error_kind(failure, job),
            "upstream_ms": upstream_ms,
            "result_channel_id": job.result_channel_id,
            "result_message_id": job.result_message_id,
            "result_files": job.result_files,
            "result_seeds": job.result_seeds,
            "result_costs": job.result_costs,
        }
        return cls(job.id, finish, tuple(entries))


def _role_ids(interaction: discord.Interaction[Any]) -> tuple[int, ...]:
    """The member's role ids in the server (the payload's `member.roles`), for per-role quotas."""
    roles = getattr(interaction.user, "_roles", None)
    return tuple(int(role) for role in roles) if roles is not None else ()


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None


def _seconds_left(interaction: discord.Interaction[Any]) -> float:
    """Seconds until the job must stop so that the member can still be told."""
    deadline = interaction.created_at + INTERACTION_LIFETIME - DEADLINE_MARGIN
    return max((deadline - discord.utils.utcnow()).total_seconds(), 1.0)


def _error_kind(failure: BaseException | None, job: Job | None = None) -> str | None:
    """A short, stable name for what stopped a job (its type), for the history and support.

    A job a member cancelled says who (`CANCELLED_BY_KIND`); other cancellations (a restart) are "cancelled".
    """
    if failure is None:
        return None
    if isinstance(failure, asyncio.CancelledError):
        if job is not None and job.cancelled_by is not None:
            return CANCELLED_BY_KIND.format(job.cancelled_by)
        return "cancelled"
    return type(failure).__name__


def _cancel_result(job: Job, live: LiveJob | None) -> CancelResult:
    return CancelResult(CancelOutcome.CANCELLED, cost=job.cancel_cost(), by=job.cancelled_by,
                        was_waiting=live is not None and not live.running)


async def _tell_cancelled(interaction: discord.Interaction[Any], result: CancelResult) -> None:
    """Replace the job's progress message (and its Cancel button) with who cancelled it and what it cost."""
    try:
        await interaction.edit_original_response(content=result.summary, embeds=[], attachments=[], view=None)
    except discord.HTTPException:
        log.debug("could not edit the cancelled job's message (interaction %s)", interaction.id, exc_info=True)
        embed = discord.Embed(
            title=translated(texts.CANCELLED_TITLE), description=result.summary, colour=discord.Colour.light_grey())
        await send_private(interaction, embed=embed)
