"""How results look in Discord: embeds within Discord's limits, and files within the upload limit.

Shared by every command that shows a generated image, so `/imagine` and `/edit` results look alike.
Text a member wrote (prompts, file names, display names) is shown through `escape_member_text`, so it
reads exactly as typed and can never format the bot's own message, least of all as a masked link.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.i18n import decimal, money
from bot.images import fit_to_size
from bot.messages import ui
from bot.openrouter.types import GeneratedImage, ImageResult
from bot.workers import run_cpu

__all__ = [
    "EMBED_DESCRIPTION_LIMIT",
    "MAX_EMBEDS_PER_MESSAGE",
    "MAX_FILES_PER_MESSAGE",
    "MAX_UPLOAD_BYTES_PER_MESSAGE",
    "MESSAGE_EMBED_CHARS",
    "RESULT_COLOUR",
    "ResultFile",
    "cap_embed",
    "escape_member_text",
    "format_cost",
    "format_seconds",
    "image_result_embed",
    "pack_embeds",
    "prepare_result_files",
    "result_uploads",
    "shorten",
    "split_text",
]

MAX_FILES_PER_MESSAGE = 10
#: Discord refuses a request over 25 MiB; keep room for the JSON part of the multipart body.
MAX_UPLOAD_BYTES_PER_MESSAGE = 24 * 1024 * 1024
RESULT_COLOUR = discord.Colour.blurple()


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters at a word boundary, marking the cut with an ellipsis.

    Safe on escaped text (`escape_member_text`'s): a cut never separates a backslash from the
    character it escapes.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:  # the cut fell between a backslash and what it escapes
        cut = cut[:-1]
    return cut.rstrip() + "…"


#: A bare link as Discord autolinks it (its `url` rule): left as written, so it stays a working link
#: that shows its real address. Discord formats nothing inside one.
_BARE_LINK = re.compile(r"""https?://[^\s<]+[^<.,:;"')\]\s]""")
#: Markdown wherever it appears: bold, italics, underline, strike-through, spoilers, code, masked links
#: (`[text](url)`: both brackets and the opening parenthesis are escaped), and the backslash itself
#: (else a member's own `\` would cancel the escape put before the next character). A closing
#: parenthesis is never Markdown on its own, and escaped right after a bare link it would put the
#: backslash into the link, so it is left alone.
_INLINE_MARKDOWN = re.compile(r"([\\*_~`|\[\](])")
#: Inside a bare link only what could start a masked link, or cancel an escape, is escaped.
_LINK_MARKDOWN = re.compile(r"([\\\[\]])")
#: Markdown at the start of a line: headings (`#`), subtext (`-#`), block quotes (`>`) and lists
#: (`-`, `+`, `1.`; `*` is escaped everywhere anyway).
_LINE_START_MARKDOWN = re.compile(r"^([ \t]*)(#|>|-|\+|\d+(?=\.))", re.MULTILINE)


def escape_member_text(text: str, limit: int | None = None) -> str:
    """Text a member wrote (a prompt, a file name, a display name), safe to show in a message or embed.

    The way to show member text in a description, field, title or message: every Markdown character
    is backslash-escaped, so Discord shows the text exactly as written and nothing in it formats
    the bot's message. Above all, `[free nitro](https://evil.example)` stays visible text instead of a
    masked link inside the bot's own embed (`discord.utils.escape_markdown` alone leaves a second
    link on the same line, and a member's own backslash, live). A bare `https://` link stays a
    plain link that shows its real address. Mentions are left as they are: embeds never ping, and
    messages are sent with mentions disabled. Embed footers and author names are not Markdown at
    all, so text shown only there needs no escaping (it would show the backslashes).

    `limit` bounds the escaped result (Discord counts the backslashes too): a longer text is cut at
    a word boundary, never inside an escape, and the cut is marked with an ellipsis. Surrounding
    whitespace is dropped.
    """
    text = text.strip()
    pieces: list[str] = []
    position = 0
    for link in _BARE_LINK.finditer(text):
        pieces.append(_INLINE_MARKDOWN.sub(r"\\\1", text[position : link.start()]))
        pieces.append(_LINK_MARKDOWN.sub(r"\\\1", link[0]))
        position = link.end()
    pieces.append(_INLINE_MARKDOWN.sub(r"\\\1", text[position:]))
    shown = _LINE_START_MARKDOWN.sub(_escape_line_start, "".join(pieces))  # no link holds a line break
    return shown if limit is None else shorten(shown, limit)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match[1], match[2]
    return f"{indent}{mark}\\" if mark[0].isdigit() else f"{indent}\\{mark}"  # `1\.`, `\#`


def format_cost(cost: float | None) -> str:
    """A cost in USD the way members read it, in their locale's style (`bot.i18n.money`)."""
    if cost is None:
        return ui.COST_NOT_REPORTED.text
    if cost == 0:
        return ui.COST_FREE.format(amount=money(0, precise=True))
    if cost < 0.0001:
        return ui.COST_TINY.format(amount=money(0.0001, precise=True))
    return money(cost, precise=True)


def format_seconds(seconds: float) -> str:
    """A duration as results show it ("12.3 s"), the number in the locale's style."""
    return ui.SECONDS.format(seconds=decimal(seconds, 1))


@dataclass(frozen=True)
class ResultFile:
    """An image ready to upload, and a note when it had to be re-encoded to fit."""

    filename: str
    data: bytes
    note: str | None

    def to_discord(self, *, spoiler: bool = False) -> discord.File:
        """A fresh `discord.File` (they are single-use); `spoiler` names it `SPOILER_...`, which Discord hides."""
        return discord.File(io.BytesIO(self.data), filename=self.filename, spoiler=spoiler)


def result_uploads(embed: discord.Embed, files: Sequence[ResultFile], *, spoiler: bool) -> list[discord.File]:
    """The files of a result under `embed`, spoilered or not.

    Discord never hides an embed's image or thumbnail, so a spoilered result's embed shows neither: the
    pictures are then the spoilered attachments alone, which members reveal with a click.
    """
    if spoiler:
        embed.set_image(url=None)
        embed.set_thumbnail(url=None)
    return [file.to_discord(spoiler=spoiler) for file in files]


async def prepare_result_files(
    images: Sequence[GeneratedImage], *, stem: str, limit_bytes: int, together: bool = False,
    total_limit_bytes: int | None = None,
) -> list[ResultFile]:
    """Name each image and shrink, off the event loop, any that exceeds Discord's upload limit.

    `limit_bytes` is the interaction's `attachment_size_limit`, per file. With `together` (the files of
    a grid, which must share one message because its gallery can only show that message's files) their
    sum must also fit one request (`total_limit_bytes`, default `MAX_UPLOAD_BYTES_PER_MESSAGE`): when it
    does not, each file gets an equal share and the larger ones are re-encoded or downscaled to it.
    """
    total = MAX_UPLOAD_BYTES_PER_MESSAGE if total_limit_bytes is None else total_limit_bytes
    if together and images and sum(len(image.data) for image in images) > total:
        limit_bytes = min(limit_bytes, total // len(images))
    prepared = []
    for number, image in enumerate(images, start=1):
        data, extension, note = image.data, image.extension, None
        if len(data) > limit_bytes:
            fitted = await run_cpu(fit_to_size, data, limit_bytes)
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
    short by construction. The cut is marked, never silent, and never splits an escape.
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

    The prompt, the model's words (a prompt can make the model repeat anything) and the model id (a
    server's admin may type any id) are escaped with `escape_member_text`; `requester` is only in the
    footer, which Discord never formats. `extra_fields` and `notes` are the caller's own Markdown
    (links to sources and jobs), so any member text in them must already be escaped.
    """
    embed = discord.Embed(title=title, colour=RESULT_COLOUR)
    embed.add_field(name=ui.FIELD_MODEL.text, value=escape_member_text(result.model, 1024))
    if format_label:
        embed.add_field(name=ui.FIELD_FORMAT.text, value=shorten(format_label, 1024))
    embed.add_field(name=ui.FIELD_COST.text, value=format_cost(result.cost))
    embed.add_field(name=ui.FIELD_TIME.text, value=format_seconds(elapsed_s))
    for name, value in extra_fields:
        embed.add_field(name=shorten(name, 256), value=shorten(value, 1024), inline=False)
    if result.text:
        embed.add_field(name=ui.FIELD_MODEL_SAID.text, value=escape_member_text(result.text, 1024), inline=False)
    all_notes = [*notes, *(file.note for file in files if file.note)]
    if result.dropped:
        all_notes.append(ui.DROPPED_IMAGES.format(result.dropped))
    if all_notes:
        embed.add_field(name=ui.FIELD_NOTE.text, value=shorten(" ".join(all_notes), 1024), inline=False)
    if files:
        embed.set_image(url=f"attachment://{files[0].filename}")
    embed.set_footer(text=shorten(ui.REQUESTED_BY.format(name=requester), 2048))
    room = min(EMBED_DESCRIPTION_LIMIT, MESSAGE_EMBED_CHARS - len(embed) - 1)
    embed.description = escape_member_text(prompt, room)
    return embed
