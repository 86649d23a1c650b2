"""The one way images get from Discord into a request: find them, download them, validate and shrink them.

`/edit`, `/describe` and both message context menus take images from the same places (slash-command
attachments, a message's attachments, images inside a message's embeds) and must refuse the same bad
inputs with the same words. Keeping that here means a refusal rule changes in one place, and every
refusal happens before any upstream call, so a bad upload never costs money.

The order is fixed and cheap-first: the declared size is checked before a byte is downloaded, the
download is cut off as soon as it passes the limit, and only then does Pillow decode (off the event
loop) and decide, from the bytes alone, whether this is an image we accept. `load_for` keeps all of
that ahead of the public "thinking" message when it fits in Discord's three seconds, and defers
publicly only when it would not, so the tree's error handler can still answer privately.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import discord

from bot.errors import UserFacingError
from bot.fetcher import DISCORD_MEDIA_HOSTS, AddressRefused, FetchFailed, GuardedFetcher, ResponseTooLarge
from bot.images import MAX_INPUT_BYTES, ImageTooLarge, PreparedImage, prepare_for_upstream
from bot.messages import images as texts
from bot.openrouter.types import ImageInput
from bot.storage.jobs import ReferenceSource
from bot.workers import run_cpu

__all__ = [
    "DISCORD_MEDIA_HOSTS",
    "AttachmentPipeline",
    "AttachmentUnavailable",
    "ImageSource",
    "LoadedImage",
    "NoImageFound",
    "images_in_message",
    "require_images",
]

log = logging.getLogger(__name__)

DEFAULT_DEFER_AFTER_S = 2.0
"""How long downloading and decoding may run before we must acknowledge the interaction.

Discord allows three seconds for the first response; two leaves room for the network round trip.
"""

_IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "jfif", "webp", "gif", "bmp", "tif", "tiff", "heic", "avif"})
_MARKDOWN_SPECIALS = re.compile(r"([\\*_~`|>\[\]])")
_MIB = 1024 * 1024


class AttachmentUnavailable(UserFacingError):
    """An image could not be fetched (deleted, expired, unreachable, or an address we will not call)."""

    title = texts.ATTACHMENT_UNAVAILABLE_TITLE


@dataclass(frozen=True, slots=True)
class ImageSource:
    """Where one input image comes from, and what Discord told us about it before downloading.

    `declared_size` is None for images inside embeds, whose size nobody declares; the download's own
    bound then does the job. `from_discord` marks URLs Discord handed us for an attachment rather than an
    embed's (which any link preview or webhook can set); it only changes the wording of refusals: every URL
    goes through the same `GuardedFetcher` check, so an "attachment" URL off Discord's origins is checked
    like any other.
    """

    url: str
    filename: str
    declared_size: int | None = None
    from_discord: bool = True
    attachment_id: int | None = None
    message_id: int | None = None
    channel_id: int | None = None
    #: The job whose result this image is, when it is one (the result buttons work on results).
    job_id: int | None = None

    @classmethod
    def from_attachment(
        cls, attachment: discord.Attachment, message: discord.Message | None = None, *, job_id: int | None = None
    ) -> ImageSource:
        """A slash-command option, or an attachment of `message` (the result of job `job_id`, if given)."""
        return cls(
            url=attachment.url,
            filename=attachment.filename,
            declared_size=attachment.size,
            attachment_id=attachment.id,
            message_id=message.id if message is not None else None,
            channel_id=message.channel.id if message is not None else None,
            job_id=job_id,
        )

    def reference(self) -> ReferenceSource:
        """What the job history keeps, so a re-roll can fetch the image again after its URL expired."""
        return ReferenceSource(
            url=self.url,
            filename=self.filename,
            channel_id=self.channel_id,
            message_id=self.message_id,
            attachment_id=self.attachment_id,
            job_id=self.job_id,
        )

    @property
    def label(self) -> str:
        """The filename quoted for a Discord message: one line, bounded, markdown escaped."""
        return _quote(self.filename)


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """An input image downloaded, validated and made ready for the upstream API."""

    source: ImageSource
    prepared: PreparedImage

    def as_input(self) -> ImageInput:
        """The upstream form: the prepared bytes labelled with the MIME type decoding found."""
        return ImageInput(data=self.prepared.data, mime=self.prepared.mime)

    @property
    def width(self) -> int:
        """Width as the member sees the upload (EXIF orientation applied, before scaling)."""
        return self.prepared.original_width

    @property
    def height(self) -> int:
        """Height as the member sees the upload (EXIF orientation applied, before scaling)."""
        return self.prepared.original_height


def images_in_message(message: discord.Message) -> list[ImageSource]:
    """Every image a message shows, in reading order: attachments first, then each embed's image and thumbnail.

    Attachments that look like images (by Discord's metadata) are preferred so that a message with a
    text file and a photo edits the photo. When no attachment looks like an image, all attachments
    are offered anyway: whether something is an image is decided by decoding it, so a renamed photo
    still works and a text file gets the "not an image" message rather than a vague "nothing found".
    """
    attachments = list(message.attachments)
    looking = [attachment for attachment in attachments if _looks_like_image(attachment)]
    sources = [ImageSource.from_attachment(attachment, message) for attachment in (looking or attachments)]
    for embed in message.embeds:
        for media in (embed.image, embed.thumbnail):
            source = _embed_source(media.url, media.proxy_url, message)
            if source is not None:
                sources.append(source)
    return _unique(sources)


class AttachmentPipeline:
    """Downloads input images with a hard size bound and prepares them for upstream, off the event loop.

    `bot.services.open_services` builds one (`bot.attachments`) for every command and button. Every download
    goes through the process's one `GuardedFetcher` (shared with the OpenRouter client, closed with them):
    it never carries the OpenRouter key, follows no redirects, and only fetches from Discord's own
    origins or from public addresses, so no URL can make the bot call into its own network.
    """

    def __init__(
        self,
        fetcher: GuardedFetcher,
        *,
        max_bytes: int = MAX_INPUT_BYTES,
        timeout_s: float = 60.0,
        defer_after_s: float = DEFAULT_DEFER_AFTER_S,
    ) -> None:
        self.fetcher = fetcher
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.defer_after_s = defer_after_s

    async def aclose(self) -> None:
        """Nothing of its own to release: the fetcher is shared, and the bot closes it."""

    @property
    def closed(self) -> bool:
        """True once the fetcher it downloads through was closed (the bot closes it on shutdown)."""
        return self.fetcher.closed

    # -- the steps ------------------------------------------------------------------------------

    def check_declared(self, sources: Sequence[ImageSource]) -> None:
        """Refuse, without any I/O, what Discord already told us is too large."""
        for source in sources:
            if source.declared_size is not None and source.declared_size > self.max_bytes:
                raise self._too_large(source, source.declared_size)

    async def download(self, source: ImageSource) -> bytes:
        """Fetch the bytes, refusing above `max_bytes` from the declared size, the header, or while streaming.

        Refuses, before anything is sent, a URL that is neither on a trusted origin nor at a public address.
        """
        self.check_declared([source])
        try:
            return await self.fetcher.fetch(source.url, max_bytes=self.max_bytes, timeout_s=self.timeout_s)
        except AddressRefused as refused:
            log.info("refused to fetch an input image (%s)", refused.reason)
            raise self._refused_address(source, refused.why) from refused
        except ResponseTooLarge as large:
            raise self._too_large(source, large.size) from large
        except FetchFailed as failed:
            raise self._unavailable(source, failed.why) from failed

    async def load(self, source: ImageSource) -> LoadedImage:
        """Download, then validate, decode and scale on the image thread pool (Pillow is CPU-bound)."""
        data = await self.download(source)
        prepared = await run_cpu(prepare_for_upstream, data, name=source.filename)
        return LoadedImage(source=source, prepared=prepared)

    async def load_all(self, sources: Sequence[ImageSource]) -> list[LoadedImage]:
        """Load several images concurrently, results in order; the first failure cancels the rest.

        When several fail at once, the earliest image's refusal is the one shown, so the member fixes
        the images in the order they gave them.
        """
        self.check_declared(sources)
        tasks = [asyncio.create_task(self.load(source)) for source in sources]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        errors = [task.exception() for task in tasks if not task.cancelled()]
        for error in errors:
            if error is not None:
                raise error
        return [task.result() for task in tasks]

    async def load_for(
        self, interaction: discord.Interaction[Any], sources: Sequence[ImageSource]
    ) -> list[LoadedImage]:
        """Load images for a command, acknowledging the interaction only if that would take too long.

        Refusals found within `defer_after_s` reach the member before any public message exists. A slow
        download gets a public defer (what the job would send anyway) so Discord's three-second deadline
        is met; a refusal after that still ends up private through the tree's error handler.
        """
        self.check_declared(sources)
        started = time.monotonic()
        task = asyncio.create_task(self.load_all(sources))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.defer_after_s)
            if not done and not interaction.response.is_done():
                log.debug("images slow to load after %.1f s; deferring", time.monotonic() - started)
                await interaction.response.defer(thinking=True)
            return await task
        finally:
            task.cancel()

    # -- helpers --------------------------------------------------------------------------------

    def _too_large(self, source: ImageSource, size: int | None) -> ImageTooLarge:
        limit = _format_mib(self.max_bytes)
        if size is None:
            return ImageTooLarge(texts.TOO_LARGE_UNKNOWN_SIZE.format(label=source.label, limit=limit))
        return ImageTooLarge(
            texts.TOO_LARGE.format(label=source.label, size=_format_mib(size, round_up=True), limit=limit)
        )

    @staticmethod
    def _unavailable(source: ImageSource, why: str) -> AttachmentUnavailable:
        text = texts.DOWNLOAD_FAILED_DISCORD if source.from_discord else texts.DOWNLOAD_FAILED_EMBED
        return AttachmentUnavailable(text.format(label=source.label, why=why))

    @staticmethod
    def _refused_address(source: ImageSource, why: str) -> AttachmentUnavailable:
        text = texts.ADDRESS_REFUSED_DISCORD if source.from_discord else texts.ADDRESS_REFUSED_EMBED
        return AttachmentUnavailable(text.format(label=source.label, why=why))


def _looks_like_image(attachment: discord.Attachment) -> bool:
    """Discord's own hints that an attachment is a picture (only used to choose, never to accept)."""
    if (attachment.content_type or "").lower().startswith("image/"):
        return True
    if attachment.width and attachment.height:
        return True
    return attachment.filename.rsplit(".", 1)[-1].lower() in _IMAGE_EXTENSIONS


def _embed_source(url: str | None, proxy_url: str | None, message: discord.Message) -> ImageSource | None:
    """An embed image, fetched through Discord's media proxy when it gave one."""
    chosen = proxy_url or url
    if not chosen or urlsplit(chosen).scheme not in ("http", "https"):
        return None
    name = unquote(urlsplit(url or chosen).path.rsplit("/", 1)[-1]) or "embedded image"
    return ImageSource(
        url=chosen, filename=name, declared_size=None, from_discord=False, message_id=message.id,
        channel_id=message.channel.id,
    )


def _unique(sources: Iterable[ImageSource]) -> list[ImageSource]:
    """Drop repeats: an embed that shows one of the message's own attachments is the same image.

    Compared without the query string, because Discord signs each copy of a CDN URL separately.
    """
    seen: set[str] = set()
    unique = []
    for source in sources:
        parts = urlsplit(source.url)
        key = f"{parts.netloc}{parts.path}"
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique


def _quote(name: str) -> str:
    """Quote a member-supplied filename for a Discord message: one line, bounded, markdown escaped."""
    shown = " ".join(name.split()) or "image"
    if len(shown) > 80:
        shown = shown[:79] + "\u2026"
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", shown)
    return f"\u201c{escaped}\u201d"


def _format_mib(size: int, *, round_up: bool = False) -> str:
    """A byte count in MiB the way members read it; `round_up` keeps 25.01 MiB from reading as 25."""
    value = size / _MIB
    if round_up:
        value = math.ceil(value * 10) / 10
    return f"{value:.1f}".removesuffix(".0") + " MiB"


class NoImageFound(UserFacingError):
    """A context menu was used on a message that shows no image."""

    title = texts.NO_IMAGE_TO_EDIT.title

    def __init__(self, action: str, command: str) -> None:
        """`command`: the menu's command (`edit`, `describe`), whose whole text is said; `action` is kept for logs."""
        super().__init__(texts.no_image_found(command))
        self.action = action


def require_images(message: discord.Message, *, action: str, command: str) -> list[ImageSource]:
    """The message's images, or a refusal the member understands when there are none."""
    sources = images_in_message(message)
    if not sources:
        raise NoImageFound(action, command)
    return sources

