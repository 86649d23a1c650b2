"""Showing a running job's state in its "thinking" message, without tripping Discord's rate limits.

State changes can come in bursts (a queue moving by 50 places in a second); only the latest state
matters, so edits are coalesced and sent at most once per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import discord

__all__ = ["Progress"]

log = logging.getLogger(__name__)


class Progress:
    """The latest state text of one job, mirrored into its deferred response."""

    def __init__(self, interaction: discord.Interaction, *, min_interval_s: float = 2.0) -> None:
        self._interaction = interaction
        self._min_interval_s = min_interval_s
        self._latest: str | None = None
        self._shown: str | None = None
        self._last_edit = 0.0
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def latest(self) -> str | None:
        """The most recent state, shown or not yet."""
        return self._latest

    def set(self, text: str) -> None:
        """Record a new state; an edit follows within the interval."""
        if self._closed or text == self._latest:
            return
        self._latest = text
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while not self._closed and self._latest != self._shown:
            wait = self._last_edit + self._min_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # throttle: Discord rate-limits message edits
            text = self._latest
            self._last_edit = time.monotonic()
            try:
                await self._interaction.edit_original_response(content=text)
            except discord.HTTPException:
                log.debug("progress edit failed for interaction %s", self._interaction.id, exc_info=True)
            self._shown = text

    async def close(self) -> None:
        """Stop editing; called before the final result replaces the message."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
