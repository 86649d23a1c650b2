"""Finding a result's images again, for the result buttons (`cogs.result_buttons`).

Discord's attachment URLs expire, so a button clicked days later cannot rely on the URLs the job
history stored. A result's own image is taken from the clicked message, whose attachment URLs arrive
fresh with each click, else from the stored result message, fetched again. A re-roll's reference
images are tried by their stored URL, then their message fetched again, then (for a result that was
edited) the result message of the job they came from.

Every download goes through the bot's attachment pipeline (`bot.attachments`), so a button refuses
what the commands refuse with the same words. Only "couldn't fetch" moves on to the next place to
look; when none is left, the member is told the image is gone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.attachments import AttachmentUnavailable, ImageSource, LoadedImage
from bot.errors import UserFacingError
from bot.messages.images import IMAGE_GONE_REFERENCE, IMAGE_GONE_RESULT
from bot.storage.jobs import JobRecord, ReferenceSource

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["ImageGone", "defer", "fetch_message", "load_references", "load_result", "result_source"]


class ImageGone(UserFacingError):
    """The image a button needs can no longer be fetched."""

    title = IMAGE_GONE_RESULT.title

    def __init__(self, *, reference: bool = False) -> None:
        """The result's own image is gone, or (`reference`) an image the job used."""
        super().__init__((IMAGE_GONE_REFERENCE if reference else IMAGE_GONE_RESULT).format())


async def defer(interaction: discord.Interaction[Any]) -> None:
    """Acknowledge publicly ("thinking") before work that may outlast Discord's 3 seconds."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)


async def result_source(
    interaction: discord.Interaction[ImageBot], record: JobRecord, message: discord.Message | None,
    index: int = 1,
) -> ImageSource:
    """A result's image `index` (1-based): on the clicked message (fresh URLs), else on the stored one.

    Per image: when the clicked message lacks that image (no attachments, or a copy with fewer), the
    stored result message is fetched again for its fresh URLs.
    """
    if record.result_deleted:
        raise ImageGone()
    attachment = _pick_attachment(message.attachments, record.result_files, index) if message is not None else None
    if attachment is None and record.result_message_id is not None:
        await defer(interaction)  # the look-up is a REST call
        channel_id = record.result_channel_id or record.spec.channel_id
        message = await fetch_message(interaction.client, channel_id, record.result_message_id)
        attachment = _pick_attachment(message.attachments, record.result_files, index) if message else None
    if message is None or attachment is None:
        raise ImageGone()
    return ImageSource.from_attachment(attachment, message, job_id=record.id)


async def load_result(
    interaction: discord.Interaction[ImageBot], record: JobRecord, message: discord.Message | None,
    index: int = 1,
) -> tuple[ReferenceSource, LoadedImage]:
    """A result's image `index` loaded through the pipeline, with the reference the new job records.

    When the clicked message's copy of the image cannot be fetched, the stored result message is
    fetched again for fresh URLs before the image is declared gone.
    """
    source = await result_source(interaction, record, message, index)
    try:
        (image,) = await interaction.client.attachments.load_for(interaction, [source])
    except AttachmentUnavailable as error:
        if message is None or record.result_message_id is None:
            raise ImageGone() from error
        return await load_result(interaction, record, None, index)
    return source.reference(), image


async def load_references(
    interaction: discord.Interaction[ImageBot], references: Sequence[ReferenceSource]
) -> list[tuple[ReferenceSource, LoadedImage]]:
    """A job's reference images, in order, each from wherever it can still be found."""
    if references:
        await defer(interaction)  # expired URLs mean look-ups and retries, past Discord's 3 seconds
    return [await _load_reference(interaction, reference) for reference in references]


async def _load_reference(
    interaction: discord.Interaction[ImageBot], reference: ReferenceSource
) -> tuple[ReferenceSource, LoadedImage]:
    bot = interaction.client
    async with contextlib.aclosing(_stored_sources(bot, reference)) as sources:
        async for source in sources:
            with contextlib.suppress(AttachmentUnavailable):
                return reference, (await bot.attachments.load_for(interaction, [source]))[0]
    parent = await bot.store.jobs.get(reference.job_id) if reference.job_id is not None else None
    if parent is not None:
        with contextlib.suppress(ImageGone):
            return await load_result(interaction, parent, None, _image_number(parent, reference))
    raise ImageGone(reference=True)


def _image_number(parent: JobRecord, reference: ReferenceSource) -> int:
    """Which image of `parent`'s result a reference is (by its stored filename); 1 when that is not known."""
    if reference.filename in parent.result_files:
        return parent.result_files.index(reference.filename) + 1
    return 1


async def _stored_sources(bot: ImageBot, reference: ReferenceSource) -> AsyncGenerator[ImageSource, None]:
    """Where a reference may still be: its stored URL, then its message fetched again (fresh URLs)."""
    if reference.url:
        yield ImageSource(
            url=reference.url, filename=reference.filename or "image", attachment_id=reference.attachment_id,
            from_discord=reference.attachment_id is not None,  # an embed's URL is checked again, as on first use
            message_id=reference.message_id, channel_id=reference.channel_id, job_id=reference.job_id,
        )
    message = await fetch_message(bot, reference.channel_id, reference.message_id)
    if message is not None:
        attachment = _same_attachment(message.attachments, reference)
        if attachment is not None:
            yield ImageSource.from_attachment(attachment, message, job_id=reference.job_id)


def _same_attachment(
    attachments: Sequence[discord.Attachment], reference: ReferenceSource
) -> discord.Attachment | None:
    """The reference's attachment on its message fetched again: by id, else by filename, else the only one.

    A grid's message holds several images: taking the first when the id is not found would swap image 3
    of a grid for image 1, so a message of several attachments with no match gives none.
    """
    for attachment in attachments:
        if reference.attachment_id is not None and attachment.id == reference.attachment_id:
            return attachment
    for attachment in attachments:
        if reference.filename and attachment.filename == reference.filename:
            return attachment
    return attachments[0] if len(attachments) == 1 else None


async def fetch_message(bot: ImageBot, channel_id: int | None, message_id: int | None) -> discord.Message | None:
    if channel_id is None or message_id is None:
        return None
    try:
        return await bot.get_partial_messageable(channel_id).fetch_message(message_id)
    except discord.HTTPException:
        return None


def _pick_attachment(
    attachments: Sequence[discord.Attachment], filenames: Sequence[str], index: int = 1
) -> discord.Attachment | None:
    """The result's image `index`: by its stored filename when known, else by position.

    The first image falls back to any stored name, then to the first attachment, as single-image
    results always did (their records may name files a `/show` copy lacks).
    """
    wanted = filenames[index - 1 : index] if index > 1 else filenames
    for filename in wanted:
        for attachment in attachments:
            if attachment.filename == filename:
                return attachment
    if index > 1:
        return attachments[index - 1] if not filenames and len(attachments) >= index else None
    return attachments[0] if attachments else None
