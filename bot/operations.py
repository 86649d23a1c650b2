"""The three things members can do, and the image formats they can ask for.

Kept apart from storage and cogs because both sides speak these names: the database stores the
operation's value, the command tree shows the format's label.
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import pgettext
from bot.messages.commands import operation_label

__all__ = ["MAX_PROMPT_LENGTH", "QUALITIES", "RESOLUTIONS", "ImageFormat", "Operation"]

#: The longest prompt or question any command accepts (and shows in full).
MAX_PROMPT_LENGTH = 4000


class Operation(StrEnum):
    """A capability a server configures on its own: model, providers, on/off."""

    IMAGINE = "imagine"
    EDIT = "edit"
    DESCRIBE = "describe"

    @property
    def needs_image_output(self) -> bool:
        """Imagine and edit need a model that outputs images; describe needs one that reads them."""
        return self is not Operation.DESCRIBE

    @property
    def label(self) -> str:
        """The name members see, in their language (`bot.messages.commands.operation_label`)."""
        return operation_label(self.value)


class ImageFormat(StrEnum):
    """The shapes `/imagine` and `/edit` offer, each mapped to an OpenRouter aspect ratio.

    The first three are the ones every image model makes; the others are for models that take more
    ratios (both OpenRouter routes accept them; a provider that cannot clamps to its nearest).
    """

    SQUARE = "square"
    LANDSCAPE = "landscape"
    PORTRAIT = "portrait"
    PHOTO_LANDSCAPE = "photo-landscape"
    PHOTO_PORTRAIT = "photo-portrait"
    CLASSIC_LANDSCAPE = "classic-landscape"
    CLASSIC_PORTRAIT = "classic-portrait"
    CINEMA = "cinema"

    @property
    def aspect_ratio(self) -> str:
        """The aspect ratio OpenRouter expects (`image_config.aspect_ratio`, or `aspect_ratio` on /images)."""
        return _RATIOS[self.value]

    @property
    def label(self) -> str:
        """The name of the choice as written (English): the command tree's choice name and its msgid."""
        name = self.value.replace("-", " ").capitalize()
        return f"{name} ({self.aspect_ratio})"

    @property
    def shown(self) -> str:
        """The label in the member's language, as their client shows the choice (the same catalog entry)."""
        return pgettext("choice_name", self.label)


_RATIOS = {
    "square": "1:1",
    "landscape": "16:9",
    "portrait": "9:16",
    "photo-landscape": "4:3",
    "photo-portrait": "3:4",
    "classic-landscape": "3:2",
    "classic-portrait": "2:3",
    "cinema": "21:9",
}

#: Resolution tiers members can ask for (OpenRouter's `resolution` / `image_config.image_size`).
RESOLUTIONS = ("1K", "2K", "4K")
#: Quality levels members can ask for (the Images API's `quality`).
QUALITIES = ("auto", "low", "medium", "high")
