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
from bot.openrouter.types import GeneratedImage, ImageResult
from bot.operations import MAX_PROMPT_LENGTH

__all__ = [
    "EMBED_DESCRIPTION_LIMIT",
    "MAX_EMBEDS_PER_MESSAGE",
    "MAX_FILES_PER_MESSAGE",
    "MESSAGE_EMBED_CHARS",
    "RESULT_COLOUR",
    "ResultFile",
    "cap_embed",
    "format_cost",
    "image_result_embed",
    "pack_embeds",
    "prepare_result_files",
    "shorten",
    "split_text",
]

MAX_FILES_PER_MESSAGE = 10
#: A prompt is shown in full up to this length (the command accepts 4000).
MAX_PROMPT_SHOWN = MAX_PROMPT_LENGTH
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


EMBED_DESCRIPTION_LIMIT = 4096
MESSAGE_EMBED_CHARS = 6000
MAX_EMBEDS_PER_MESSAGE = 10


def split_text(text: str, limit: int = EMBED_DESCRIPTION_LIMIT) -> list[str]:
    """Split text into pieces of at most `limit` characters, never dropping any of it.

    Cuts at the last paragraph break, else line break, else space before the limit, so words stay
    whole and pieces read naturally; breaks in the first half of a piece are passed over so no piece
    comes out tiny. Only a single "word" longer than `limit` (a huge URL) is cut inside, since
    nothing else can hold it. Whitespace at a cut is the only thing not carried over.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    rest = text.strip()
    pieces: list[str] = []
    while len(rest) > limit:
        window = rest[: limit + 1]  # a break right after the limit still lets the piece end at it
        cut = -1
        for separator in ("\n\n", "\n", " "):
            found = window.rfind(separator)
            if found > limit // 2 or (separator == " " and found > 0):
                cut = found
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def pack_embeds(
    embeds: Sequence[discord.Embed],
    *,
    max_chars: int = MESSAGE_EMBED_CHARS,
    max_embeds: int = MAX_EMBEDS_PER_MESSAGE,
) -> list[list[discord.Embed]]:
    """Group embeds, in order, into messages within Discord's per-message limits (6000 chars, 10 embeds).

    Each embed must fit a message on its own; a larger one is a bug in the caller, not something to
    truncate here.
    """
    messages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    used = 0
    for embed in embeds:
        size = len(embed)
        if size > max_chars:
            raise ValueError(f"an embed of {size} characters cannot fit in one message")
        if current and (used + size > max_chars or len(current) >= max_embeds):
            messages.append(current)
            current, used = [], 0
        current.append(embed)
        used += size
    if current:
        messages.append(current)
    return messages


def cap_embed(embed: discord.Embed, limit: int = MESSAGE_EMBED_CHARS) -> discord.Embed:
    """Keep one embed within Discord's 6000-character total by shortening its description.

    The description holds the member's prompt, the only part that can be long; fields are already
    short by construction. The cut is marked, never silent.
    """
    overflow = len(embed) - limit
    if overflow > 0 and embed.description:
        embed.description = shorten(embed.description, max(len(embed.description) - overflow - 1, 1))
    return embed


def image_result_embed(
    *,
    title: str,
    prompt: str,
    result: ImageResult,
    format_label: str | None,
    elapsed_s: float,
    requester: str,
    files: Sequence[ResultFile],
    notes: Sequence[str] = (),
    extra_fields: Sequence[tuple[str, str]] = (),
) -> discord.Embed:
    """The one look of every image result (`/imagine`, `/edit`, the result buttons).

    Model, format, cost and time first; then any command-specific fields (sources, origin); what
    the model said; notes (re-encoding and the like); the first image large. The prompt gets what
    Discord's 6000-character budget leaves, always well over 2000 characters, and a cut is marked.
    """
    embed = discord.Embed(title=title, colour=RESULT_COLOUR)
    embed.add_field(name="Model", value=shorten(result.model, 1024))
    if format_label:
        embed.add_field(name="Format", value=shorten(format_label, 1024))
    embed.add_field(name="Cost", value=format_cost(result.cost))
    embed.add_field(name="Time", value=f"{elapsed_s:.1f} s")
    for name, value in extra_fields:
        embed.add_field(name=shorten(name, 256), value=shorten(value, 1024), inline=False)
    if result.text:
        embed.add_field(name="The model said", value=shorten(result.text, 1024), inline=False)
    all_notes = [*notes, *(file.note for file in files if file.note)]
    if all_notes:
        embed.add_field(name="Note", value=shorten(" ".join(all_notes), 1024), inline=False)
    if files:
        embed.set_image(url=f"attachment://{files[0].filename}")
    embed.set_footer(text=shorten(f"Requested by {requester}", 2048))
    embed.description = shorten(prompt, min(MAX_PROMPT_SHOWN, MESSAGE_EMBED_CHARS - len(embed) - 1))
    return embed
