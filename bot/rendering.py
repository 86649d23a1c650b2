"""How results look in Discord: embeds within Discord's limits, and files within the upload limit.

Shared by every command that shows a generated image, so `/imagine` and `/edit` results look alike.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.images import fit_to_size
from bot.openrouter.types import GeneratedImage

__all__ = [
    "MAX_FILES_PER_MESSAGE",
    "RESULT_COLOUR",
    "ResultFile",
    "format_cost",
    "prepare_result_files",
    "shorten",
]

MAX_FILES_PER_MESSAGE = 10
RESULT_COLOUR = discord.Colour.blurple()


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters at a word boundary, marking the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def format_cost(cost: float | None) -> str:
    """A cost in USD the way members read it."""
    if cost is None:
        return "not reported"
    if cost == 0:
        return "$0 (free)"
    if cost < 0.0001:
        return "< $0.0001"
    return f"${cost:.4f}".rstrip("0").rstrip(".") if cost < 1 else f"${cost:,.2f}"


@dataclass(frozen=True)
class ResultFile:
    """An image ready to upload, and a note when it had to be re-encoded to fit."""

    filename: str
    data: bytes
    note: str | None

    def to_discord(self) -> discord.File:
        """A fresh `discord.File` (they are single-use)."""
        return discord.File(io.BytesIO(self.data), filename=self.filename)


async def prepare_result_files(
    images: Sequence[GeneratedImage], *, stem: str, limit_bytes: int
) -> list[ResultFile]:
    """Name each image and shrink, off the event loop, any that exceeds Discord's upload limit."""
    prepared = []
    for number, image in enumerate(images, start=1):
        data, extension, note = image.data, image.extension, None
        if len(data) > limit_bytes:
            fitted = await asyncio.to_thread(fit_to_size, data, limit_bytes)
            data, extension, note = fitted.data, fitted.filename_ext, fitted.note
        prepared.append(ResultFile(filename=f"{stem}_{number}.{extension}", data=data, note=note))
    return prepared
