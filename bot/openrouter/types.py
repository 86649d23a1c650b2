"""Typed values the OpenRouter client takes and returns, so cogs never handle raw JSON."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AnalysisResult",
    "GeneratedImage",
    "ImageInput",
    "ImageResult",
    "KeyInfo",
    "ModelInfo",
    "ProviderFilter",
    "ProviderInfo",
]


@dataclass(frozen=True, slots=True)
class ProviderFilter:
    """Which providers OpenRouter may route to. "only" wins over "ignore" when both are set."""

    only: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def to_request(self) -> dict[str, list[str]] | None:
        """The request's `provider` object, or None when nothing is filtered."""
        if self.only:
            return {"only": list(self.only)}
        if self.ignore:
            return {"ignore": list(self.ignore)}
        return None

    def describe(self) -> str:
        """A short human summary for embeds and error messages."""
        if self.only:
            return "only " + ", ".join(self.only)
        if self.ignore:
            return "any except " + ", ".join(self.ignore)
        return "any provider"


@dataclass(frozen=True, slots=True)
class ImageInput:
    """An image sent upstream: the bytes and their real MIME type (or an https URL)."""

    data: bytes = b""
    mime: str = "image/png"
    url: str | None = None

    def as_url(self) -> str:
        """The `image_url.url` value: a data URL unless a remote URL was given."""
        if self.url:
            return self.url
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image returned by a model."""

    data: bytes
    mime: str

    @property
    def extension(self) -> str:
        """A file extension matching the MIME type."""
        return {"image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}.get(self.mime, "png")


@dataclass(frozen=True, slots=True)
class ImageResult:
    """What an image generation returned.

    `dropped` counts the images the answer held that are not in `images`: those past
    `MAX_IMAGES_PER_ANSWER`, and links the bot refused to fetch (private or otherwise not allowed addresses).
    """

    images: Sequence[GeneratedImage]
    text: str
    cost: float | None
    model: str
    generation_id: str | None
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """What a vision model said about images."""

    text: str
    cost: float | None
    model: str
    generation_id: str | None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of OpenRouter's model catalog."""

    id: str
    name: str
    input_modalities: frozenset[str] = frozenset()
    output_modalities: frozenset[str] = frozenset()
    pricing: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def makes_images(self) -> bool:
        """True when the model can output images."""
        return "image" in self.output_modalities

    @property
    def reads_images(self) -> bool:
        """True when the model accepts images as input."""
        return "image" in self.input_modalities

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ModelInfo:
        """Build from one `/models` entry, tolerating missing keys."""
        architecture = data.get("architecture") or {}
        pricing = data.get("pricing") or {}
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name") or data.get("id", "")),
            input_modalities=frozenset(architecture.get("input_modalities") or ()),
            output_modalities=frozenset(architecture.get("output_modalities") or ()),
            pricing={str(k): str(v) for k, v in pricing.items()} if isinstance(pricing, dict) else {},
            description=str(data.get("description") or ""),
        )


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """One provider OpenRouter can route to."""

    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What `GET /key` says about the API key (never the key itself)."""

    label: str
    limit: float | None
    limit_remaining: float | None
    usage: float | None
    is_free_tier: bool
