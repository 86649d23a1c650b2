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

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.jobs.service import InputLoader, Job
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
    load: InputLoader | None = None,
    input_count: int | None = None,
    parent_job_id: int | None = None,
    notes: Sequence[str] = (),
    extra_fields: Sequence[tuple[str, str]] = (),
    decorate: EmbedDecorator | None = None,
) -> Job:
    """Run one image job to its delivered result (errors propagate to the caller's handler)."""
    async with bot.jobs.run(
        interaction, operation, request, parent_job_id=parent_job_id, load=load, input_count=input_count
    ) as job:
        sent = job.request
        job.mark_upstream_start()
        result = await bot.openrouter.generate_image(
            sent,
            references=[image.as_input() for image in job.inputs.images],
            modalities=bot.catalog.modalities_for(sent.model),
            on_retry=job.on_retry,
            on_answer=job.record_answer,
        )
        job.settle(cost=result.cost, generation_id=result.generation_id)
        files = await prepare_result_files(result.images, stem=operation.value, limit_bytes=interaction.filesize_limit)
        embed = image_result_embed(
            title=title,
            prompt=sent.prompt,
            result=result,
            format_label=shape_label(operation, sent),
            elapsed_s=job.elapsed_s,
            requester=interaction.user.display_name,
            files=files,
            notes=[*notes, *job.inputs.notes],
            extra_fields=extra_fields,
        )
        if decorate is not None:
            embed = decorate(embed, job)
        view = bot.jobs.result_view(job) if bot.jobs.result_view is not None else None
        await job.deliver(embeds=[embed], files=result_uploads(embed, files, spoiler=spoiler), view=view)
    return job
