"""A stand-in OpenRouter HTTP server for tests and benchmarks.

It speaks the subset of the OpenRouter API described in ``/work/shared/openrouter-api.md`` under
``/api/v1`` on ``127.0.0.1`` (random free port), records every request it receives and can be
scripted to fail (:meth:`FakeOpenRouter.fail_next`) or misbehave (:meth:`FakeOpenRouter.fault_next`).
A generation whose client closes the connection before the answer (a cancelled call) is counted in
:attr:`FakeOpenRouter.disconnects` and marked ``disconnected``; :meth:`FakeOpenRouter.wait_for_disconnects` waits.

Two routes make images:

* the chat route, ``POST /chat/completions`` with ``modalities`` (models of :attr:`FakeOpenRouter.models`,
  listed by ``GET /models?output_modalities=image``);
* the Images API, ``POST /images`` (buffered JSON or SSE with ``stream: true``), ``GET /images/models`` and
  ``GET /images/models/{author}/{slug}/endpoints``, serving :attr:`FakeOpenRouter.image_models`
  (:func:`default_image_models`). Shapes follow OpenRouter's OpenAPI spec (``ImageGenerationRequest``,
  ``ImageGenerationResponse``, ``ImageStreamingResponse``, ``ImageModelsListResponse``,
  ``ImageModelEndpointsResponse``); the enums needed are copied here (nothing reads ``../shared``).

Usage::

    async with FakeOpenRouter() as fake:
        client = MyClient(base_url=fake.base_url, api_key=fake.api_key)
        fake.fail_next(429)
        ...
        assert fake.chat_requests()[0].json["model"] == "google/gemini-2.5-flash-image"
        fake.image_endpoint("bytedance-seed/seedream-4.5").supports_streaming = True
        fake.fault_next("stream_error")  # the next POST /images streams an error event
        assert fake.image_requests()[0].prompt == "a red panda"
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import io
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web
from PIL import Image, UnidentifiedImageError

__all__ = [
    "API_PREFIX",
    "ASPECT_RATIO_SIZES",
    "BLOCK_REASON",
    "CHAT_FAULT_KINDS",
    "DEFAULT_API_KEY",
    "DEFAULT_IMAGE_TEXT",
    "DEFAULT_MODEL_PROVIDERS",
    "DEFAULT_TEXT_REPLY",
    "FAULT_KINDS",
    "IMAGE_ASPECT_RATIOS",
    "IMAGE_BACKGROUNDS",
    "IMAGE_FAULT_KINDS",
    "IMAGE_OUTPUT_FORMATS",
    "IMAGE_QUALITIES",
    "IMAGE_RESOLUTIONS",
    "KEEPALIVE",
    "MAX_IMAGES_PER_REQUEST",
    "MAX_INPUT_REFERENCES",
    "NO_IMAGE_TEXT",
    "RESOLUTION_SCALE",
    "FakeOpenRouter",
    "Headers",
    "ImageEndpoint",
    "ImageModel",
    "RecordedRequest",
    "boolean_capability",
    "default_image_models",
    "default_key_info",
    "default_models",
    "default_providers",
    "enum_capability",
    "range_capability",
    "render_image",
    "render_png",
]

API_PREFIX: Final = "/api/v1"
DEFAULT_API_KEY: Final = "sk-or-v1-test-secret-key"
DEFAULT_TEXT_REPLY: Final = "A test description of the image."
DEFAULT_IMAGE_TEXT: Final = "Here is your image."
NO_IMAGE_TEXT: Final = "I can only answer in text."
NO_ALLOWED_PROVIDERS: Final = "No allowed providers are available for the selected model."
DEFAULT_MODEL_PROVIDERS: Final[tuple[str, ...]] = ("google-vertex", "google-ai-studio")

#: Pixel sizes per ``image_config.aspect_ratio`` at ``image_size`` "1K" (Gemini's table).
ASPECT_RATIO_SIZES: Final[dict[str, tuple[int, int]]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
#: ``image_config.image_size`` -> multiplier applied to :data:`ASPECT_RATIO_SIZES`.
IMAGE_SIZE_SCALE: Final[dict[str, int]] = {"1K": 1, "2K": 2, "4K": 4}
HUGE_IMAGE_SIZE: Final = (6000, 6000)

#: Fault kinds both generation routes honour ("no_image": a chat answer without images, or ``data: []``).
_SHARED_FAULTS: Final = frozenset({"hang", "reset", "bad_json", "no_image", "not_an_image", "huge_image"})
#: Fault kinds of the chat route only (fault_next routes them to chat completions).
_CHAT_ONLY_FAULTS: Final = frozenset({"error_in_200", "broken_data_url", "https_image", "b64_json", "content_parts"})
#: Fault kinds of the Images API only (fault_next routes them to POST /images).
_IMAGE_ONLY_FAULTS: Final = frozenset(
    {"stream_cut", "stream_error", "fewer_images", "refusal", "broken_b64", "no_media_type", "no_usage"}
)
CHAT_FAULT_KINDS: Final[frozenset[str]] = _SHARED_FAULTS | _CHAT_ONLY_FAULTS
IMAGE_FAULT_KINDS: Final[frozenset[str]] = _SHARED_FAULTS | _IMAGE_ONLY_FAULTS
FAULT_KINDS: Final[frozenset[str]] = CHAT_FAULT_KINDS | IMAGE_FAULT_KINDS
_ROUTES: Final = ("chat", "images")

# ---- the Images API's enums, copied from OpenRouter's OpenAPI spec (ImageGenerationRequest) ----
IMAGE_ASPECT_RATIOS: Final[tuple[str, ...]] = (
    "1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "3:2", "3:4", "4:1", "4:3", "4:5", "5:4", "8:1", "9:16",
    "16:9", "9:19.5", "19.5:9", "9:20", "20:9", "9:21", "21:9", "auto",
)  # fmt: skip
IMAGE_RESOLUTIONS: Final[tuple[str, ...]] = ("512", "1K", "2K", "4K")
IMAGE_QUALITIES: Final[tuple[str, ...]] = ("auto", "low", "medium", "high")
IMAGE_OUTPUT_FORMATS: Final[tuple[str, ...]] = ("png", "jpeg", "webp", "svg")
IMAGE_BACKGROUNDS: Final[tuple[str, ...]] = ("auto", "transparent", "opaque")
_PROVIDER_SORTS: Final = ("price", "throughput", "latency", "exacto")
#: ``input_references`` has ``maxItems: 16``.
MAX_INPUT_REFERENCES: Final = 16
#: ``n`` is "an upper bound on the number of images to generate (1-10)".
MAX_IMAGES_PER_REQUEST: Final = 10
#: ``resolution`` tier -> multiplier applied to the 1K sizes of :data:`ASPECT_RATIO_SIZES`.
RESOLUTION_SCALE: Final[dict[str, float]] = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
#: The keep-alive comment OpenRouter sends on SSE streams.
KEEPALIVE: Final = ": OPENROUTER PROCESSING\n\n"
#: ``error.metadata.block_reason`` of the "refusal" fault (a content refusal: 400 on the Images API).
BLOCK_REASON: Final = "SAFETY"
_MEDIA_TYPES: Final[dict[str, tuple[str, str]]] = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
#: Output tokens of one image relative to "medium", for endpoints with a quality knob.
_QUALITY_TOKEN_FACTOR: Final[dict[str, float]] = {"low": 0.25, "medium": 1.0, "auto": 1.0, "high": 4.0}
_PIXEL_SIZE: Final = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")
_MAX_PIXEL_SIDE: Final = 8192

SUPPORTED_INPUT_MIME: Final[dict[str, str]] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}

_PALETTE: Final[tuple[tuple[int, int, int], ...]] = (
    (66, 133, 244),
    (219, 68, 55),
    (244, 180, 0),
    (15, 157, 88),
    (171, 71, 188),
    (0, 172, 193),
)
_NOT_AN_IMAGE: Final = b"This is definitely not an image, just some plain bytes.\n" * 8
_BAD_JSON_BODY: Final = '{"id": "gen-broken", "object": "chat.completion", "choices": [{"message": '
_BAD_IMAGES_JSON_BODY: Final = '{"created": 1748372400, "data": [{"b64_json": "iVBORw0KGgoAAAANSUhEUgAA'
_REASONS: Final[dict[int, str]] = {524: "A Timeout Occurred", 529: "Site Is Overloaded"}
_IMAGE_TOKENS: Final = 1290
_INPUT_IMAGE_TOKENS: Final = 258


# --------------------------------------------------------------------------------------------
# Recorded requests


class Headers(dict[str, str]):
    """A plain ``dict`` of request headers whose keys are lower-cased and looked up case-insensitively."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for key, value in items:
            low = key.lower()
            existing = dict.get(self, low)
            super().__setitem__(low, value if existing is None else f"{existing}, {value}")

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class RecordedRequest:
    """One request the fake received (recorded before auth or validation, so failures are included)."""

    method: str
    path: str  # without the /api/v1 prefix, e.g. "/chat/completions"
    query: dict[str, str]
    headers: dict[str, str]  # a Headers instance: case-insensitive lookups
    json: Any | None  # the parsed JSON body, None when absent or not JSON
    body: bytes = b""
    received_at: float = field(default_factory=time.monotonic)
    #: True when the client went away (closed the connection) before this generation was answered.
    disconnected: bool = False
    #: POST /images only: the USD billed (None: not charged, e.g. a 502, an error event or a cut stream).
    cost: float | None = None
    #: POST /images only: the provider_name of the endpoint that served (or would have served) it.
    served_by: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """Return a header value, looked up case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    @property
    def prompt(self) -> str:
        """The last user message of a chat request, or the ``prompt`` of an Images API request ("" if none)."""
        if isinstance(self.json, dict) and "messages" not in self.json and isinstance(self.json.get("prompt"), str):
            return str(self.json["prompt"])
        return _last_user_text(self.json)

    @property
    def input_image_urls(self) -> list[str]:
        """The image URLs (data: or http[s]:) in a chat request's messages or an Images API request's references."""
        return [url for url, _part in _iter_image_parts(self.json)] + _reference_urls(self.json)


# --------------------------------------------------------------------------------------------
# Default data


def _model(
    model_id: str,
    name: str,
    description: str,
    *,
    inputs: list[str],
    outputs: list[str],
    context_length: int,
    prompt: str,
    completion: str,
    image: str,
    supported_parameters: list[str],
    created: int,
) -> dict[str, Any]:
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "hugging_face_id": "",
        "name": name,
        "created": created,
        "description": description,
        "context_length": context_length,
        "architecture": {
            "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": image,
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {
            "context_length": context_length,
            "max_completion_tokens": 8192,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": supported_parameters,
        "default_parameters": {},
    }


def default_models() -> list[dict[str, Any]]:
    """Return a fresh copy of the default model list (includes the project's default models)."""
    text_params = ["max_tokens", "temperature", "top_p", "stop", "seed", "response_format"]
    return [
        _model(
            "google/gemini-2.5-flash-image",
            "Google: Gemini 2.5 Flash Image (Nano Banana)",
            "Gemini 2.5 Flash Image is a state-of-the-art image generation model with contextual "
            "understanding. It is capable of image generation, edits, and multi-turn conversations.",
            inputs=["image", "text"],
            outputs=["image", "text"],
            context_length=32768,
            prompt="0.0000003",
            completion="0.0000025",
            image="0.001238",
            supported_parameters=["max_tokens", "temperature", "top_p", "seed", "response_format"],
            created=1759870431,
        ),
        _model(
            "google/gemini-2.5-flash",
            "Google: Gemini 2.5 Flash",
            "Gemini 2.5 Flash is Google's state-of-the-art workhorse model, designed for advanced "
            "reasoning, coding, mathematics, and scientific tasks.",
            inputs=["text", "image"],
            outputs=["text"],
            context_length=1048576,
            prompt="0.0000003",
            completion="0.0000025",
            image="0.001238",
            supported_parameters=[*text_params, "tools", "tool_choice", "reasoning", "include_reasoning"],
            created=1750172488,
        ),
        _model(
            "black-forest-labs/flux.2-pro",
            "Black Forest Labs: FLUX.2 Pro",
            "FLUX.2 [pro] is a high-quality image generation and editing model from Black Forest Labs.",
            inputs=["text", "image"],
            outputs=["image"],
            context_length=46864,
            prompt="0",
            completion="0",
            image="0.03",
            supported_parameters=["seed"],
            created=1764000000,
        ),
        _model(
            "openai/gpt-5-image",
            "OpenAI: GPT-5 Image",
            "GPT-5 Image combines OpenAI's GPT-5 model with state-of-the-art image generation.",
            inputs=["text", "image"],
            outputs=["image", "text"],
            context_length=400000,
            prompt="0.00001",
            completion="0.00001",
            image="0.00001",
            supported_parameters=[*text_params, "reasoning", "include_reasoning"],
            created=1760447986,
        ),
        _model(
            "openai/gpt-4o-mini",
            "OpenAI: GPT-4o-mini",
            "GPT-4o mini is OpenAI's affordable small model, supporting both text and image inputs.",
            inputs=["text", "image"],
            outputs=["text"],
            context_length=128000,
            prompt="0.00000015",
            completion="0.0000006",
            image="0.000217",
            supported_parameters=[*text_params, "tools", "tool_choice"],
            created=1721260800,
        ),
        _model(
            "meta-llama/llama-3.1-8b-instruct",
            "Meta: Llama 3.1 8B Instruct",
            "Meta's 8B instruct-tuned Llama 3.1, fast and efficient.",
            inputs=["text"],
            outputs=["text"],
            context_length=131072,
            prompt="0.00000002",
            completion="0.00000003",
            image="0",
            supported_parameters=text_params,
            created=1721692800,
        ),
        _model(
            "sourceful/riverflow-v2",
            "Sourceful: Riverflow V2",
            "Riverflow V2 is an image generation and editing model tuned for product and design work.",
            inputs=["text", "image"],
            outputs=["image"],
            context_length=8192,
            prompt="0",
            completion="0",
            image="0.035",
            supported_parameters=["seed"],
            created=1765000000,
        ),
    ]


def default_providers() -> list[dict[str, Any]]:
    """Return a fresh copy of the default provider list."""

    def provider(name: str, slug: str, site: str) -> dict[str, Any]:
        return {
            "name": name,
            "slug": slug,
            "privacy_policy_url": f"https://{site}/privacy",
            "terms_of_service_url": f"https://{site}/terms",
            "status_page_url": f"https://status.{site}",
        }

    return [
        provider("Google Vertex", "google-vertex", "cloud.google.com"),
        provider("Google AI Studio", "google-ai-studio", "ai.google.dev"),
        provider("OpenAI", "openai", "openai.com"),
        provider("Black Forest Labs", "black-forest-labs", "bfl.ai"),
        provider("Together", "together", "together.ai"),
        provider("DeepInfra", "deepinfra", "deepinfra.com"),
    ]


def default_key_info() -> dict[str, Any]:
    """Return a fresh copy of the default ``GET /key`` data."""
    return {
        "label": "sk-or-v1-tes...key",
        "limit": 25.0,
        "limit_remaining": 20.5,
        "usage": 4.5,
        "is_free_tier": False,
    }


# --------------------------------------------------------------------------------------------
# The Images API's model table


def enum_capability(*values: str) -> dict[str, Any]:
    """A ``CapabilityDescriptor`` of type enum: the parameter takes one of ``values``."""
    return {"type": "enum", "values": list(values)}


def range_capability(minimum: float, maximum: float) -> dict[str, Any]:
    """A ``CapabilityDescriptor`` of type range: any number from ``minimum`` to ``maximum`` (inclusive)."""
    return {"type": "range", "min": minimum, "max": maximum}


def boolean_capability() -> dict[str, Any]:
    """A ``CapabilityDescriptor`` of type boolean: present means the parameter is accepted."""
    return {"type": "boolean"}


@dataclass
class ImageEndpoint:
    """One provider serving an image model: the spec's ``ImageEndpoint`` plus how the fake makes it behave.

    ``supported_parameters`` is served as is and also drives the answers: a parameter whose key is absent
    is silently ignored (as OpenRouter does, e.g. ``seed`` on gpt-image-2); an enum value the endpoint does
    not list is clamped (``aspect_ratio`` to the nearest ratio, ``resolution`` to the nearest tier) or
    dropped to the default (``quality``, ``output_format``, ``background``); ``n`` is clamped to its range
    (an absent ``n`` means one image). The fake describes the most reference images an endpoint accepts as
    ``"input_references": range_capability(0, k)`` (the spec's SupportedParameters is open-ended): more
    than ``k`` get a 400; an endpoint without the key ignores references.
    """

    provider_name: str
    provider_slug: str
    supported_parameters: dict[str, dict[str, Any]]
    #: ImagePricingEntry lines: ``{"billable", "unit": image|megapixel|token, "cost_usd"}``.
    pricing: list[dict[str, Any]]
    #: Whether ``stream: true`` gets SSE; other endpoints ignore the flag and answer buffered (the spec says so).
    supports_streaming: bool = False
    provider_tag: str | None = None  # served as provider_slug when None
    allowed_passthrough_parameters: list[str] = field(default_factory=list)
    # ---- behaviour only (not served) ----
    #: Return at most this many images whatever ``n`` and its descriptor say (krea/krea-1: 1).
    max_images: int | None = None
    #: Answer ``n > 1`` with 400, as providers that make a single image do (qwen/qwen-image-3).
    rejects_multiple: bool = False
    #: Output tokens of one 1K image (at medium quality): ``usage.completion_tokens``; token prices bill them.
    output_tokens: int = 1290

    @property
    def max_input_references(self) -> int:
        """How many ``input_references`` this endpoint takes (0: it ignores them)."""
        descriptor = self.supported_parameters.get("input_references")
        if isinstance(descriptor, dict) and descriptor.get("type") == "range":
            return int(descriptor.get("max", 0))
        return MAX_INPUT_REFERENCES if descriptor is not None else 0

    def to_json(self) -> dict[str, Any]:
        """The ``ImageEndpoint`` record served by ``GET /images/models/{author}/{slug}/endpoints``."""
        return {
            "provider_name": self.provider_name,
            "provider_slug": self.provider_slug,
            "provider_tag": self.provider_tag if self.provider_tag is not None else self.provider_slug,
            "supported_parameters": copy.deepcopy(self.supported_parameters),
            "allowed_passthrough_parameters": list(self.allowed_passthrough_parameters),
            "supports_streaming": self.supports_streaming,
            "pricing": copy.deepcopy(self.pricing),
        }


@dataclass
class ImageModel:
    """One model of the Images API (``ImageModelListItem``), with the endpoints serving it."""

    id: str
    name: str
    description: str
    created: int
    endpoints: list[ImageEndpoint]
    input_modalities: list[str] = field(default_factory=lambda: ["text", "image"])
    output_modalities: list[str] = field(default_factory=lambda: ["image"])

    @property
    def supported_parameters(self) -> dict[str, dict[str, Any]]:
        """The union over the endpoints (enum values merged, ranges widened), as the listing gives it."""
        merged: dict[str, dict[str, Any]] = {}
        for endpoint in self.endpoints:
            for name, descriptor in endpoint.supported_parameters.items():
                merged[name] = _merge_capability(merged.get(name), descriptor)
        return merged

    @property
    def supports_streaming(self) -> bool:
        """True when any endpoint streams (the spec: "OR across endpoints")."""
        return any(endpoint.supports_streaming for endpoint in self.endpoints)

    @property
    def endpoints_url(self) -> str:
        """The relative URL of the per-endpoint records."""
        return f"{API_PREFIX}/images/models/{self.id}/endpoints"

    def to_list_item(self) -> dict[str, Any]:
        """The ``ImageModelListItem`` served by ``GET /images/models``."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created": self.created,
            "architecture": {
                "input_modalities": list(self.input_modalities),
                "output_modalities": list(self.output_modalities),
            },
            "supported_parameters": self.supported_parameters,
            "supports_streaming": self.supports_streaming,
            "endpoints": self.endpoints_url,
        }

    def to_endpoints_response(self) -> dict[str, Any]:
        """The ``ImageModelEndpointsResponse`` (top-level ``id`` and ``endpoints``: no ``data`` wrapper)."""
        return {"id": self.id, "endpoints": [endpoint.to_json() for endpoint in self.endpoints]}


def _merge_capability(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if old is None:
        return copy.deepcopy(new)
    if old.get("type") == new.get("type") == "enum":
        values = list(old.get("values", []))
        values += [v for v in new.get("values", []) if v not in values]
        return {"type": "enum", "values": values}
    if old.get("type") == new.get("type") == "range":
        return {"type": "range", "min": min(old["min"], new["min"]), "max": max(old["max"], new["max"])}
    return old


_COMMON_RATIOS: Final = ("1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9")
_GEMINI_RATIOS: Final = tuple(ASPECT_RATIO_SIZES)


def _per_image(cost: float) -> list[dict[str, Any]]:
    return [{"billable": "output_image", "unit": "image", "cost_usd": cost}]


def _gemini_endpoint(name: str, slug: str) -> ImageEndpoint:
    return ImageEndpoint(
        name,
        slug,
        {
            "aspect_ratio": enum_capability(*_GEMINI_RATIOS),
            "resolution": enum_capability("1K"),
            "seed": boolean_capability(),
            "output_format": enum_capability("png"),
            "input_references": range_capability(0, 14),
        },
        [
            {"billable": "input_text", "unit": "token", "cost_usd": 0.0000003},
            {"billable": "input_image", "unit": "token", "cost_usd": 0.0000003},
            {"billable": "output_image", "unit": "token", "cost_usd": 0.00003},
        ],
        output_tokens=1290,
    )


def default_image_models() -> list[ImageModel]:
    """Return a fresh copy of the Images API's default model table (``GET /images/models``).

    Only google/gemini-2.5-flash-image and black-forest-labs/flux.2-pro are also in :func:`default_models`
    (the chat catalog); the others are served by the Images API only.
    """
    return [
        ImageModel(
            "openai/gpt-image-2",
            "OpenAI: GPT Image 2",
            "OpenAI's image model: strong prompt following and text rendering, streams partial images.",
            1777000000,
            [
                ImageEndpoint(
                    "OpenAI",
                    "openai",
                    {
                        "aspect_ratio": enum_capability(*_COMMON_RATIOS, "auto"),
                        "resolution": enum_capability("1K", "2K"),
                        "quality": enum_capability(*IMAGE_QUALITIES),
                        "n": range_capability(1, 4),
                        "output_format": enum_capability("png", "jpeg", "webp"),
                        "output_compression": range_capability(0, 100),
                        "background": enum_capability(*IMAGE_BACKGROUNDS),
                        "input_references": range_capability(0, 16),
                    },  # no "seed": OpenAI's image models take none, OpenRouter drops it
                    [
                        {"billable": "input_text", "unit": "token", "cost_usd": 0.000005},
                        {"billable": "input_image", "unit": "token", "cost_usd": 0.00001},
                        {"billable": "output_image", "unit": "token", "cost_usd": 0.00003},
                    ],
                    supports_streaming=True,
                    output_tokens=1056,  # high quality: 4x, so 16:9 high costs about $0.13
                )
            ],
        ),
        ImageModel(
            "bytedance-seed/seedream-4.5",
            "ByteDance Seed: Seedream 4.5",
            "Seedream 4.5: text-to-image and editing up to 4K, several images per request.",
            1764800000,
            [
                ImageEndpoint(
                    "Bytedance",
                    "bytedance",
                    {
                        "aspect_ratio": enum_capability(*_GEMINI_RATIOS),
                        "resolution": enum_capability("1K", "2K", "4K"),
                        "seed": boolean_capability(),
                        "n": range_capability(1, 4),
                        "output_format": enum_capability("png", "jpeg"),
                        "input_references": range_capability(0, 10),
                    },
                    _per_image(0.04),
                    output_tokens=4175,
                )
            ],
        ),
        ImageModel(
            "qwen/qwen-image-3",
            "Qwen: Qwen Image 3",
            "Qwen's image model with precise text rendering; one image per request.",
            1772000000,
            [
                ImageEndpoint(
                    "Alibaba",
                    "alibaba",
                    {
                        "aspect_ratio": enum_capability(*_COMMON_RATIOS),
                        "resolution": enum_capability("1K", "2K"),
                        "seed": boolean_capability(),
                        "input_references": range_capability(0, 4),
                    },  # no "n", and the provider rejects n > 1 instead of ignoring it
                    _per_image(0.02),
                    rejects_multiple=True,
                )
            ],
        ),
        ImageModel(
            "krea/krea-1",
            "Krea: Krea 1",
            "Krea 1: photorealistic text-to-image. Lists n up to 4 but makes one image.",
            1768000000,
            [
                ImageEndpoint(
                    "Krea",
                    "krea",
                    {
                        "aspect_ratio": enum_capability(*_COMMON_RATIOS),
                        "resolution": enum_capability("1K", "2K"),
                        "seed": boolean_capability(),
                        "n": range_capability(1, 4),
                        "output_format": enum_capability("png", "jpeg"),
                    },
                    _per_image(0.03),
                    max_images=1,
                )
            ],
            input_modalities=["text"],
        ),
        ImageModel(
            "black-forest-labs/flux.2-pro",
            "Black Forest Labs: FLUX.2 Pro",
            "FLUX.2 [pro] is a high-quality image generation and editing model from Black Forest Labs.",
            1764000000,
            [
                ImageEndpoint(
                    "Black Forest Labs",
                    "black-forest-labs",
                    {
                        "aspect_ratio": enum_capability(*_GEMINI_RATIOS),
                        "resolution": enum_capability("1K", "2K"),
                        "seed": boolean_capability(),
                        "output_format": enum_capability("png", "jpeg"),
                        "input_references": range_capability(0, 8),
                    },
                    [
                        {"billable": "output_image", "unit": "megapixel", "cost_usd": 0.03},
                        {"billable": "input_reference", "unit": "megapixel", "cost_usd": 0.015},
                    ],
                    allowed_passthrough_parameters=["guidance", "steps"],
                )
            ],
        ),
        ImageModel(
            "google/gemini-2.5-flash-image",
            "Google: Gemini 2.5 Flash Image (Nano Banana)",
            "Gemini 2.5 Flash Image is a state-of-the-art image generation model with contextual "
            "understanding. It is capable of image generation, edits, and multi-turn conversations.",
            1759870431,
            [
                _gemini_endpoint("Google Vertex", "google-vertex"),
                _gemini_endpoint("Google AI Studio", "google-ai-studio"),
            ],
        ),
    ]


def _generic_image_model(model_id: str) -> ImageModel:
    """Serves any model id when :attr:`FakeOpenRouter.image_models` is empty (like an empty chat catalog)."""
    endpoint = ImageEndpoint(
        "Fake Images",
        "fake-images",
        {
            "aspect_ratio": enum_capability(*ASPECT_RATIO_SIZES, "auto"),
            "resolution": enum_capability(*IMAGE_RESOLUTIONS),
            "quality": enum_capability(*IMAGE_QUALITIES),
            "seed": boolean_capability(),
            "n": range_capability(1, MAX_IMAGES_PER_REQUEST),
            "output_format": enum_capability("png", "jpeg", "webp"),
            "background": enum_capability(*IMAGE_BACKGROUNDS),
            "input_references": range_capability(0, MAX_INPUT_REFERENCES),
        },
        _per_image(0.04),
    )
    return ImageModel(model_id, model_id, "", 0, [endpoint])


# --------------------------------------------------------------------------------------------
# Helpers


@lru_cache(maxsize=64)
def render_png(width: int, height: int, color: tuple[int, int, int] = _PALETTE[0]) -> bytes:
    """Encode a solid-color RGB PNG (cached; call it off the event loop, big sizes take a while)."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


@lru_cache(maxsize=64)
def render_image(
    width: int, height: int, color: tuple[int, int, int] = _PALETTE[0], fmt: str = "PNG", transparent: bool = False
) -> bytes:
    """Encode a solid-color image as ``fmt`` (PNG, JPEG, WEBP); ``transparent`` gives an RGBA PNG/WEBP, alpha 0.

    Cached; call it off the event loop, big sizes take a while.
    """
    if fmt == "PNG" and not transparent:
        return render_png(width, height, color)
    buf = io.BytesIO()
    if transparent:
        Image.new("RGBA", (width, height), (*color, 0)).save(buf, fmt)
    else:
        Image.new("RGB", (width, height), color).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _reference_urls(payload: Any) -> list[str]:
    """The URLs of an Images API request's ``input_references`` (malformed entries skipped)."""
    refs = payload.get("input_references") if isinstance(payload, dict) else None
    if not isinstance(refs, list):
        return []
    urls: list[str] = []
    for ref in refs:
        image_url = ref.get("image_url") if isinstance(ref, dict) else None
        url = image_url.get("url") if isinstance(image_url, dict) else None
        if isinstance(url, str):
            urls.append(url)
    return urls


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_string_list(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"provider.{name} must be an array of provider slugs"
    return None


def _check_provider_preferences(provider: Any) -> str | None:
    """Check ``provider`` against ImageGenerationProviderPreferences (extra keys allowed, as the schema does)."""
    if not isinstance(provider, dict):
        return "provider must be an object"
    for name in ("only", "ignore", "order"):
        problem = _check_string_list(provider.get(name), name)
        if problem is not None:
            return problem
    if provider.get("allow_fallbacks") is not None and not isinstance(provider["allow_fallbacks"], bool):
        return "provider.allow_fallbacks must be a boolean"
    sort = provider.get("sort")
    if sort is not None and not isinstance(sort, dict) and sort not in _PROVIDER_SORTS:
        return f"Invalid provider.sort {sort!r}; expected one of: {', '.join(_PROVIDER_SORTS)}"
    if "options" in provider and not isinstance(provider["options"], dict):
        return "provider.options must be an object keyed by provider slug"
    return None


def _check_reference(index: int, ref: Any) -> str | None:
    """Check one ``input_references`` item against ContentPartImage (and its URL's kind)."""
    where = f"input_references[{index}]"
    if not isinstance(ref, dict):
        return f"{where} must be an object"
    if ref.get("type") != "image_url":
        return f"{where}.type must be 'image_url'"
    image_url = ref.get("image_url")
    if not isinstance(image_url, dict) or not isinstance(image_url.get("url"), str):
        return f"{where}.image_url.url is required and must be a string"
    url = image_url["url"]
    if not url.startswith(("data:", "http://", "https://")):
        return f"{where}.image_url.url must be a base64 data URL or an HTTP(S) URL"
    return None


def _validate_image_request(payload: Any) -> str | None:
    """Check a ``POST /images`` body against ImageGenerationRequest; return what is wrong, or None.

    The schema declares no ``additionalProperties``, so (JSON Schema's default) unknown top-level keys are
    allowed: they are accepted and ignored, as OpenRouter ignores parameters it does not use.
    """
    if not isinstance(payload, dict):
        return "Invalid JSON body: expected an object"
    for key in ("model", "prompt"):
        if key not in payload:
            return f"Missing required parameter: {key}"
    if not isinstance(payload["model"], str) or not payload["model"].strip():
        return "model must be a non-empty string"
    if not isinstance(payload["prompt"], str) or not payload["prompt"]:
        return "prompt must be a string of at least 1 character"
    enums = (
        ("aspect_ratio", IMAGE_ASPECT_RATIOS),
        ("background", IMAGE_BACKGROUNDS),
        ("output_format", IMAGE_OUTPUT_FORMATS),
        ("quality", IMAGE_QUALITIES),
        ("resolution", IMAGE_RESOLUTIONS),
    )
    for key, values in enums:
        if key in payload and payload[key] not in values:
            return f"Invalid {key} {payload[key]!r}; expected one of: {', '.join(values)}"
    if "n" in payload and not (_is_int(payload["n"]) and 1 <= payload["n"] <= MAX_IMAGES_PER_REQUEST):
        return f"n must be an integer from 1 to {MAX_IMAGES_PER_REQUEST}, got {payload['n']!r}"
    if "seed" in payload and not _is_int(payload["seed"]):
        return f"seed must be an integer, got {payload['seed']!r}"
    compression: Any = payload.get("output_compression")
    if "output_compression" in payload and not (_is_int(compression) and 0 <= compression <= 100):
        return f"output_compression must be an integer from 0 to 100, got {compression!r}"
    if "stream" in payload and not isinstance(payload["stream"], bool):
        return "stream must be a boolean"
    if "size" in payload:
        size = payload["size"]
        if not isinstance(size, str) or (size not in IMAGE_RESOLUTIONS and not _PIXEL_SIZE.match(size)):
            return f"Invalid size {size!r}: give a tier ({', '.join(IMAGE_RESOLUTIONS)}) or WIDTHxHEIGHT"
        problem = _check_size(size, payload.get("aspect_ratio"), payload.get("resolution"))
        if problem is not None:
            return problem
    if "input_references" in payload:
        refs = payload["input_references"]
        if not isinstance(refs, list):
            return "input_references must be an array"
        if len(refs) > MAX_INPUT_REFERENCES:
            return f"input_references accepts at most {MAX_INPUT_REFERENCES} items, got {len(refs)}"
        for index, ref in enumerate(refs):
            problem = _check_reference(index, ref)
            if problem is not None:
                return problem
    if "provider" in payload:
        return _check_provider_preferences(payload["provider"])
    return None


def _check_size(size: str, ratio: str | None, resolution: str | None) -> str | None:
    """An explicit pixel size is authoritative: a mismatched ``aspect_ratio`` or ``resolution`` is a 400.

    A tier size "is equivalent to setting resolution"; the fake also rejects a different ``resolution`` beside it.
    """
    pixels = _PIXEL_SIZE.match(size)
    if pixels is None:
        if resolution is not None and resolution != size:
            return f"size {size!r} conflicts with resolution {resolution!r}"
        return None
    width, height = int(pixels[1]), int(pixels[2])
    if max(width, height) > _MAX_PIXEL_SIDE or width * height > 36_000_000 or min(width, height) < 16:
        return f"size {size!r} is out of range (16 to {_MAX_PIXEL_SIDE} pixels a side, at most 36 megapixels)"
    if ratio is not None and ratio != "auto" and abs(width / height / _ratio_value(ratio) - 1) > 0.02:
        return f"size {size!r} does not match aspect_ratio {ratio!r}"
    if resolution is not None and resolution != _pixel_tier(width, height):
        return f"size {size!r} does not match resolution {resolution!r}"
    return None


def _ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return float(width) / float(height)


def _ratio_size(ratio: str) -> tuple[int, int]:
    """Pixels of ``ratio`` at 1K: Gemini's table where it has the ratio, else about one megapixel."""
    if ratio in ASPECT_RATIO_SIZES:
        return ASPECT_RATIO_SIZES[ratio]
    value = _ratio_value(ratio)
    width = round(math.sqrt(1024 * 1024 * value) / 16) * 16
    height = round(math.sqrt(1024 * 1024 / value) / 16) * 16
    return max(16, width), max(16, height)


def _nearest_ratio(requested: str, supported: list[str]) -> str:
    """``requested`` when listed, else the listed ratio closest to it ("auto" means 1:1)."""
    ratios = [r for r in supported if r != "auto"]
    if requested in supported or not ratios:
        return requested
    wanted = math.log(_ratio_value("1:1" if requested == "auto" else requested))
    return min(ratios, key=lambda r: abs(math.log(_ratio_value(r)) - wanted))


def _nearest_resolution(requested: str, supported: list[str]) -> str:
    tiers = [t for t in supported if t in RESOLUTION_SCALE]
    if requested in tiers or not tiers:
        return requested
    wanted = RESOLUTION_SCALE[requested]
    return min(tiers, key=lambda t: (abs(math.log(RESOLUTION_SCALE[t] / wanted)), RESOLUTION_SCALE[t]))


def _pixel_tier(width: int, height: int) -> str:
    longest = max(width, height)
    return "512" if longest <= 768 else "1K" if longest <= 1536 else "2K" if longest <= 3072 else "4K"


def _image_prices(
    pricing: list[dict[str, Any]], size: tuple[int, int], image_tokens: int, text_tokens: int, refs: int
) -> tuple[float, float]:
    """(input cost, cost per output image) from ImagePricingEntry lines (unit image, megapixel or token)."""
    megapixels = size[0] * size[1] / 1_000_000
    input_cost = image_cost = 0.0
    for line in pricing:
        billable, unit, price = line.get("billable"), str(line.get("unit")), float(line.get("cost_usd", 0.0))
        if billable == "output_image":
            image_cost += price * {"image": 1.0, "megapixel": megapixels, "token": float(image_tokens)}.get(unit, 0.0)
        elif billable in ("input_image", "input_reference"):
            per_reference = {"image": 1.0, "megapixel": 1.0, "token": float(_INPUT_IMAGE_TOKENS)}.get(unit, 0.0)
            input_cost += price * refs * per_reference
        elif billable == "input_text" and unit == "token":
            input_cost += price * text_tokens
    return input_cost, image_cost


def _enum_values(descriptor: Any) -> list[str] | None:
    """The values of an enum descriptor, [] for another present descriptor, None when absent."""
    if descriptor is None:
        return None
    if isinstance(descriptor, dict) and descriptor.get("type") == "enum":
        return [str(v) for v in descriptor.get("values", [])]
    return []


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _iter_messages(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        return []
    messages = payload.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(t for t in texts if isinstance(t, str))
    return ""


def _last_user_text(payload: Any) -> str:
    for message in reversed(_iter_messages(payload)):
        if message.get("role") == "user":
            return _message_text(message)
    return ""


def _iter_image_parts(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for message in _iter_messages(payload):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if isinstance(url, str):
                found.append((url, part))
    return found


def _check_input_image(url: str) -> tuple[str, str] | None:
    """Validate one input image URL; return (error_type, message) when it is bad."""
    if not url.startswith("data:"):
        if url.startswith(("http://", "https://")):
            return None
        return "invalid_image", "Image URL must be an http(s) URL or a base64 data URL"
    header, sep, encoded = url.partition(",")
    if not sep or not header.endswith(";base64"):
        return "invalid_image", "Image data URL must be base64 encoded"
    mime = header[len("data:") : -len(";base64")].lower()
    expected = SUPPORTED_INPUT_MIME.get(mime)
    if expected is None:
        return "unsupported_image_format", f"Unsupported image format: {mime or 'unknown'}"
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "invalid_image", "Image data is not valid base64"
    try:
        with Image.open(io.BytesIO(raw)) as img:
            actual = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return "invalid_image", "Image data could not be decoded"
    if actual != expected:
        return "invalid_image", f"Image declared as {mime} but its data is {actual}"
    return None


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error_body(status: int, message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return {"error": error}


def _error_response(
    status: int,
    message: str,
    metadata: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(
        _error_body(status, message, metadata),
        status=status,
        reason=_REASONS.get(status),
        headers=headers,
    )


@dataclass
class _Failure:
    status: int
    message: str | None
    metadata: dict[str, Any] | None
    headers: dict[str, str] | None
    route: str | None = None  # "chat", "images" or None (the next generation request of either route)


@dataclass
class _Fault:
    kind: str
    route: str | None = None


@dataclass
class _ImagePlan:
    """What one POST /images will answer, worked out from the request and the serving endpoint."""

    provider: str
    count: int  # images in the answer
    size: tuple[int, int]
    fmt: str  # PIL format name
    media_type: str
    transparent: bool
    first_color: int  # index into _PALETTE of the first image
    stream: bool  # SSE (requested and the endpoint streams)
    completion_tokens: int  # per image
    prompt_tokens: int
    input_cost: float
    image_cost: float  # per image


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RECORDED: Final = web.RequestKey("recorded", RecordedRequest)


# --------------------------------------------------------------------------------------------
# The server


class FakeOpenRouter:
    """An in-process OpenRouter look-alike; see the module docstring."""

    def __init__(self, *, api_key: str = DEFAULT_API_KEY, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key: str = api_key
        self.host: str = host
        self.port: int = port
        self.base_url: str = ""  # set by start()
        self.root_url: str = ""  # "http://127.0.0.1:<port>", set by start()
        self.requests: list[RecordedRequest] = []
        self.models: list[dict[str, Any]] = default_models()
        self.providers: list[dict[str, Any]] = default_providers()
        self.key_info: dict[str, Any] = default_key_info()
        #: model id -> provider slugs serving it; models not listed use DEFAULT_MODEL_PROVIDERS.
        self.model_providers: dict[str, list[str]] = {}
        self.cost: float = 0.0039
        #: Seconds every generation (chat completion or POST /images) waits before it is answered.
        self.latency_s: float = 0.0
        #: When set to an unset Event, generations (chat completions and POST /images) wait for it: tests hold
        #: jobs in flight deterministically.
        self.hold: asyncio.Event | None = None
        #: The Images API's catalog (GET /images/models); empty: any model id is served by a generic endpoint.
        self.image_models: list[ImageModel] = default_image_models()
        #: When set, the usage.cost of every successful POST /images (else computed from the endpoint's pricing).
        self.image_cost: float | None = None
        #: Partial images streamed before each completed image (``image_generation.partial_image`` events).
        self.partial_images: int = 2
        #: Seconds between the events of an Images API stream.
        self.stream_interval_s: float = 0.0
        self.image_count: int = 1
        #: Bytes appended to every rendered image (after PNG's IEND), to make results large without rendering cost.
        self.image_padding: int = 0
        #: When set, image answers list exactly these URLs (data: URLs or links) instead of rendered images.
        self.image_urls: list[str] | None = None
        self.text_reply: str | None = None  # None -> DEFAULT_TEXT_REPLY
        self.image_text: str = DEFAULT_IMAGE_TEXT  # message.content of image answers
        #: Reject badly labelled / undecodable data: URLs in input messages with 400 (like the real API).
        self.validate_input_images: bool = True
        #: Bodies larger than this get 413.
        self.max_request_bytes: int = 32 * 1024 * 1024
        #: name -> (bytes, content type), served without auth at GET /files/<name>.
        self.files: dict[str, tuple[bytes, str]] = {}
        #: response id -> record served by GET /generation?id=...
        self.generations: dict[str, dict[str, Any]] = {}
        self._script: deque[_Failure | _Fault] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._cond: asyncio.Condition | None = None
        self._stopping: asyncio.Event | None = None
        #: Generations whose client closed the connection before the answer ended (a cancelled call).
        self.disconnects: int = 0
        self._seeds = itertools.count(1)  # varies the images of requests without an honoured seed
        self._disconnected: asyncio.Event | None = None
        #: POST /images being answered right now, and the most there ever were at once (tests of parallel calls).
        self.images_in_flight: int = 0
        self.peak_images_in_flight: int = 0

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; sets :attr:`base_url`."""
        if self._runner is not None:
            raise RuntimeError("FakeOpenRouter already started")
        self._cond = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._disconnected = asyncio.Event()
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        app.router.add_post(f"{API_PREFIX}/chat/completions", self._chat_completions)
        app.router.add_get(f"{API_PREFIX}/models", self._list_models)
        app.router.add_get(f"{API_PREFIX}/models/{{author}}/{{slug}}/endpoints", self._model_endpoints)
        app.router.add_get(f"{API_PREFIX}/providers", self._list_providers)
        app.router.add_get(f"{API_PREFIX}/key", self._key)
        app.router.add_get(f"{API_PREFIX}/credits", self._credits)
        app.router.add_get(f"{API_PREFIX}/generation", self._generation)
        app.router.add_post(f"{API_PREFIX}/images", self._images)
        app.router.add_get(f"{API_PREFIX}/images/models", self._list_image_models)
        app.router.add_get(f"{API_PREFIX}/images/models/{{author}}/{{slug}}/endpoints", self._image_model_endpoints)
        app.router.add_get("/files/{name}", self._file)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self.root_url = f"http://{self.host}:{port}"
        self.base_url = f"{self.root_url}{API_PREFIX}"

    async def stop(self) -> None:
        """Stop the server; hanging requests are dropped, in-flight handlers cancelled."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- scripting ------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        message: str | None = None,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        route: str | None = None,
    ) -> None:
        """Make the next ``times`` generations answer with an error body and HTTP ``status``.

        A generation is a chat completion or a POST /images; ``route="chat"`` or ``route="images"`` keeps the
        failure for that route only (the other route's requests pass it by). ``message``/``metadata``/``headers``
        left as None get per-status defaults; given ones replace the defaults entirely (pass ``headers={}`` for
        a 429 without Retry-After). On the Images API a 502 is a failed generation, not charged: its body has
        no usage or cost (and :attr:`RecordedRequest.cost` stays None).
        """
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next needs an error status, got {status}")
        if route is not None and route not in _ROUTES:
            raise ValueError(f"route must be one of {_ROUTES} or None, got {route!r}")
        for _ in range(times):
            meta = copy.deepcopy(metadata)
            self._script.append(
                _Failure(status, message, meta, dict(headers) if headers is not None else None, route)
            )

    def fault_next(self, kind: str, *, times: int = 1, route: str | None = None) -> None:
        """Make the next ``times`` generations misbehave; ``kind`` is one of :data:`FAULT_KINDS`.

        Kinds of one route only (:data:`CHAT_FAULT_KINDS`, :data:`IMAGE_FAULT_KINDS`) wait for a request of
        that route; shared kinds ("hang", "reset", "bad_json", "no_image", "not_an_image", "huge_image") hit
        the next generation of either route unless ``route`` names one.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if route is not None and route not in _ROUTES:
            raise ValueError(f"route must be one of {_ROUTES} or None, got {route!r}")
        own = "chat" if kind in _CHAT_ONLY_FAULTS else "images" if kind in _IMAGE_ONLY_FAULTS else None
        if route is not None and own is not None and route != own:
            raise ValueError(f"fault kind {kind!r} belongs to the {own} route, not {route}")
        for _ in range(times):
            self._script.append(_Fault(kind, route or own))

    def _pop_script(self, route: str) -> _Failure | _Fault | None:
        """Take the oldest scripted action meant for ``route`` (or for either route)."""
        for index, action in enumerate(self._script):
            if action.route in (None, route):
                del self._script[index]
                return action
        return None

    @property
    def pending_scripted(self) -> int:
        """How many scripted failures/faults are still queued."""
        return len(self._script)

    def clear(self) -> None:
        """Forget recorded requests, queued failures/faults, generations and served files."""
        self.requests.clear()
        self._script.clear()
        self.generations.clear()
        self.files.clear()

    def add_file(self, name: str, data: bytes, content_type: str = "image/png") -> str:
        """Serve ``data`` at GET /files/<name> (no auth needed) and return its absolute URL."""
        self.files[name] = (data, content_type)
        return f"{self.root_url}/files/{name}"

    # ---- inspection -----------------------------------------------------------------------

    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded POST /chat/completions requests, oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/chat/completions"]

    def image_requests(self) -> list[RecordedRequest]:
        """The recorded POST /images requests (the Images API), oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/images"]

    def image_model(self, model_id: str) -> ImageModel:
        """The entry of :attr:`image_models` for ``model_id`` (KeyError when absent): change it to script a test."""
        model = self._find_image_model(model_id)
        if model is None:
            raise KeyError(model_id)
        return model

    def image_endpoint(self, model_id: str, provider: str | None = None) -> ImageEndpoint:
        """One endpoint of an image model (the first, or the one whose slug/name is ``provider``); KeyError if none.

        E.g. ``fake.image_endpoint("bytedance-seed/seedream-4.5").supports_streaming = True`` makes it stream,
        ``.max_images = 1`` makes it return fewer images than ``n``, ``.rejects_multiple = True`` makes it
        reject ``n > 1``.
        """
        for endpoint in self.image_model(model_id).endpoints:
            if provider is None or provider.lower() in (endpoint.provider_slug.lower(), endpoint.provider_name.lower()):
                return endpoint
        raise KeyError(f"{model_id} has no endpoint {provider!r}")

    def _count(self, path: str | None) -> int:
        return sum(1 for r in self.requests if path is None or r.path == path)

    async def wait_for_requests(
        self, count: int, *, path: str | None = "/chat/completions", timeout: float = 5.0
    ) -> None:
        """Wait until at least ``count`` requests to ``path`` (None: any path) were recorded."""
        if self._cond is None:
            raise RuntimeError("FakeOpenRouter is not started")
        async with self._cond:
            try:
                async with asyncio.timeout(timeout):
                    await self._cond.wait_for(lambda: self._count(path) >= count)
            except TimeoutError:
                raise TimeoutError(
                    f"waited {timeout}s for {count} request(s) to {path}, got {self._count(path)}"
                ) from None

    async def wait_for_disconnects(self, count: int = 1, *, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` generations were abandoned by their client (connection closed)."""
        if self._disconnected is None:
            raise RuntimeError("FakeOpenRouter is not started")
        try:
            async with asyncio.timeout(timeout):
                while self.disconnects < count:
                    self._disconnected.clear()
                    await self._disconnected.wait()
        except TimeoutError:
            raise TimeoutError(
                f"waited {timeout}s for {count} client disconnect(s), got {self.disconnects}"
            ) from None

    def _client_went_away(self, record: RecordedRequest) -> None:
        """The handler was cancelled while the server runs: aiohttp does that when the client disconnects."""
        if self._stopping is not None and self._stopping.is_set():
            return
        record.disconnected = True
        self.disconnects += 1
        if self._disconnected is not None:
            self._disconnected.set()

    # ---- plumbing -------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        body = await request.read()
        parsed: Any | None = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        path = request.path
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            path = path[len(API_PREFIX) :] or "/"
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=Headers(request.headers.items()),
            json=parsed,
            body=body,
        )
        request[_RECORDED] = record
        self.requests.append(record)
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()

        if len(body) > self.max_request_bytes:
            return _error_response(413, "Request body too large")
        if not request.path.startswith("/files/"):
            auth = request.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _error_response(401, "No auth credentials found")
            if token.strip() != self.api_key:
                return _error_response(401, "User not found.")
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _error_response(exc.status, exc.reason or HTTPStatus(exc.status).phrase)

    def _find_model(self, model_id: str) -> dict[str, Any] | None:
        base = model_id.split(":", 1)[0]
        for model in self.models:
            if model.get("id") in (model_id, base) or model.get("canonical_slug") in (model_id, base):
                return model
        return None

    def _find_image_model(self, model_id: str) -> ImageModel | None:
        base = model_id.split(":", 1)[0]
        for model in self.image_models:
            if model.id in (model_id, base):
                return model
        return None

    def _serving_image_model(self, model_id: str) -> ImageModel | None:
        """The image model serving ``model_id``: its table entry, or a generic one when the table is empty."""
        if not self.image_models:
            return _generic_image_model(model_id)
        return self._find_image_model(model_id)

    def _model_provider_entries(self, model_id: str) -> list[dict[str, Any]]:
        base = model_id.split(":", 1)[0]
        slugs = (
            self.model_providers.get(model_id) or self.model_providers.get(base) or DEFAULT_MODEL_PROVIDERS
        )
        by_slug = {str(p.get("slug", "")).lower(): p for p in self.providers}
        entries: list[dict[str, Any]] = []
        for slug in slugs:
            known = by_slug.get(slug.lower())
            entries.append({"slug": slug, "name": known.get("name", slug) if known else slug})
        return entries

    @staticmethod
    def _matches(entry: dict[str, Any], names: Iterable[Any]) -> bool:
        wanted = {str(n).strip().lower() for n in names}
        return entry["slug"].lower() in wanted or entry["name"].lower() in wanted

    def _route(self, model_id: str, routing: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return (allowed providers in preference order, all providers of the model)."""
        entries = self._model_provider_entries(model_id)
        return self._apply_routing(entries, routing), entries

    @classmethod
    def _apply_routing(cls, entries: list[dict[str, Any]], routing: Any) -> list[dict[str, Any]]:
        """Filter and order ``entries`` (dicts with "slug" and "name") by provider ``only``/``ignore``/``order``."""
        allowed = list(entries)
        if isinstance(routing, dict):
            only = routing.get("only")
            if isinstance(only, list) and only:
                allowed = [e for e in allowed if cls._matches(e, only)]
            ignore = routing.get("ignore")
            if isinstance(ignore, list) and ignore:
                allowed = [e for e in allowed if not cls._matches(e, ignore)]
            order = routing.get("order")
            if isinstance(order, list) and order:
                ranked = [e for name in order for e in allowed if cls._matches(e, [name])]
                allowed = ranked + [e for e in allowed if e not in ranked]
        return allowed

    def _default_failure(
        self, status: int, payload: dict[str, Any], route: str = "chat"
    ) -> tuple[str, dict[str, Any]]:
        model = str(payload.get("model", ""))
        if route == "images":
            image_model = self._serving_image_model(model) if model else None
            providers = [{"slug": e.provider_slug, "name": e.provider_name} for e in image_model.endpoints] if (
                image_model is not None) else []
            allowed = self._apply_routing(providers, payload.get("provider"))
            provider_name = (allowed or providers or [{"name": "Fake Images"}])[0]["name"]
            prompt = str(payload.get("prompt") or "")
        else:
            providers = self._model_provider_entries(model) if model else []
            provider_name = providers[0]["name"] if providers else "Google Vertex"
            prompt = _last_user_text(payload)
        if status == 400:
            return "Provider returned error", {"provider_name": provider_name, "raw": "Bad request"}
        if status == 401:
            return "User not found.", {}
        if status == 402:
            return (
                "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
                {},
            )
        if status == 403:
            return (
                f'{model} requires moderation on {provider_name}. Your input was flagged for "violence"',
                {
                    "reasons": ["violence"],
                    "flagged_input": prompt[:100] + ("..." if len(prompt) > 100 else ""),
                    "provider_name": provider_name,
                    "model_slug": model,
                    "error_type": "content_policy_violation",
                },
            )
        if status == 404:
            return NO_ALLOWED_PROVIDERS, {"available_providers": [p["slug"] for p in providers]}
        if status == 408:
            return "Request timed out. Please try again.", {}
        if status == 413:
            return "Request body too large", {}
        if status == 429:
            return (
                f"{model} is temporarily rate-limited upstream. Please retry shortly.",
                {
                    "provider_name": provider_name,
                    "raw": f"{model} is temporarily rate-limited upstream.",
                    "error_type": "rate_limit_exceeded",
                },
            )
        if status == 502:
            return (
                "Provider returned error",
                {
                    "provider_name": provider_name,
                    "raw": json.dumps(
                        {
                            "error": {
                                "code": 500,
                                "message": "Internal error encountered.",
                                "status": "INTERNAL",
                            }
                        }
                    ),
                },
            )
        if status == 503:
            return "No available model provider that meets your routing requirements", {}
        if status == 524:
            return "Provider timed out", {"provider_name": provider_name}
        if status == 529:
            return "Provider returned error", {
                "provider_name": provider_name,
                "error_type": "provider_overloaded",
            }
        try:
            return HTTPStatus(status).phrase, {}
        except ValueError:
            return "Error", {}

    def _failure_response(self, failure: _Failure, payload: dict[str, Any], route: str = "chat") -> web.Response:
        default_message, default_metadata = self._default_failure(failure.status, payload, route)
        headers = failure.headers
        if headers is None:
            headers = {"Retry-After": "1"} if failure.status == 429 else {}
        return _error_response(
            failure.status,
            failure.message if failure.message is not None else default_message,
            failure.metadata if failure.metadata is not None else default_metadata,
            headers,
        )

    @staticmethod
    def _drop_connection(request: web.Request) -> None:
        request.protocol.force_close()
        transport = request.transport
        if transport is not None:
            transport.abort()

    # ---- chat completions -----------------------------------------------------------------

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        record = request[_RECORDED]
        try:
            return await self._answer_chat(request, record)
        except asyncio.CancelledError:
            self._client_went_away(record)  # handler_cancellation: the connection closed before the answer
            raise

    async def _answer_chat(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if self.hold is not None:
            await self.hold.wait()
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        payload = record.json
        if not isinstance(payload, dict):
            return _error_response(400, "Invalid JSON body")
        model = payload.get("model")
        messages = payload.get("messages")
        if not isinstance(model, str) or not model:
            return _error_response(400, "Missing required parameter: model")
        if not isinstance(messages, list) or not messages:
            return _error_response(400, 'Input required: specify "prompt" or "messages"')

        action = self._pop_script("chat")
        if action is not None:
            if isinstance(action, _Failure):
                return self._failure_response(action, payload)
            allowed, _ = self._route(model, payload.get("provider"))
            provider = allowed[0]["name"] if allowed else "Google Vertex"
            return await self._fault_response(request, action.kind, payload, provider)

        model_entry = self._find_model(model)
        if self.models and model_entry is None:
            return _error_response(404, f"Model {model} does not exist")
        allowed, entries = self._route(model, payload.get("provider"))
        if not allowed:
            return _error_response(
                404, NO_ALLOWED_PROVIDERS, {"available_providers": [e["slug"] for e in entries]}
            )
        raw_modalities = payload.get("modalities")
        modalities: list[Any] = raw_modalities if isinstance(raw_modalities, list) else []
        wants_image = "image" in modalities
        if wants_image and model_entry is not None:
            outputs = (model_entry.get("architecture") or {}).get("output_modalities")
            if isinstance(outputs, list) and "image" not in outputs:
                requested = ", ".join(str(m) for m in modalities)
                return _error_response(
                    404, f"No endpoints found that support the requested output modalities: {requested}"
                )
        if self.validate_input_images:
            for url, _part in _iter_image_parts(payload):
                problem = await asyncio.to_thread(_check_input_image, url)
                if problem is not None:
                    error_type, problem_text = problem
                    return _error_response(400, problem_text, {"error_type": error_type})

        if wants_image:
            size, size_error = self._requested_size(payload)
            if size_error is not None:
                return _error_response(400, size_error, {"provider_name": allowed[0]["name"]})
            urls = self.image_urls
            if urls is None:
                pngs = await self._render_many(size, self.image_count, self.image_padding)
                urls = await asyncio.to_thread(lambda: [_data_url(png) for png in pngs])
            images = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
            message: dict[str, Any] = {"role": "assistant", "content": self.image_text, "images": images}
            return self._completion_response(payload, allowed[0]["name"], message, image_count=len(images))
        reply = self.text_reply if self.text_reply is not None else DEFAULT_TEXT_REPLY
        return self._completion_response(
            payload, allowed[0]["name"], {"role": "assistant", "content": reply}, image_count=0
        )

    @staticmethod
    def _requested_size(payload: dict[str, Any]) -> tuple[tuple[int, int], str | None]:
        config = payload.get("image_config")
        config = config if isinstance(config, dict) else {}
        ratio = config.get("aspect_ratio", "1:1")
        image_size = config.get("image_size", "1K")
        if ratio not in ASPECT_RATIO_SIZES:
            return ASPECT_RATIO_SIZES["1:1"], f"Invalid aspect_ratio {ratio!r}; supported: " + ", ".join(
                ASPECT_RATIO_SIZES
            )
        if image_size not in IMAGE_SIZE_SCALE:
            return ASPECT_RATIO_SIZES["1:1"], f"Invalid image_size {image_size!r}; supported: 1K, 2K, 4K"
        width, height = ASPECT_RATIO_SIZES[ratio]
        scale = IMAGE_SIZE_SCALE[image_size]
        return (width * scale, height * scale), None

    @staticmethod
    async def _render_many(size: tuple[int, int], count: int, padding: int = 0) -> list[bytes]:
        width, height = size
        colors = [_PALETTE[i % len(_PALETTE)] for i in range(max(0, count))]
        tail = b"\0" * max(0, padding)
        return await asyncio.to_thread(lambda: [render_png(width, height, c) + tail for c in colors])

    def _completion(
        self, payload: dict[str, Any], provider: str, choice: dict[str, Any], *, image_count: int
    ) -> dict[str, Any]:
        gen_id = f"gen-{next(self._ids)}"
        prompt_tokens = sum(_estimate_tokens(_message_text(m)) for m in _iter_messages(payload))
        prompt_tokens += _INPUT_IMAGE_TOKENS * len(_iter_image_parts(payload))
        message = choice.get("message") or {}
        content = message.get("content")
        text_tokens = _estimate_tokens(content) if isinstance(content, str) and content else 0
        image_tokens = _IMAGE_TOKENS * image_count
        completion_tokens = text_tokens + image_tokens
        created = int(time.time())
        model = str(payload.get("model"))
        self.generations[gen_id] = {
            "id": gen_id,
            "model": model,
            "provider_name": provider,
            "total_cost": self.cost,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
            "latency": int(self.latency_s * 1000),
            "generation_time": int(self.latency_s * 1000),
            "tokens_prompt": prompt_tokens,
            "tokens_completion": completion_tokens,
            "native_tokens_prompt": prompt_tokens,
            "native_tokens_completion": completion_tokens,
            "num_media_completion": image_count,
            "finish_reason": choice.get("finish_reason"),
            "streamed": bool(payload.get("stream")),
        }
        return {
            "id": gen_id,
            "provider": provider,
            "model": model,
            "object": "chat.completion",
            "created": created,
            "choices": [choice],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "cost": self.cost,
                "is_byok": False,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": image_tokens},
            },
        }

    def _completion_response(
        self,
        payload: dict[str, Any],
        provider: str,
        message: dict[str, Any],
        *,
        image_count: int,
        finish_reason: str = "stop",
        error: dict[str, Any] | None = None,
    ) -> web.StreamResponse:
        choice: dict[str, Any] = {
            "logprobs": None,
            "finish_reason": finish_reason,
            "native_finish_reason": "STOP" if finish_reason == "stop" else finish_reason.upper(),
            "index": 0,
            "message": message,
        }
        if error is not None:
            choice["error"] = error
        completion = self._completion(payload, provider, choice, image_count=image_count)
        if payload.get("stream") is True:
            return self._sse_response(completion)
        return web.json_response(completion)

    @staticmethod
    def _sse_response(completion: dict[str, Any]) -> web.Response:
        """Render a finished completion as an SSE stream (one content chunk, one final chunk)."""
        base = {k: completion[k] for k in ("id", "provider", "model", "created")}
        base["object"] = "chat.completion.chunk"
        choice = completion["choices"][0]
        first_choice: dict[str, Any] = {"index": 0, "delta": choice["message"], "finish_reason": None}
        if "error" in choice:
            first_choice["error"] = choice["error"]
        last_choice = {
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "finish_reason": choice["finish_reason"],
            "native_finish_reason": choice["native_finish_reason"],
        }
        chunks = [
            {**base, "choices": [first_choice]},
            {**base, "choices": [last_choice], "usage": completion["usage"]},
        ]
        lines = [": OPENROUTER PROCESSING\n\n"]
        lines += [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
        lines.append("data: [DONE]\n\n")
        return web.Response(
            text="".join(lines), content_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def _fault_response(
        self, request: web.Request, kind: str, payload: dict[str, Any], provider: str
    ) -> web.StreamResponse:
        if kind == "hang":
            assert self._stopping is not None
            # Returns only when the server stops; a client giving up cancels this handler.
            await self._stopping.wait()
            self._drop_connection(request)
            return web.Response()
        if kind == "reset":
            self._drop_connection(request)
            return web.Response()
        if kind == "bad_json":
            return web.Response(text=_BAD_JSON_BODY, content_type="application/json")
        if kind == "error_in_200":
            error = {
                "code": 502,
                "message": "Provider returned error",
                "metadata": {"provider_name": provider, "raw": "upstream stream interrupted"},
            }
            return self._completion_response(
                payload,
                provider,
                {"role": "assistant", "content": ""},
                image_count=0,
                finish_reason="error",
                error=error,
            )
        if kind == "no_image":
            return self._completion_response(
                payload, provider, {"role": "assistant", "content": NO_IMAGE_TEXT}, image_count=0
            )

        size, _size_error = self._requested_size(payload)
        message: dict[str, Any] = {"role": "assistant", "content": self.image_text}
        if kind == "broken_data_url":
            message["images"] = [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!!notbase64"}}
            ]
            return self._completion_response(payload, provider, message, image_count=1)
        if kind == "not_an_image":
            message["images"] = [{"type": "image_url", "image_url": {"url": _data_url(_NOT_AN_IMAGE)}}]
            return self._completion_response(payload, provider, message, image_count=1)
        if kind == "huge_image":
            png = await asyncio.to_thread(render_png, *HUGE_IMAGE_SIZE)
            message["images"] = [{"type": "image_url", "image_url": {"url": _data_url(png)}}]
            return self._completion_response(payload, provider, message, image_count=1)

        pngs = await self._render_many(size, self.image_count, self.image_padding)
        if kind == "https_image":
            urls = [self.add_file(f"img-{next(self._ids)}.png", png) for png in pngs]
            message["images"] = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
        elif kind == "b64_json":
            message["images"] = [
                {"b64_json": base64.b64encode(png).decode("ascii"), "index": i} for i, png in enumerate(pngs)
            ]
        elif kind == "content_parts":
            message["content"] = [{"type": "text", "text": self.image_text}] + [
                {"type": "image_url", "image_url": {"url": _data_url(png)}} for png in pngs
            ]
        else:  # pragma: no cover - guarded by fault_next
            raise AssertionError(kind)
        return self._completion_response(payload, provider, message, image_count=len(pngs))

    # ---- the Images API -------------------------------------------------------------------

    async def _images(self, request: web.Request) -> web.StreamResponse:
        record = request[_RECORDED]
        self.images_in_flight += 1
        self.peak_images_in_flight = max(self.peak_images_in_flight, self.images_in_flight)
        try:
            return await self._answer_images(request, record)
        except asyncio.CancelledError:
            self._client_went_away(record)  # handler_cancellation: the connection closed before the answer
            raise
        finally:
            self.images_in_flight -= 1

    async def _answer_images(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if self.hold is not None:
            await self.hold.wait()
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        payload = record.json
        if not isinstance(payload, dict):
            return _error_response(400, "Invalid JSON body")
        problem = _validate_image_request(payload)
        if problem is not None:
            return _error_response(400, problem)
        if self.validate_input_images:
            for url in _reference_urls(payload):
                bad = await asyncio.to_thread(_check_input_image, url)
                if bad is not None:
                    return _error_response(400, bad[1], {"error_type": bad[0]})
        model_id: str = payload["model"]

        action = self._pop_script("images")
        if isinstance(action, _Failure):
            return self._failure_response(action, payload, "images")
        # A scripted fault replaces the answer whatever the model and parameters (as on the chat route).
        model = self._serving_image_model(model_id)
        if model is None:
            if action is None:
                return self._unknown_image_model(model_id)
            model = _generic_image_model(model_id)
        entries: list[dict[str, Any]] = [
            {"slug": e.provider_slug, "name": e.provider_name, "endpoint": e} for e in model.endpoints
        ]
        allowed = self._apply_routing(entries, payload.get("provider"))
        if not allowed and action is None:
            return _error_response(404, NO_ALLOWED_PROVIDERS, {"available_providers": [e["slug"] for e in entries]})
        chosen = allowed or entries
        endpoint: ImageEndpoint = chosen[0]["endpoint"] if chosen else _generic_image_model(model_id).endpoints[0]

        plan, refusal = self._plan_images(payload, model_id, endpoint)
        record.served_by = plan.provider
        if refusal is not None and action is None:
            return _error_response(400, *refusal)
        return await self._image_answer(request, record, plan, action.kind if action is not None else None)

    def _unknown_image_model(self, model_id: str) -> web.Response:
        if self._find_model(model_id) is not None:  # a chat-route model: /chat/completions serves it
            return _error_response(404, f"No image generation endpoints found for {model_id} on the Images API")
        return _error_response(404, f"Model {model_id} does not exist")

    def _plan_images(
        self, payload: dict[str, Any], model_id: str, endpoint: ImageEndpoint
    ) -> tuple[_ImagePlan, tuple[str, dict[str, Any] | None] | None]:
        """Work out the answer; the second item is a 400 (message, metadata) the endpoint gives instead."""
        params = endpoint.supported_parameters
        provider = endpoint.provider_name
        problem: tuple[str, dict[str, Any] | None] | None = None

        n: int = payload.get("n", 1)
        n_descriptor = params.get("n")
        if n_descriptor is None:
            count = 1  # a single-image endpoint: n is ignored (or rejected below)
        elif n_descriptor.get("type") == "range":
            count = max(1, min(n, int(n_descriptor.get("max", n))))  # n is an upper bound: clamp
        else:
            count = n
        if endpoint.max_images is not None:
            count = min(count, endpoint.max_images)
        if endpoint.rejects_multiple and n > 1:
            raw = f"n={n} is not supported: this model generates one image per request"
            problem = ("Provider returned error", {"provider_name": provider, "raw": raw})

        refs = _reference_urls(payload)
        used_refs = len(refs) if "input_references" in params else 0  # unsupported: ignored
        if used_refs > endpoint.max_input_references:
            problem = (
                f"Too many input_references for {model_id}: {used_refs} given, "
                f"{provider} accepts at most {endpoint.max_input_references}",
                {"provider_name": provider},
            )

        ratio_values = _enum_values(params.get("aspect_ratio"))
        ratio = str(payload.get("aspect_ratio", "1:1")) if ratio_values is not None else "1:1"
        if ratio_values:
            ratio = _nearest_ratio(ratio, ratio_values)  # providers clamp to their supported subset
        ratio = "1:1" if ratio == "auto" else ratio
        size_value = payload.get("size")
        pixels = _PIXEL_SIZE.match(size_value) if isinstance(size_value, str) else None
        if pixels is not None:  # an explicit pixel size is authoritative (the fake renders it exactly)
            size = (int(pixels[1]), int(pixels[2]))
            area_scale = size[0] * size[1] / (1024 * 1024)
        else:
            tier = str(size_value if size_value in RESOLUTION_SCALE else payload.get("resolution", "1K"))
            tier_values = _enum_values(params.get("resolution"))
            if tier_values is None:
                tier = "1K"
            elif tier_values:
                tier = _nearest_resolution(tier, tier_values)
            scale = RESOLUTION_SCALE[tier]
            width, height = _ratio_size(ratio)
            size = (max(16, round(width * scale)), max(16, round(height * scale)))
            area_scale = scale * scale

        quality_values = _enum_values(params.get("quality"))
        factor = 1.0
        if quality_values is not None:
            quality = str(payload.get("quality", "auto"))
            factor = _QUALITY_TOKEN_FACTOR[quality if not quality_values or quality in quality_values else "auto"]
        completion_tokens = max(1, round(endpoint.output_tokens * factor * area_scale))

        format_values = _enum_values(params.get("output_format"))
        output_format = str(payload.get("output_format", "png"))
        if format_values is None or (format_values and output_format not in format_values):
            output_format = "png"  # unsupported: the default
        if output_format not in _MEDIA_TYPES:
            output_format = "png"
        background_values = _enum_values(params.get("background"))
        transparent = (
            background_values is not None
            and payload.get("background") == "transparent"
            and (not background_values or "transparent" in background_values)
        )
        if transparent and output_format == "jpeg":
            problem = ("background 'transparent' needs an output_format with alpha (png or webp)", None)

        seed: Any = payload.get("seed")
        honoured_seed: int = seed if "seed" in params and _is_int(seed) else next(self._seeds)
        prompt_tokens = _estimate_tokens(str(payload["prompt"])) + _INPUT_IMAGE_TOKENS * used_refs
        input_cost, image_cost = _image_prices(
            endpoint.pricing, size, completion_tokens, prompt_tokens - _INPUT_IMAGE_TOKENS * used_refs, used_refs
        )
        if self.image_cost is not None:
            input_cost, image_cost = self.image_cost, 0.0
        fmt, media_type = _MEDIA_TYPES[output_format]
        plan = _ImagePlan(
            provider=provider,
            count=count,
            size=size,
            fmt=fmt,
            media_type=media_type,
            transparent=transparent,
            first_color=honoured_seed % len(_PALETTE),
            stream=payload.get("stream") is True and endpoint.supports_streaming,
            completion_tokens=completion_tokens,
            prompt_tokens=prompt_tokens,
            input_cost=input_cost,
            image_cost=image_cost,
        )
        return plan, problem

    @staticmethod
    def _image_usage(plan: _ImagePlan, images: int, *, with_input: bool = True) -> dict[str, Any]:
        """ImageGenerationUsage of ``images`` images (``with_input``: plus the prompt and its references)."""
        prompt = plan.prompt_tokens if with_input else 0
        completion = plan.completion_tokens * images
        cost = (plan.input_cost if with_input else 0.0) + plan.image_cost * images
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": round(cost, 10),
            "is_byok": False,
            "completion_tokens_details": {"image_tokens": completion},
        }

    async def _render_plan(self, plan: _ImagePlan, count: int, *, shrink: int = 1) -> list[bytes]:
        width, height = (max(1, side // shrink) for side in plan.size)
        colors = [_PALETTE[(plan.first_color + i) % len(_PALETTE)] for i in range(count)]
        tail = b"\0" * max(0, self.image_padding) if shrink == 1 else b""
        return await asyncio.to_thread(
            lambda: [render_image(width, height, c, plan.fmt, plan.transparent) + tail for c in colors]
        )

    async def _image_answer(
        self, request: web.Request, record: RecordedRequest, plan: _ImagePlan, kind: str | None
    ) -> web.StreamResponse:
        payload: dict[str, Any] = record.json if isinstance(record.json, dict) else {}
        if kind == "hang":
            assert self._stopping is not None
            await self._stopping.wait()  # returns only when the server stops
            self._drop_connection(request)
            return web.Response()
        if kind == "reset":
            self._drop_connection(request)
            return web.Response()
        if kind == "refusal":
            metadata = {
                "provider_name": plan.provider,
                "block_reason": BLOCK_REASON,
                "error_type": "content_policy_violation",
            }
            return _error_response(400, "The request was blocked by the provider's content policy", metadata)
        if kind == "stream_error" and not plan.stream:  # the buffered form of a failed generation
            return self._failure_response(_Failure(502, None, None, None), payload, "images")

        media_type = plan.media_type
        if kind == "huge_image":
            blobs = [await asyncio.to_thread(render_png, *HUGE_IMAGE_SIZE)]
            media_type = "image/png"
        elif kind == "not_an_image":
            blobs = [_NOT_AN_IMAGE]  # labelled as the requested format all the same
        else:
            count = {"no_image": 0, "fewer_images": min(1, plan.count)}.get(kind or "", plan.count)
            blobs = await self._render_plan(plan, count)
        items: list[dict[str, Any]] = []
        for blob in blobs:
            encoded = "!!!notbase64" if kind == "broken_b64" else base64.b64encode(blob).decode("ascii")
            item = {"b64_json": encoded, "media_type": media_type}
            if kind == "no_media_type":
                del item["media_type"]
            items.append(item)
        cost = round(plan.input_cost + plan.image_cost * len(items), 10) if items else 0.0  # all or nothing
        created = int(time.time())
        if plan.stream:
            return await self._image_stream(request, record, plan, kind, items, created, cost)

        body: dict[str, Any] = {"created": created, "data": items}
        if kind != "no_usage":
            body["usage"] = self._image_usage(plan, len(items)) if items else self._image_usage(plan, 0) | {"cost": 0.0}
        text = _BAD_IMAGES_JSON_BODY if kind == "bad_json" else await asyncio.to_thread(json.dumps, body)
        if kind == "stream_cut":  # the buffered form: half the body, then the connection closes
            data = text.encode()
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.content_length = len(data)
            await response.prepare(request)
            await response.write(data[: len(data) // 2])
            self._drop_connection(request)
            return response
        record.cost = cost
        return web.Response(text=text, content_type="application/json")

    async def _image_stream(
        self,
        request: web.Request,
        record: RecordedRequest,
        plan: _ImagePlan,
        kind: str | None,
        items: list[dict[str, Any]],
        created: int,
        cost: float,
    ) -> web.StreamResponse:
        """Answer as SSE (ImageStreamingResponse): per image its partials then one completed; then [DONE]."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        # Partial k of n is the image at 1/(8 * 2**(n-1-k)) of its size: previews get sharper, the last at 1/8.
        partials = [
            await self._render_plan(plan, len(items), shrink=8 * 2 ** (self.partial_images - 1 - k))
            for k in range(self.partial_images)
        ]

        async def send(event: dict[str, Any] | str) -> None:
            text = event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n"
            await response.write(text.encode())

        async def pause() -> None:
            if self.stream_interval_s > 0:
                await asyncio.sleep(self.stream_interval_s)

        try:
            await send(KEEPALIVE)
            if kind == "bad_json":
                await send('data: {"type": "image_generation.completed", "b64_json": "iVBORw0KGgoAAAA\n\n')
            for i, item in enumerate(items if kind != "bad_json" else []):
                for index in range(self.partial_images):
                    partial = base64.b64encode(partials[index][i]).decode("ascii")
                    await send(
                        {"type": "image_generation.partial_image", "partial_image_index": index, "b64_json": partial}
                    )
                    if kind == "stream_cut":
                        self._drop_connection(request)
                        return response
                    await pause()
                if kind == "stream_error":
                    await send(
                        {
                            "type": "error",
                            "error": {
                                "code": "upstream_error",
                                "message": f"{plan.provider} returned an error: the image generation failed",
                                "param": None,
                                "type": "provider_error",
                            },
                        }
                    )
                    break
                await send(KEEPALIVE)
                completed: dict[str, Any] = {"type": "image_generation.completed", "created": created, **item}
                if kind != "no_usage":
                    completed["usage"] = self._image_usage(plan, 1, with_input=i == 0)
                await send(completed)
                await pause()
            if kind == "stream_cut":  # no partial image to cut after
                self._drop_connection(request)
                return response
            await send("data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            self._client_went_away(record)
            return response
        if kind != "stream_error":
            record.cost = cost
        return response

    # ---- discovery and account ------------------------------------------------------------

    async def _list_models(self, request: web.Request) -> web.Response:
        raw = request.query.get("output_modalities")
        if raw is None or not raw.strip():
            wanted: set[str] | None = {"text"}
        else:
            parts = {p.strip().lower() for p in raw.split(",") if p.strip()}
            wanted = None if "all" in parts else parts

        def outputs(model: dict[str, Any]) -> set[str]:
            arch = model.get("architecture")
            mods = arch.get("output_modalities") if isinstance(arch, dict) else None
            return {str(m).lower() for m in mods} if isinstance(mods, list) else {"text"}

        data = [m for m in self.models if wanted is None or outputs(m) & wanted]
        return web.json_response({"data": data})

    async def _model_endpoints(self, request: web.Request) -> web.Response:
        model_id = f"{request.match_info['author']}/{request.match_info['slug']}"
        model = self._find_model(model_id)
        if model is None:
            return _error_response(404, f"Model {model_id} does not exist")
        endpoints = [
            {
                "name": f"{entry['name']} | {model['id']}",
                "model_name": model.get("name", model["id"]),
                "context_length": model.get("context_length", 0),
                "pricing": dict(model.get("pricing") or {}),
                "provider_name": entry["name"],
                "tag": entry["slug"],
                "quantization": None,
                "max_completion_tokens": 8192,
                "max_prompt_tokens": None,
                "supported_parameters": list(model.get("supported_parameters") or []),
                "status": 0,
                "uptime_last_30m": 99.5,
                "supports_implicit_caching": False,
            }
            for entry in self._model_provider_entries(model["id"])
        ]
        data = {
            "id": model["id"],
            "name": model.get("name", model["id"]),
            "created": model.get("created", 0),
            "description": model.get("description", ""),
            "architecture": model.get("architecture", {}),
            "endpoints": endpoints,
        }
        return web.json_response({"data": data})

    async def _list_image_models(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [model.to_list_item() for model in self.image_models]})

    async def _image_model_endpoints(self, request: web.Request) -> web.Response:
        model_id = f"{request.match_info['author']}/{request.match_info['slug']}"
        model = self._find_image_model(model_id)
        if model is None:
            return _error_response(404, f"Model {model_id} does not exist")
        return web.json_response(model.to_endpoints_response())

    async def _list_providers(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.providers})

    async def _key(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.key_info})

    async def _credits(self, request: web.Request) -> web.Response:
        limit = self.key_info.get("limit") or 0.0
        usage = self.key_info.get("usage") or 0.0
        return web.json_response({"data": {"total_credits": limit, "total_usage": usage}})

    async def _generation(self, request: web.Request) -> web.Response:
        gen_id = request.query.get("id", "")
        record = self.generations.get(gen_id)
        if record is None:
            return _error_response(404, f"Generation {gen_id} not found")
        return web.json_response({"data": record})

    async def _file(self, request: web.Request) -> web.Response:
        entry = self.files.get(request.match_info["name"])
        if entry is None:
            return _error_response(404, "Not Found")
        data, content_type = entry
        return web.Response(body=data, content_type=content_type)
