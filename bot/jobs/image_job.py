"""The one way an image job runs, for `/imagine`, `/edit`, "Edit image" and the result buttons.

Admit, load the inputs, defer, wait for a slot (all `JobService.run`), call the model with the job's
`ImageRequest`, settle its cost, fit the files, render the result and deliver it with its buttons.
It used to be written out three times (in the imagine and edit cogs and the result buttons), each copy
passing the request's parts by hand; now a caller says only what differs: the request, how to load
its images, the title, and what to add to the embed.

The result's buttons come from `JobService.result_view` (one image: an embed and a classic view) and
`JobService.result_rows` (several: a Components V2 grid, `bot.grid`), which the result-buttons cog
sets when it loads: the job path does not import a cog.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.grid import MAX_GALLERY_ITEMS, GridText, channel_fallback, grid_layout
from bot.jobs.planning import MAX_SEED
from bot.jobs.service import InputLoader, Job
from bot.messages import grid as grid_texts
from bot.messages import ui
from bot.openrouter.errors import BadRequestError, ContentRefusedError
from bot.openrouter.types import GeneratedImage, ImageInput, ImageResult
from bot.operations import ImageFormat, Operation
from bot.rendering import ResultFile, image_result_embed, prepare_result_files, result_uploads
from bot.requests import ImageRequest

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["EmbedDecorator", "rejects_several", "run_image_job", "shape_label"]

log = logging.getLogger(__name__)

#: Adds what one entry point shows beside the common result (an edit's sources, say) to the embed.
EmbedDecorator = Callable[[discord.Embed, Job], discord.Embed]


def shape_label(operation: Operation, request: ImageRequest) -> str | None:
    """How a result names its shape: the format the member chose, the shape an edit kept, or the ratio.

    A format the model could not make was sent as the nearest ratio it offers (`bot.jobs.planning`):
    the result is labelled with that ratio, the shape it has.
    """
    if request.image_format in set(ImageFormat):
        chosen = ImageFormat(request.image_format)
        return chosen.shown if request.aspect_ratio in (None, chosen.aspect_ratio) else request.aspect_ratio
    if operation is Operation.EDIT and request.aspect_ratio:
        return ui.KEPT_SHAPE.format(ratio=request.aspect_ratio)
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
    parent_image_index: int | None = None,
    parent_action: str | None = None,
    notes: Sequence[str] = (),
    extra_fields: Sequence[tuple[str, str]] = (),
    decorate: EmbedDecorator | None = None,
    grid_fields: Callable[[Job], Sequence[tuple[str, str]]] | None = None,
) -> Job:
    """Run one image job to its delivered result (errors propagate to the caller's handler).

    `request.count` images are made `per_call` at a time (what the model's endpoint returns per
    call); calls beyond the first run in parallel on slots that are free at that moment, each holding
    one of MAX_CONCURRENT_JOBS, and the rest one after another on the job's own slot. `stream` asks a
    streaming endpoint for the partial images of the job's first call, shown in the progress message.
    A result of several images is a grid (`bot.grid`), which has no embed: `decorate` then does not
    apply, and `grid_fields` adds what it would have (an edit's sources) to the grid's text.
    """
    async with bot.jobs.run(
        interaction, operation, request, parent_job_id=parent_job_id, parent_image_index=parent_image_index,
        parent_action=parent_action, load=load, input_count=input_count,
    ) as job:
        sent = job.request
        job.mark_upstream_start()
        references = [image.as_input() for image in job.inputs.images]
        result, shortfall = await _make_images(bot, job, sent, references, per_call=per_call, stream=stream)
        job.settle(cost=result.cost, generation_id=result.generation_id)
        images = result.images
        more_notes = [*notes, *job.inputs.notes]
        if len(images) > MAX_GALLERY_ITEMS:  # a chat model may answer with more than one message can show
            more_notes.append(grid_texts.IMAGES_LEFT_OUT.format(len(images) - MAX_GALLERY_ITEMS,
                                                                shown=MAX_GALLERY_ITEMS))
            images = images[:MAX_GALLERY_ITEMS]
        files = await prepare_result_files(
            images, stem=operation.value, limit_bytes=interaction.filesize_limit, together=len(images) > 1
        )
        if shortfall:
            more_notes.append(shortfall)
        job.result_seeds = tuple(image.seed for image in images)
        job.result_costs = tuple(image.cost for image in images)
        if len(files) > 1:
            if result.dropped:
                more_notes.append(grid_texts.dropped(result.dropped))
            await _deliver_grid(bot, job, files, title=title, spoiler=spoiler, shape=shape_label(operation, sent),
                                notes=more_notes,
                                extra_fields=[*extra_fields, *(grid_fields(job) if grid_fields else ())])
            return job
        fields = [*extra_fields]
        seed = images[0].seed if images else None
        if seed is not None:
            fields.append((ui.FIELD_SEED.text, f"`{seed}`"))
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


async def _deliver_grid(
    bot: ImageBot, job: Job, files: Sequence[ResultFile], *, title: str, spoiler: bool, shape: str | None,
    notes: Sequence[str], extra_fields: Sequence[tuple[str, str]],
) -> None:
    """Deliver several images as one Components V2 message (`bot.grid`), with a classic fallback.

    The text shows the seed of each image (`job.result_seeds`), which their calls decided.
    """
    text = GridText(
        title=title, prompt=job.request.prompt, model=job.model, shape=shape, seed=job.request.seed,
        seeds=job.result_seeds, cost=job.cost,
        elapsed_s=job.elapsed_s, count=len(files), requester=job.interaction.user.display_name,
        notes=[*notes, *(file.note for file in files if file.note)], extra_fields=extra_fields,
    )
    uploads = [file.to_discord(spoiler=spoiler) for file in files]
    rows = bot.jobs.result_rows

    def controls() -> list[list[discord.ui.Item[Any]]]:
        return [list(row) for row in rows(job, len(files))] if rows is not None and job.id is not None else []

    layout = grid_layout(text, uploads, controls(), spoiler=spoiler)

    def fallback() -> tuple[Sequence[discord.Embed], discord.ui.View | None]:
        return channel_fallback(text, uploads, controls(), spoiler=spoiler)

    await job.deliver(embeds=[], files=uploads, view=layout, fallback=fallback)


async def _make_images(
    bot: ImageBot, job: Job, request: ImageRequest, references: Sequence[ImageInput], *, per_call: int, stream: bool
) -> tuple[ImageResult, str | None]:
    """`request.count` images in as few calls as the endpoint allows; a note when fewer could be made.

    Each call gets the next number among the job's calls, and sends the seed plus that number: the same
    seed on every call of one grid would make the same image again. A provider that rejects `n > 1` (a
    400, where OpenRouter routed to an endpoint that makes one image per call) has that call made again
    as single-image calls, in parallel on the free slots, and every later call of the job is single.
    """
    wanted = max(request.count, 1)
    numbers = itertools.count()
    batches = [(next(numbers), size) for size in _batches(wanted, max(per_call, 1))]
    # The first call streams its partial images into the progress message; the others (in parallel) do not,
    # or the previews of several images would take turns in one message.
    on_partial = _preview_to(job) if stream else None
    singles_only = False

    async def call(number: int, size: int) -> ImageResult:
        nonlocal singles_only
        if size > 1 and singles_only:
            return await as_singles(number, size)
        seed = None if request.seed is None else (request.seed + number) % (MAX_SEED + 1)
        partial = on_partial if number == 0 else None
        try:
            made = await bot.openrouter.generate_image(
                replace(request, count=size, seed=seed), references=references,
                modalities=bot.catalog.modalities_for(request.model),
                on_retry=job.on_retry, on_answer=job.record_answer, on_partial=partial,
                stream=partial is not None,
            )
            # Each image keeps the seed of its own call (what the result shows and an Upscale sends again)
            # and its share of the call's cost (what the job row records per image).
            share = made.cost / len(made.images) if made.cost is not None and made.images else None
            return replace(made, images=[replace(image, seed=seed, cost=share) for image in made.images])
        except BadRequestError as error:
            if size <= 1 or not rejects_several(error):
                raise
            log.info("%s rejected n=%d (%s); making those images one per call", request.model, size, error)
            singles_only = True
            return await as_singles(number, size)

    async def as_singles(number: int, size: int) -> ImageResult:
        # The rejected call made nothing: its number (so its seed) goes to the first single.
        singles = [(number, 1)] + [(next(numbers), 1) for _ in range(size - 1)]
        made = await _in_lanes(bot, singles, call)
        good = [result for result in made if isinstance(result, ImageResult)]
        if not good:
            raise next(result for result in made if isinstance(result, BaseException))
        return _merged(good, [image for result in good for image in result.images])

    if len(batches) == 1:
        single = await call(*batches[0])
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
        more_calls = [(next(numbers), size) for size in _batches(wanted - len(images), per_call)]
        extra = await _in_lanes(bot, more_calls, call)
        more = [result for result in extra if isinstance(result, ImageResult)]
        made += more
        images += [image for result in more for image in result.images][: wanted - len(images)]
    merged = _merged(made, images)
    shortfall = None
    if len(images) < wanted:
        shortfall = ui.SHORTFALL.format(wanted, made=len(images))
    return merged, shortfall


#: What a provider's 400 says when it makes one image per call and was asked for more (`n`).
_SEVERAL_REJECTED = re.compile(r"(?<![\w.'’])n\b(?!['’])|number of images|multiple images|one image per", re.I)


def rejects_several(error: BadRequestError) -> bool:
    """Whether a 400 is a provider refusing `n > 1` (not a content refusal, nor another parameter)."""
    if isinstance(error, ContentRefusedError):
        return False
    raw = error.metadata.get("raw")
    return bool(_SEVERAL_REJECTED.search(" ".join(str(part) for part in (error.message, raw) if part)))


async def _in_lanes(
    bot: ImageBot, calls: Sequence[tuple[int, int]], call: Callable[[int, int], Awaitable[ImageResult]]
) -> list[ImageResult | BaseException]:
    """Run the calls on the job's slot plus any slots free now; results in the order of `calls`.

    Each of `calls` is (its number among the job's calls, its image count), passed to `call`.
    """
    extra = bot.jobs.queue.take_free_slots(len(calls) - 1)
    lanes = 1 + len(extra)
    pending = list(enumerate(calls))
    results: list[ImageResult | BaseException | None] = [None] * len(calls)

    async def lane() -> None:
        while pending:
            index, (number, size) = pending.pop(0)
            try:
                results[index] = await call(number, size)
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
