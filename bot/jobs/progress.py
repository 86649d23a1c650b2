"""Showing a running job's state in its "thinking" message, without tripping Discord's rate limits.

State changes can come in bursts (a queue moving by 50 places in a second); only the latest state
matters, so edits are coalesced and sent at most once per interval.

Every edit also carries the job's controls (the Cancel button, see `attach`), so they appear with the
first state shown and never cost a request of their own: a job that waits shows them with its queue
position, a job that runs gets its first edit from `set_later` only if it is still running by then,
so a fast job makes no edit at all before its result replaces the message (and its components).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import Callable
from typing import Any

import discord

from bot.messages import jobs as jobs_texts
from bot.messages import ui

__all__ = ["Progress", "ViewFactory"]

log = logging.getLogger(__name__)

#: Builds the components shown under the state (a Cancel button); called once, at the first edit.
ViewFactory = Callable[[], discord.ui.View]


class Progress:
    """The latest state text of one job, mirrored into its deferred response."""

    def __init__(self, interaction: discord.Interaction, *, min_interval_s: float = 2.0) -> None:
        self._interaction = interaction
        self._min_interval_s = min_interval_s
        self._latest: str | None = None
        self._shown: str | None = None
        self._last_edit = 0.0
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._view_factory: ViewFactory | None = None
        self._view: discord.ui.View | None = None
        self._closed = False
        #: The latest partial image of a streamed generation (bytes, MIME type), and how many were seen.
        self._preview: tuple[bytes, str] | None = None
        self._previews_seen = 0
        self._preview_shown = 0
        #: Least time between two preview edits of this message.
        self.preview_interval_s = 1.5

    @property
    def latest(self) -> str | None:
        """The most recent state, shown or not yet."""
        return self._latest

    @property
    def closed(self) -> bool:
        """True once the result (or an error) is about to replace the message."""
        return self._closed

    def attach(self, view: ViewFactory | None) -> None:
        """Show these components under every state from now on (built lazily, at the first edit)."""
        self._view_factory = view

    def set(self, text: str) -> None:
        """Record a new state; an edit follows within the interval."""
        if self._closed or text == self._latest:
            return
        self._latest = text
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    def preview(self, data: bytes, mime: str) -> None:
        """Show a partial image of a streamed generation; edits are coalesced to one per 1.5 s.

        Only the latest partial matters, so a burst of them costs one edit; the final result replaces it.
        """
        if self._closed:
            return
        self._preview = (data, mime)
        self._previews_seen += 1
        self._latest = self._latest or jobs_texts.WORKING.text
        self._min_interval_s = min(self._min_interval_s, self.preview_interval_s)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    def set_later(self, text: str, delay_s: float) -> None:
        """Show `text` after `delay_s` unless a state was set meanwhile or the job ended (`close`).

        A timer, not a task: a job that finishes first costs nothing but cancelling it.
        """
        if self._closed or self._latest is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(max(delay_s, 0.0), self._timer_fired, text)

    def _timer_fired(self, text: str) -> None:
        self._timer = None
        if self._latest is None:
            self.set(text)

    def _components(self) -> dict[str, Any]:
        if self._view is None and self._view_factory is not None:
            self._view = self._view_factory()
        return {"view": self._view} if self._view is not None else {}

    async def _flush(self) -> None:
        while not self._closed and (self._latest != self._shown or self._previews_seen != self._preview_shown):
            wait = self._last_edit + self._min_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # throttle: Discord rate-limits message edits
            text = self._latest
            seen = self._previews_seen
            self._last_edit = time.monotonic()
            try:
                await self._interaction.edit_original_response(content=text, **self._components(), **self._image())
            except discord.HTTPException:
                log.debug("progress edit failed for interaction %s", self._interaction.id, exc_info=True)
            self._shown = text
            self._preview_shown = seen

    def _image(self) -> dict[str, Any]:
        """The latest partial image as the message's one attachment, shown in an embed."""
        if self._preview is None or self._previews_seen == self._preview_shown:
            return {}
        data, mime = self._preview
        name = "preview." + {"image/jpeg": "jpg", "image/webp": "webp"}.get(mime, "png")
        embed = discord.Embed(description=ui.PREVIEW.text)
        embed.set_image(url=f"attachment://{name}")
        return {"embed": embed, "attachments": [discord.File(io.BytesIO(data), filename=name)]}

    async def close(self) -> None:
        """Stop editing; called before the final result replaces the message."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
