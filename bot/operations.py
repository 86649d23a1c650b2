"""The three things members can do, and the image formats they can ask for.

Kept apart from storage and cogs because both sides speak these names: the database stores the
operation's value, the command tree shows the format's label.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MAX_PROMPT_LENGTH", "ImageFormat", "Operation"]

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
        """The name members see."""
        return {"imagine": "Imagine", "edit": "Edit", "describe": "Describe"}[self.value]


class ImageFormat(StrEnum):
    """The shapes `/imagine` and `/edit` offer, each mapped to an OpenRouter aspect ratio."""

    SQUARE = "square"
    LANDSCAPE = "landscape"
    PORTRAIT = "portrait"

    @property
    def aspect_ratio(self) -> str:
        """The `image_config.aspect_ratio` value OpenRouter expects."""
        return {"square": "1:1", "landscape": "16:9", "portrait": "9:16"}[self.value]

    @property
    def label(self) -> str:
        """The name shown in choices and embeds."""
        return f"{self.value.capitalize()} ({self.aspect_ratio})"
