"""A result of several images as one Components V2 message: a media gallery, its text, its buttons.

Which look. A result of one image keeps today's embed: its image is shown large, `/show`, spoilers,
"Edit image" on it and every earlier result already work with it, and one image needs no per-image
choice beyond its Upscale and Vary buttons, which fit the embed's classic rows. A result of two or
more images needs a gallery (an embed shows one large image), so it is laid out with Components V2
(`discord.ui.LayoutView`): a container holding a `MediaGallery` of the uploaded files, referenced as
`attachment://<name>` with alt text from the prompt, and a `TextDisplay` with the prompt, model,
shape, seed, total cost and time; under it the rows of buttons the result-buttons cog makes
(`JobService.result_rows`): U1-U4, V1-V4, Edit and Describe per image, then Re-roll and Delete.

Discord's limits are kept by construction: at most `MAX_GALLERY_ITEMS` (10) images in the gallery,
buttons for the first `MAX_PER_IMAGE_BUTTONS` (5, one row's worth), so at most the container, gallery
and text (3), four rows of 1 + 5 and one of 1 + 2: 30 of the 40 components a message may have (26 for a
grid of four); the text stays within a text display's 4000 characters, alt texts within 1024.

A V2 message cannot carry `content`, and the channel post that replaces a result whose interaction
token expired must mention the member in its content: `channel_fallback` builds what that post shows
instead, one embed per image and the same buttons in a classic view (5 rows at most).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.i18n import decimal, listing
from bot.messages import grid as texts
from bot.rendering import RESULT_COLOUR, escape_member_text, format_cost, shorten

__all__ = [
    "MAX_GALLERY_ITEMS",
    "MAX_PER_IMAGE_BUTTONS",
    "MAX_TEXT_DISPLAY",
    "GridText",
    "ResultRows",
    "channel_fallback",
    "grid_layout",
    "grid_text",
]

MAX_GALLERY_ITEMS = 10
#: Images that get their own buttons: one action row holds five.
MAX_PER_IMAGE_BUTTONS = 5
#: A text display holds 1-4000 characters (all of a message's together too).
MAX_TEXT_DISPLAY = 4000
#: Alt text of a gallery item: at most 1024 characters.
MAX_ALT_TEXT = 1024

#: Rows of buttons (each row at most five items) for a result of `count` images.
ResultRows = Sequence[Sequence[discord.ui.Item[Any]]]


class GridText:
    """What the text display of a grid says, gathered by the job path."""

    def __init__(
        self,
        *,
        title: str,
        prompt: str,
        model: str,
        shape: str | None,
        seed: int | None,
        cost: float | None,
        elapsed_s: float | None,
        count: int,
        requester: str,
        notes: Sequence[str] = (),
        extra_fields: Sequence[tuple[str, str]] = (),
        shown_by: str | None = None,
        seed_calls: int = 1,
        seeds: Sequence[int | None] = (),
    ) -> None:
        self.title = title
        self.prompt = prompt
        self.model = model
        self.shape = shape
        self.seed = seed
        self.cost = cost
        self.elapsed_s = elapsed_s
        self.count = count
        self.requester = requester
        self.notes = tuple(notes)
        self.extra_fields = tuple(extra_fields)
        #: Who posted it again (`/show`): the subtext says so instead of who asked (a field can say that).
        self.shown_by = shown_by
        #: The images came from this many calls, with seeds `seed`, `seed` + 1, ... (when `seeds` is not known).
        self.seed_calls = seed_calls
        #: The seed of each image, in order (None: none was sent); when given, it decides what the text says.
        self.seeds = tuple(seeds)


def grid_text(text: GridText) -> str:
    """The Markdown of the text display, within `MAX_TEXT_DISPLAY`; the prompt gets what is left."""
    first = [texts.GRID_DETAILS.format(model=escape_member_text(text.model, 200), count=text.count)]
    if text.elapsed_s is not None:
        first.append(texts.GRID_TIME.format(time=decimal(text.elapsed_s, 1)))
    details = [" · ".join(first)]
    facts = []
    if text.shape:
        facts.append(texts.GRID_SHAPE.format(shape=shorten(text.shape, 100)))
    seeds = _seeds_fact(text)
    if seeds:
        facts.append(seeds)
    facts.append(texts.GRID_COST.format(text.count, cost=format_cost(text.cost)))
    details.append(" · ".join(facts))
    details += [f"**{shorten(name, 100)}** {shorten(value, 1024)}" for name, value in text.extra_fields]
    if text.notes:
        details.append(texts.GRID_NOTES.format(notes=shorten(" ".join(text.notes), 1024)))
    if text.shown_by is not None:
        details.append(texts.GRID_SHOWN_BY.format(name=escape_member_text(text.shown_by, 100)))
    else:
        details.append(texts.GRID_REQUESTED_BY.format(name=escape_member_text(text.requester, 100)))
    body = "\n".join(details)
    room = MAX_TEXT_DISPLAY - len(body) - len(texts.GRID_HEADING.format(title=text.title, prompt="")) - 2
    heading = texts.GRID_HEADING.format(title=text.title, prompt=escape_member_text(text.prompt, max(room, 1)))
    return f"{heading}\n\n{body}"


def _seeds_fact(text: GridText) -> str | None:
    """The seeds of the grid's images: one, a run of one per call ("`77` to `80`"), or each image's in turn."""
    known = [seed for seed in text.seeds if seed is not None]
    if not known:
        if text.seeds or text.seed is None:
            return None
        if text.seed_calls > 1:
            return texts.GRID_SEEDS.format(first=text.seed, last=text.seed + text.seed_calls - 1)
        return texts.GRID_SEED.format(seed=text.seed)
    distinct = list(dict.fromkeys(known))
    if len(distinct) == 1:
        return texts.GRID_SEED.format(seed=distinct[0])
    if known == sorted(known) and distinct == list(range(distinct[0], distinct[-1] + 1)):
        return texts.GRID_SEEDS.format(first=distinct[0], last=distinct[-1])
    return texts.GRID_SEED_LIST.format(seeds=listing(f"`{seed}`" for seed in text.seeds))


def _alt_text(prompt: str, number: int) -> str:
    room = MAX_ALT_TEXT - len(texts.ALT_TEXT.format(number=number, prompt=""))
    return texts.ALT_TEXT.format(number=number, prompt=shorten(" ".join(prompt.split()), room))


def grid_layout(
    text: GridText, files: Sequence[discord.File], rows: ResultRows, *, spoiler: bool
) -> discord.ui.LayoutView:
    """The V2 result: a container with the gallery of `files` (at most 10) and the text, then the rows.

    `files` are the uploads of this very message (their names, `SPOILER_` prefix included, are what
    the gallery references); `spoiler` also blurs each gallery item.
    """
    gallery = discord.ui.MediaGallery[discord.ui.LayoutView]()
    for number, file in enumerate(files[:MAX_GALLERY_ITEMS], start=1):
        gallery.add_item(media=file.uri, description=_alt_text(text.prompt, number), spoiler=spoiler)
    view = discord.ui.LayoutView(timeout=None)
    container = discord.ui.Container[discord.ui.LayoutView](accent_colour=RESULT_COLOUR)
    container.add_item(gallery)
    container.add_item(discord.ui.TextDisplay[discord.ui.LayoutView](grid_text(text)))
    view.add_item(container)
    for row in rows:
        if row:
            view.add_item(discord.ui.ActionRow[discord.ui.LayoutView](*row))
    return view


def channel_fallback(
    text: GridText, files: Sequence[discord.File], rows: ResultRows, *, spoiler: bool
) -> tuple[list[discord.Embed], discord.ui.View]:
    """The same result without Components V2: an embed per image (the first with the text), classic rows.

    A spoilered result's embeds show no image (Discord cannot hide an embed's image): its files are
    then shown only as the spoilered attachments they are.
    """
    embeds = []
    for number, file in enumerate(files[:MAX_GALLERY_ITEMS], start=1):
        if number == 1:
            embed = discord.Embed(description=grid_text(text)[:4096], colour=RESULT_COLOUR)
        else:
            embed = discord.Embed(title=texts.CHANNEL_IMAGE_TITLE.format(number=number), colour=RESULT_COLOUR)
        if not spoiler:
            embed.set_image(url=file.uri)
        embeds.append(embed)
    view = discord.ui.View(timeout=None)
    for row_number, row in enumerate(rows[:5]):
        for item in row:
            item.row = row_number
            view.add_item(item)
    return embeds, view
