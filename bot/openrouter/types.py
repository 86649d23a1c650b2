"""Typed values the OpenRouter client takes and returns, so cogs never handle raw JSON."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

__all__ = [
    "AnalysisResult",
    "BooleanParam",
    "EnumParam",
    "GeneratedImage",
    "ImageEndpointInfo",
    "ImageInput",
    "ImageModelInfo",
    "ImagePricing",
    "ImageResult",
    "KeyInfo",
    "ModelInfo",
    "ParamDescriptor",
    "ProviderFilter",
    "ProviderInfo",
    "RangeParam",
    "parse_supported_parameters",
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

    def allows(self, *names: str | None) -> bool:
        """Whether a provider known by any of `names` (slug, display name, tag) may serve; "only" wins.

        Compared case-insensitively, as OpenRouter accepts slugs and display names alike.
        """
        known = {name.casefold() for name in names if name}
        if self.only:
            return bool(known & {name.casefold() for name in self.only})
        return not known & {name.casefold() for name in self.ignore}


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
    """One image returned by a model.

    `seed`: the seed sent with the call that made it (None: none was sent), and `cost`: its share of that
    call's cost (None: not reported), both set by the job path, which knows which call made which image;
    the client leaves them None.
    """

    data: bytes
    mime: str
    seed: int | None = None
    cost: float | None = None

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
    #: The request parameters the chat route honours for this model (`seed`, `max_tokens`, ...).
    supported_parameters: frozenset[str] = frozenset()

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
        parameters = data.get("supported_parameters")
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name") or data.get("id", "")),
            input_modalities=frozenset(architecture.get("input_modalities") or ()),
            output_modalities=frozenset(architecture.get("output_modalities") or ()),
            pricing={str(k): str(v) for k, v in pricing.items()} if isinstance(pricing, dict) else {},
            description=str(data.get("description") or ""),
            supported_parameters=frozenset(str(name) for name in parameters) if isinstance(parameters, list)
            else frozenset(),
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


# -- the Images API's discovery: typed parameter descriptors (`CapabilityDescriptor`) -------------------


@dataclass(frozen=True, slots=True)
class EnumParam:
    """A parameter that takes one of `values` (`{"type": "enum", "values": [...]}`)."""

    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RangeParam:
    """A parameter that takes a number in `[minimum, maximum]` (`{"type": "range", "min", "max"}`)."""

    minimum: float | None
    maximum: float | None


@dataclass(frozen=True, slots=True)
class BooleanParam:
    """A parameter that is accepted, with no constraint given (`{"type": "boolean"}`).

    Also what a descriptor of a type this client does not know becomes: present means accepted.
    """


ParamDescriptor: TypeAlias = EnumParam | RangeParam | BooleanParam
"""One entry of `supported_parameters`: an absent key means the parameter is not supported."""


def _descriptor(data: Any) -> ParamDescriptor:
    if not isinstance(data, dict):
        return BooleanParam()
    kind = data.get("type")
    if kind == "enum" and isinstance(data.get("values"), list):
        return EnumParam(tuple(str(value) for value in data["values"] if value is not None))
    if kind == "range":
        return RangeParam(_number(data.get("min")), _number(data.get("max")))
    return BooleanParam()


def parse_supported_parameters(data: Any) -> Mapping[str, ParamDescriptor]:
    """`SupportedParameters` (name -> descriptor) as a read-only mapping; anything else is empty."""
    if not isinstance(data, dict):
        return MappingProxyType({})
    return MappingProxyType({str(name): _descriptor(value) for name, value in data.items()})


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _modalities(architecture: Any, key: str) -> frozenset[str]:
    values = architecture.get(key) if isinstance(architecture, dict) else None
    return frozenset(str(value) for value in values) if isinstance(values, list) else frozenset()


def _max_references(parameters: Mapping[str, ParamDescriptor], data: dict[str, Any]) -> int | None:
    """How many `input_references` the model takes, when the listing says (not a field of the spec's)."""
    descriptor = parameters.get("input_references")
    if isinstance(descriptor, RangeParam) and descriptor.maximum is not None:
        return max(0, int(descriptor.maximum))
    for key in ("max_input_references", "max_references"):
        value = _number(data.get(key))
        if value is not None:
            return max(0, int(value))
    return None


@dataclass(frozen=True, slots=True)
class ImageModelInfo:
    """One model of `GET /images/models` (`ImageModelListItem`).

    `supported_parameters` is the union over the model's endpoints (the spec calls it a coarse discovery
    aid); `ImageEndpointInfo` has each endpoint's definitive set. `max_references` is None unless the
    listing gives it (a `range` descriptor for `input_references`, or a `max_input_references` key).
    """

    id: str
    name: str
    description: str = ""
    input_modalities: frozenset[str] = frozenset()
    output_modalities: frozenset[str] = frozenset({"image"})
    supported_parameters: Mapping[str, ParamDescriptor] = field(default_factory=lambda: MappingProxyType({}))
    supports_streaming: bool = False
    #: The relative URL of the per-endpoint records (`/api/v1/images/models/{author}/{slug}/endpoints`).
    endpoints_url: str = ""
    created: int | None = None
    max_references: int | None = None

    @property
    def reads_images(self) -> bool:
        """True when the model takes reference images (an edit)."""
        return "image" in self.input_modalities

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ImageModelInfo:
        """Build from one `/images/models` entry, tolerating missing keys."""
        architecture = data.get("architecture")
        parameters = parse_supported_parameters(data.get("supported_parameters"))
        created = _number(data.get("created"))
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name") or data.get("id", "")),
            description=str(data.get("description") or ""),
            input_modalities=_modalities(architecture, "input_modalities"),
            output_modalities=_modalities(architecture, "output_modalities") or frozenset({"image"}),
            supported_parameters=parameters,
            supports_streaming=data.get("supports_streaming") is True,
            endpoints_url=str(data.get("endpoints") or ""),
            created=int(created) if created is not None else None,
            max_references=_max_references(parameters, data),
        )

    def as_model_info(self) -> ModelInfo:
        """The model as a chat-catalog entry would describe it (no prices: those are per endpoint)."""
        return ModelInfo(
            id=self.id,
            name=self.name,
            input_modalities=self.input_modalities,
            output_modalities=self.output_modalities,
            description=self.description,
            supported_parameters=frozenset(self.supported_parameters),
        )


@dataclass(frozen=True, slots=True)
class ImagePricing:
    """One billable line of an endpoint (`ImagePricingEntry`): e.g. output_image, per image, $0.04."""

    billable: str
    unit: str
    cost_usd: float
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class ImageEndpointInfo:
    """One provider serving an image model (`ImageEndpoint`), with its definitive parameters."""

    provider_name: str
    provider_slug: str
    provider_tag: str | None = None
    supported_parameters: Mapping[str, ParamDescriptor] = field(default_factory=lambda: MappingProxyType({}))
    pricing: tuple[ImagePricing, ...] = ()
    supports_streaming: bool = False
    allowed_passthrough_parameters: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ImageEndpointInfo:
        """Build from one entry of `endpoints`, tolerating missing keys and skipping unreadable prices."""
        pricing: list[ImagePricing] = []
        for line in data.get("pricing") or ():
            cost = _number(line.get("cost_usd")) if isinstance(line, dict) else None
            if isinstance(line, dict) and cost is not None:
                variant = line.get("variant")
                pricing.append(ImagePricing(
                    billable=str(line.get("billable") or ""), unit=str(line.get("unit") or ""), cost_usd=cost,
                    variant=str(variant) if variant else None,
                ))
        passthrough = data.get("allowed_passthrough_parameters")
        tag = data.get("provider_tag")
        return cls(
            provider_name=str(data.get("provider_name") or data.get("provider_slug") or ""),
            provider_slug=str(data.get("provider_slug") or ""),
            provider_tag=str(tag) if tag else None,
            supported_parameters=parse_supported_parameters(data.get("supported_parameters")),
            pricing=tuple(pricing),
            supports_streaming=data.get("supports_streaming") is True,
            allowed_passthrough_parameters=tuple(str(name) for name in passthrough)
            if isinstance(passthrough, list) else (),
        )
