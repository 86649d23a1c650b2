"""The one way an image job runs, for `/imagine`, `/edit`, "Edit image" and the result buttons.

Admit, load the inputs, defer, wait for a slot (all `JobService.run`), call the model with the job's
`ImageRequest`, settle its cost, fit the files, render the result and deliver it with its buttons.
It used to be written out three times (in the imagine and edit cogs and the result buttons), each copy
passing the request's parts by hand; now a caller says only what differs: the request, how to load
its images, the title, and what to add to the embed.

The result's buttons come from `JobService.result_view`, which the result-buttons cog sets when it
loads: the job path does not import a cog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.jobs.service import InputLoader, Job
from bot.openrouter.types import GeneratedImage, ImageInput, ImageResult
from bot.operations import ImageFormat, Operation
from bot.rendering import image_result_embed, prepare_result_files, result_uploads
from bot.requests import ImageRequest

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["EmbedDecorator", "run_image_job", "shape_label"]

#: Adds what one entry point shows beside the common result (an edit's sources, say) to the embed.
EmbedDecorator = Callable[[discord.Embed, Job], discord.Embed]


def shape_label(operation: Operation, request: ImageRequest) -> str | None:
    """How a result names its shape: the format the member chose, the shape an edit kept, or the ratio."""
    if request.image_format in set(ImageFormat):
        return ImageFormat(request.image_format).label
    if operation is Operation.EDIT and request.aspect_ratio:
        return f"Kept the image's shape ({request.aspect_ratio})"
    return request.aspect_ratio


async def run_image_job(
    bot: ImageBot,
    interaction: discord.Interaction[Any],
    operation: Operation,
    request: ImageRequest,
    *,
    title: str,
    spoiler: bool,
    per_call: int = 1,
    stream: bool = False,
    load: InputLoader | None = None,
    input_count: int | None = None,
    parent_job_id: int | None = None,
    notes: Sequence[str] = (),
    extra_fields: Sequence[tuple[str, str]] = (),
    decorate: EmbedDecorator | None = None,
) -> Job:
    """Run one image job to its delivered result (errors propagate to the caller's handler).

    `request.count` images are made `per_call` at a time (what the model's endpoint returns per
    call); calls beyond the first run in parallel on slots that are free at that moment, each holding
    one of MAX_CONCURRENT_JOBS, and the rest one after another on the job's own slot. `stream` asks a
    streaming endpoint for partial images, shown in the progress message.
    """
    async with bot.jobs.run(
        interaction, operation, request, parent_job_id=parent_job_id, load=load, input_count=input_count
    ) as job:
        sent = job.request
        job.mark_upstream_start()
        references = [image.as_input() for image in job.inputs.images]
        result, shortfall = await _make_images(bot, job, sent, references, per_call=per_call, stream=stream)
        job.settle(cost=result.cost, generation_id=result.generation_id)
        files = await prepare_result_files(result.images, stem=operation.value, limit_bytes=interaction.filesize_limit)
        fields = [*extra_fields]
        if sent.seed is not None:
            fields.append(("Seed", f"`{sent.seed}`"))
        more_notes = [*notes, *job.inputs.notes]
        if shortfall:
            more_notes.append(shortfall)
        embed = image_result_embed(
            title=title,
            prompt=sent.prompt,
            result=result,
            format_label=shape_label(operation, sent),
            elapsed_s=job.elapsed_s,
            requester=interaction.user.display_name,
            files=files,
            notes=more_notes,
            extra_fields=fields,
        )
        if decorate is not None:
            embed = decorate(embed, job)
        view = bot.jobs.result_view(job) if bot.jobs.result_view is not None else None
        await job.deliver(embeds=[embed], files=result_uploads(embed, files, spoiler=spoiler), view=view)
    return job


async def _make_images(
    bot: ImageBot, job: Job, request: ImageRequest, references: Sequence[ImageInput], *, per_call: int, stream: bool
) -> tuple[ImageResult, str | None]:
    """`request.count` images in as few calls as the endpoint allows; a note when fewer could be made."""
    wanted = max(request.count, 1)
    batches = _batches(wanted, max(per_call, 1))
    on_partial = _preview_to(job) if stream and len(batches) == 1 else None

    async def call(size: int) -> ImageResult:
        return await bot.openrouter.generate_image(
            replace(request, count=size), references=references, modalities=bot.catalog.modalities_for(request.model),
            on_retry=job.on_retry, on_answer=job.record_answer, on_partial=on_partial, stream=on_partial is not None,
        )

    if len(batches) == 1:
        single = await call(batches[0])
        if len(single.images) >= wanted:
            return single, None  # all it gave (a chat model may answer with more than asked): as before
        results: list[ImageResult | BaseException] = [single]
    else:
        results = await _in_lanes(bot, batches, call)
    made = [result for result in results if isinstance(result, ImageResult)]
    if len(made) < len(results) and not made:
        raise next(result for result in results if isinstance(result, BaseException))
    images = [image for result in made for image in result.images][:wanted]
    if 0 < len(images) < wanted and per_call > 1:
        # The endpoint returned fewer than asked (some providers cap n silently): one more round for the rest.
        extra = await _in_lanes(bot, _batches(wanted - len(images), per_call), call)
        more = [result for result in extra if isinstance(result, ImageResult)]
        made += more
        images += [image for result in more for image in result.images][: wanted - len(images)]
    merged = _merged(made, images)
    shortfall = None
    if len(images) < wanted:
        shortfall = f"{len(images)} of the {wanted} images asked for could be made; the other calls failed."
    return merged, shortfall


async def _in_lanes(
    bot: ImageBot, batches: Sequence[int], call: Callable[[int], Awaitable[ImageResult]]
) -> list[ImageResult | BaseException]:
    """Run the calls on the job's slot plus any slots free now; results in batch order."""
    extra = bot.jobs.queue.take_free_slots(len(batches) - 1)
    lanes = 1 + len(extra)
    pending = list(enumerate(batches))
    results: list[ImageResult | BaseException | None] = [None] * len(batches)

    async def lane() -> None:
        while pending:
            index, size = pending.pop(0)
            try:
                results[index] = await call(size)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # one failed call must not lose the images of the others
                results[index] = error

    try:
        await asyncio.gather(*(lane() for _ in range(lanes)))
    finally:
        for ticket in extra:
            ticket.release()
    return [result for result in results if result is not None]


def _batches(count: int, per_call: int) -> list[int]:
    full, rest = divmod(count, per_call)
    return [per_call] * full + ([rest] if rest else [])


def _merged(results: Sequence[ImageResult], images: Sequence[GeneratedImage]) -> ImageResult:
    first = results[0]
    costs = [result.cost for result in results if result.cost is not None]
    return replace(
        first,
        images=list(images),
        cost=sum(costs) if costs else None,
        text=next((result.text for result in results if result.text), ""),
        dropped=sum(result.dropped for result in results),
    )


def _preview_to(job: Job) -> Callable[[int, bytes, str], None]:
    def show(_index: int, data: bytes, mime: str) -> None:
        job.progress.preview(data, mime)

    return show
