"""What a job asks of the upstream, as one typed value: `ImageRequest`.

The same request used to travel as loose keyword arguments through the cog, the job service, the
OpenRouter client, the job history's SQL and back out for a re-roll, each hop free to drop or rename
one. Now a command builds one frozen `ImageRequest`, the job service records it (`JobSpec.request`),
the client takes it, and a re-roll reads it back and changes only what must change (the server's
current model, say) with `dataclasses.replace`. Parameters a later route needs (resolution, quality,
count, seed) have their place here already, so adding them touches the request and its readers, not
every signature on the way.

`ReferenceSource` lives here too: where an input image came from is part of the request, and both the
storage and the client layers read it without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.openrouter.types import ProviderFilter

__all__ = ["ImageRequest", "ReferenceSource", "Route"]


class Route(StrEnum):
    """Which OpenRouter API serves a request."""

    CHAT = "chat"  # POST /chat/completions with modalities (the route every model here uses today)
    IMAGES = "images"  # POST /images, OpenRouter's Images API


@dataclass(frozen=True, slots=True)
class ReferenceSource:
    """Where one input image came from: enough to fetch it again once its URL has expired."""

    url: str | None = None
    filename: str | None = None
    channel_id: int | None = None
    message_id: int | None = None
    attachment_id: int | None = None
    #: The job whose result this image is (an Edit button on a result), if any.
    job_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form, without empty keys."""
        values = {
            "url": self.url,
            "filename": self.filename,
            "channel_id": self.channel_id,
            "message_id": self.message_id,
            "attachment_id": self.attachment_id,
            "job_id": self.job_id,
        }
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReferenceSource:
        """Read the stored form back, tolerating missing keys."""
        return cls(
            url=data.get("url"),
            filename=data.get("filename"),
            channel_id=_int(data.get("channel_id")),
            message_id=_int(data.get("message_id")),
            attachment_id=_int(data.get("attachment_id")),
            job_id=_int(data.get("job_id")),
        )


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One request about images: to make (imagine), change (edit) or read (describe) them.

    `image_format` is the shape the member chose by name (an `ImageFormat` value), kept beside the
    `aspect_ratio` it stands for so results and re-rolls can label it; an edit that keeps its image's
    shape has no format, only the ratio found. `references` say where the input images came from; the
    images themselves are loaded per job and handed to the client beside the request.
    """

    prompt: str
    model: str
    route: Route = Route.CHAT
    image_format: str | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    quality: str | None = None
    count: int = 1
    seed: int | None = None
    #: The member gave `seed` (a re-roll keeps it); False when the bot picked it (a re-roll picks another).
    seed_given: bool = False
    references: tuple[ReferenceSource, ...] = ()
    providers: ProviderFilter = field(default_factory=ProviderFilter)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None
